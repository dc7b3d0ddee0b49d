#include "kpatch-build/update/update_report.h"

#include <fmt/format.h>

#include <array>
#include <map>

namespace kpp::build::update {

namespace {

constexpr std::array kOutcomes = {
    Outcome::Patched,     Outcome::Refused,        Outcome::NeedsOther, Outcome::BuildRules,
    Outcome::NotCompiled, Outcome::NoBinaryChange, Outcome::Other};

std::string_view change_name(FileChange change) {
    switch (change) {
    case FileChange::Created:
        return "created";
    case FileChange::Deleted:
        return "deleted";
    case FileChange::Modified:
        break;
    }
    return "modified";
}

std::string_view heading(Outcome outcome) {
    switch (outcome) {
    case Outcome::Patched:
        return "Patched live";
    case Outcome::Refused:
        return "Refused (needs a reboot)";
    case Outcome::NeedsOther:
        return "Needs other changes that are refused (needs a reboot)";
    case Outcome::BuildRules:
        return "Build rules and configuration (needs a reboot)";
    case Outcome::NotCompiled:
        return "Not compiled in this configuration";
    case Outcome::NoBinaryChange:
        return "Compiled, but no object changes";
    case Outcome::Other:
        break;
    }
    return "Other files (not a C source, header or build rule)";
}

std::map<Outcome, size_t> file_counts(const UpdateReport &report) {
    std::map<Outcome, size_t> counts;
    for (const auto &file : report.files)
        ++counts[file.outcome];
    return counts;
}

std::map<std::string, size_t> refusals_by_reason(const UpdateReport &report) {
    std::map<std::string, size_t> counts;
    for (const auto &file : report.files)
        if (file.outcome == Outcome::Refused)
            ++counts[file.refused_as];
    return counts;
}

size_t patched_functions(const UpdateReport &report) {
    size_t n = 0;
    for (const auto &object : report.objects)
        if (object.outcome == Outcome::Patched)
            n += object.functions.size();
    return n;
}

size_t objects_with(const UpdateReport &report, Outcome outcome) {
    size_t n = 0;
    for (const auto &object : report.objects)
        n += object.outcome == outcome;
    return n;
}

std::string refusal_breakdown(const UpdateReport &report) {
    std::vector<std::string> parts;
    for (const auto &[kind, n] : refusals_by_reason(report))
        parts.push_back(fmt::format("{} {}", kind, n));
    return parts.empty() ? "" : fmt::format(" ({})", fmt::join(parts, ", "));
}

void append_file(std::string &text, const FileAccount &file) {
    text += fmt::format(
        "  {}{}", file.path,
        file.change == FileChange::Modified ? "" : fmt::format(" ({})", change_name(file.change)));
    if (!file.objects.empty() && file.objects.size() <= 4)
        text += fmt::format(" [{}]", fmt::join(file.objects, " "));
    else if (!file.objects.empty())
        text += fmt::format(" [{} objects]", file.objects.size());
    if (!file.refused_as.empty())
        text += fmt::format(" {}", file.refused_as);
    text += '\n';
    if (!file.reason.empty())
        text += fmt::format("      {}\n", file.reason);
}

} // namespace

std::string_view outcome_name(Outcome outcome) {
    switch (outcome) {
    case Outcome::Patched:
        return "patched";
    case Outcome::Refused:
        return "refused";
    case Outcome::NeedsOther:
        return "needs_other_changes";
    case Outcome::BuildRules:
        return "build_rules";
    case Outcome::NotCompiled:
        return "not_compiled";
    case Outcome::NoBinaryChange:
        return "no_binary_change";
    case Outcome::Other:
        break;
    }
    return "other";
}

bool needs_reboot(Outcome outcome) {
    return outcome == Outcome::Refused || outcome == Outcome::NeedsOther ||
           outcome == Outcome::BuildRules;
}

std::string summary_line(const UpdateReport &report) {
    auto counts = file_counts(report);
    size_t reboot = 0;
    for (const auto &[outcome, n] : counts)
        reboot += needs_reboot(outcome) ? n : 0;
    return fmt::format(
        "update {} -> {} on {}: {} changed files: {} patched ({} functions in {} objects), {} "
        "refused{}, {} need other changes, {} build rules, {} not compiled, {} without binary "
        "change, {} other; {} need a reboot",
        report.from_version, report.to_version, report.release, report.files.size(),
        counts[Outcome::Patched], patched_functions(report), objects_with(report, Outcome::Patched),
        counts[Outcome::Refused], refusal_breakdown(report), counts[Outcome::NeedsOther],
        counts[Outcome::BuildRules], counts[Outcome::NotCompiled], counts[Outcome::NoBinaryChange],
        counts[Outcome::Other], reboot == 0 ? "none" : fmt::format("{} files", reboot));
}

std::vector<std::string> reboot_lines(const UpdateReport &report, size_t limit) {
    std::vector<std::string> lines;
    size_t more = 0;
    for (const auto &file : report.files) {
        if (!needs_reboot(file.outcome))
            continue;
        if (lines.size() == limit) {
            ++more;
            continue;
        }
        lines.push_back(fmt::format("needs a reboot: {} ({}{})", file.path,
                                    outcome_name(file.outcome),
                                    file.refused_as.empty() ? "" : ", " + file.refused_as));
    }
    if (more > 0)
        lines.push_back(fmt::format("needs a reboot: {} more files (see the report)", more));
    return lines;
}

std::string_view review_notice() {
    return "this module carries a whole distribution update, built without a person reading "
           "each change: review it (and test it on a machine like the target) before loading "
           "it in production";
}

std::string report_text(const UpdateReport &report) {
    std::string text = summary_line(report) + "\n";
    text += fmt::format("NOTE: {}\n", review_notice());
    text += report.module.empty() ? "no module: nothing could be patched live\n"
                                  : fmt::format("module: {}\n", report.module);
    for (Outcome outcome : kOutcomes) {
        std::vector<const FileAccount *> files;
        for (const auto &file : report.files)
            if (file.outcome == outcome)
                files.push_back(&file);
        if (files.empty())
            continue;
        text += fmt::format("\n{} ({} files):\n", heading(outcome), files.size());
        for (const FileAccount *file : files)
            append_file(text, *file);
    }
    text += "\nObjects:\n";
    for (const auto &object : report.objects) {
        text += fmt::format("  {} ({}): {}{}\n", object.object, object.parent,
                            outcome_name(object.outcome),
                            object.refused_as.empty() ? "" : " " + object.refused_as);
        if (!object.reason.empty())
            text += fmt::format("      {}\n", object.reason);
        for (const auto &function : object.functions)
            text += fmt::format(
                "      {} function {}{}\n", function.is_new ? "new" : "changed", function.name,
                function.part_of.empty() ? "" : " (part of " + function.part_of + ")");
    }
    return text;
}

nlohmann::json report_json(const UpdateReport &report) {
    nlohmann::json counts = nlohmann::json::object();
    auto by_outcome = file_counts(report);
    for (Outcome outcome : kOutcomes)
        counts[std::string(outcome_name(outcome))] = by_outcome[outcome];
    nlohmann::json refused = nlohmann::json::object();
    for (const auto &[kind, n] : refusals_by_reason(report))
        refused[kind] = n;
    nlohmann::json files = nlohmann::json::array();
    for (const auto &file : report.files)
        files.push_back({{"path", file.path},
                         {"change", change_name(file.change)},
                         {"outcome", outcome_name(file.outcome)},
                         {"refused_as", file.refused_as},
                         {"reason", file.reason},
                         {"objects", file.objects}});
    nlohmann::json objects = nlohmann::json::array();
    for (const auto &object : report.objects) {
        nlohmann::json functions = nlohmann::json::array();
        for (const auto &function : object.functions)
            functions.push_back(
                {{"name", function.name}, {"new", function.is_new}, {"part_of", function.part_of}});
        objects.push_back({{"object", object.object},
                           {"parent", object.parent},
                           {"outcome", outcome_name(object.outcome)},
                           {"refused_as", object.refused_as},
                           {"reason", object.reason},
                           {"functions", functions}});
    }
    return {{"release", report.release},
            {"from_version", report.from_version},
            {"to_version", report.to_version},
            {"module", report.module},
            {"summary", summary_line(report)},
            {"notice", review_notice()},
            {"changed_files", report.files.size()},
            {"counts", counts},
            {"refused_by_reason", refused},
            {"files", files},
            {"objects", objects}};
}

} // namespace kpp::build::update
