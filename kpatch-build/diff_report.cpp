#include "kpatch-build/diff_report.h"

#include <fmt/format.h>
#include <map>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// The diff's messages usually start with the object's name already.
std::string naming_object(const std::string &object, const std::string &message) {
    if (message.find(fs::path(object).filename().string()) != std::string::npos)
        return message;
    return fmt::format("{}: {}", object, message);
}

} // namespace

std::vector<std::string> describe_changes(const std::vector<DiffOutcome> &outcomes) {
    std::map<std::string, int> name_count;
    for (const auto &outcome : outcomes)
        if (outcome.changed)
            ++name_count[fs::path(outcome.job.object).filename().string()];
    std::vector<std::string> lines;
    for (const auto &outcome : outcomes) {
        if (!outcome.changed)
            continue;
        std::string name = fs::path(outcome.job.object).filename().string();
        std::string label = name_count[name] > 1 ? outcome.job.object : name;
        for (const auto &function : outcome.functions)
            lines.push_back(fmt::format("{}: {} function: {}", label,
                                        function.is_new ? "new" : "changed", function.name));
    }
    return lines;
}

nlohmann::json combined_report(const std::string &patch_name,
                               const std::vector<DiffOutcome> &outcomes) {
    nlohmann::json objects = nlohmann::json::array();
    for (const auto &outcome : outcomes) {
        nlohmann::json entry = {{"object", outcome.job.object},
                                {"parent", outcome.job.parent.name},
                                {"changed", outcome.changed},
                                {"report", outcome.report}};
        if (!outcome.refusal.empty())
            entry["refusal"] = outcome.refusal;
        if (!outcome.error.empty())
            entry["error"] = outcome.error;
        objects.push_back(std::move(entry));
    }
    return {{"patch_name", patch_name}, {"objects", std::move(objects)}};
}

std::vector<std::string> refusal_lines(const std::vector<DiffOutcome> &outcomes) {
    std::vector<std::string> lines;
    for (const auto &outcome : outcomes)
        if (!outcome.refusal.empty())
            lines.push_back(naming_object(outcome.job.object, outcome.refusal));
    return lines;
}

std::vector<std::string> error_lines(const std::vector<DiffOutcome> &outcomes) {
    std::vector<std::string> lines;
    for (const auto &outcome : outcomes)
        if (!outcome.error.empty())
            lines.push_back(naming_object(outcome.job.object, outcome.error));
    return lines;
}

} // namespace kpp::build
