#include "kpatch-build/update/update_mode.h"

#include "kpatch-build/distro/stock_kernel.h"
#include "kpatch-build/kbuild/compile_units.h"
#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/kbuild/uncompiled_source.h"
#include "kpatch-build/kpatch_build.h"
#include "kpatch-build/update/source_diff.h"
#include "kpatch-build/update/withdrawal.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/log.h"

#include <fstream>
#include <set>

#include <sys/wait.h>

namespace kpp::build::update {
namespace fs = std::filesystem;

namespace {

void require_newer(const std::string &from, const std::string &to) {
    std::string output;
    int status = run_capturing({"dpkg", "--compare-versions", to, "gt", from}, output);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("--update-to {}: not newer than {}, the source version the release was "
                    "built from",
                    to, from);
}

fs::path extract(const fs::path &tarball, const fs::path &dir, const fs::path &log) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    run_logged({"tar", "-xf", tarball.string(), "-C", dir.string(), "--strip-components=1"}, log);
    if (!fs::is_regular_file(dir / "Makefile"))
        throw Error("{} does not hold one kernel source directory", tarball.string());
    return dir;
}

// The uncompiled sources of `changed` (and, with `created_headers`, the
// headers the update creates), split by the tree that decides about them.
struct IncludeQuestions {
    std::vector<std::string> in_older, in_newer;
};

IncludeQuestions include_questions(const std::vector<TouchedFile> &changed,
                                   const std::function<bool(const std::string &)> &compiled) {
    IncludeQuestions questions;
    for (const auto &file : changed) {
        FileRole role = role_of(file.path);
        const bool created = file.change == FileChange::Created;
        if (role == FileRole::Header && created)
            questions.in_newer.push_back(file.path);
        if (role != FileRole::Source)
            continue;
        std::string object = object_of_source(file.path);
        if (created)
            questions.in_newer.push_back(file.path);
        else if (object.empty() || !compiled(object))
            questions.in_older.push_back(file.path);
    }
    return questions;
}

// Whether the newer tree's kbuild rule for a created source is enabled in
// this configuration (or has no CONFIG_ condition).
bool compiled_in_newer(const fs::path &newer, const std::string &source,
                       const std::string &config_text) {
    std::string rule = kbuild_rule_for(newer, source);
    if (rule.empty())
        return false;
    std::string symbol = config_symbol_of(rule);
    if (symbol.empty())
        return true;
    auto value = config_value(config_text, symbol);
    return value == "y" || value == "m";
}

std::string plural(size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// ", settled: 900 other, 120 not_compiled, ..." for the files settled
// without a build.
std::string settled_counts(const std::vector<FileAccount> &settled) {
    std::map<std::string, size_t> counts;
    for (const auto &file : settled)
        ++counts[std::string(file.refused_as.empty() ? outcome_name(file.outcome)
                                                     : file.refused_as)];
    std::vector<std::string> parts;
    for (const auto &[name, n] : counts)
        parts.push_back(fmt::format("{} {}", n, name));
    return parts.empty() ? "" : fmt::format("; settled: {}", fmt::join(parts, ", "));
}

} // namespace

UpdateState prepare_update(const Options &options, const KernelTree &kernel,
                           const fs::path &work_dir, const Progress &progress) {
    if (!kernel.stock)
        throw Error("--update-to needs a distribution kernel (-a REL)");
    const StockTree &stock = *kernel.stock;
    require_newer(stock.version, options.update_to);
    UpdateState state;
    state.report.release = stock.release;
    state.report.from_version = stock.version;
    state.report.to_version = options.update_to;

    progress.stage(fmt::format("finding the source of {}", options.update_to));
    fs::path newer_tarball =
        stock_distro(progress)->source_of_version(stock.release, options.update_to, state.uses);
    fs::path dir = work_dir / "update", log = work_dir / "update.log";
    progress.stage(
        fmt::format("extracting the sources of {} and {}", stock.version, options.update_to));
    fs::path older = extract(stock.source, dir / "older", log);
    state.newer_tree = extract(newer_tarball, dir / "newer", log);

    progress.stage("comparing the two sources");
    std::vector<TouchedFile> changed = changed_files(older, state.newer_tree);
    if (changed.empty())
        throw NoChange("{} and {} have the same source", stock.version, options.update_to);
    auto units = std::make_shared<CompileUnitIndex>(CompileUnitIndex::load(stock.units));
    state.compiled = [units](const std::string &object) { return units->contains(object); };
    std::string config_text = read_text_file_or_empty(kernel.config);

    IncludeQuestions questions = include_questions(changed, state.compiled);
    auto older_includers = files_including_any(older, questions.in_older);
    state.includers = files_including_any(state.newer_tree, questions.in_newer);
    SourceFacts facts;
    facts.compiled = state.compiled;
    facts.compiled_in_newer = [&](const std::string &source) {
        return compiled_in_newer(state.newer_tree, source, config_text);
    };
    facts.uncompiled_reason = [&](const std::string &source,
                                  bool in_newer) -> std::optional<std::string> {
        const auto &includers = in_newer ? state.includers : older_includers;
        if (auto it = includers.find(source); it != includers.end() && !it->second.empty())
            return std::nullopt;
        return not_compiled_reason(in_newer ? state.newer_tree : older, source, config_text);
    };
    UpdatePlan plan = plan_update(changed, facts);
    state.report.files = std::move(plan.settled);
    state.rebuild = std::move(plan.rebuild);
    progress.stage(fmt::format("{} differ: {} to rebuild{}", plural(changed.size(), "file"),
                               state.rebuild.size(), settled_counts(state.report.files)));
    state.patch = dir / "update.patch";
    std::ofstream(state.patch) << unified_diff(older, state.newer_tree, state.rebuild);
    return state;
}

namespace {

using ObjectsUsing = std::function<std::optional<std::vector<std::string>>(const std::string &)>;

// The compile units a changed file is part of: its own object, or the
// objects reading it; a file the update creates is part of the objects of
// the files including it.
std::vector<std::string> objects_of(const UpdateState &state, const TouchedFile &file,
                                    const ObjectsUsing &objects_using) {
    auto of_path = [&](const std::string &path) -> std::vector<std::string> {
        std::string object = object_of_source(path);
        if (role_of(path) == FileRole::Source && !object.empty() && state.compiled(object))
            return {object};
        return objects_using(path).value_or(std::vector<std::string>{});
    };
    if (file.change != FileChange::Created)
        return of_path(file.path);
    std::set<std::string> objects;
    if (auto it = state.includers.find(file.path); it != state.includers.end())
        for (const auto &includer : it->second)
            for (auto &object : of_path(includer))
                objects.insert(std::move(object));
    return {objects.begin(), objects.end()};
}

ObjectAccount account_of(const DiffOutcome &outcome) {
    ObjectAccount account{
        outcome.job.object, outcome.job.parent.name, Outcome::NoBinaryChange, "", "", {}};
    if (!outcome.refusal.empty()) {
        account.outcome = Outcome::Refused;
        account.refused_as = std::string(refusal_kind_name(outcome.refusal_kind));
        account.reason = outcome.refusal;
    } else if (!outcome.error.empty()) {
        // The diff engine failed on a real object: never a reason to stop the
        // whole update, always one to look at the engine.
        account.outcome = Outcome::Refused;
        account.refused_as = "diff_error";
        account.reason = outcome.error;
        log::warn("{}: the diff failed ({}); its changes are left out", outcome.job.object,
                  outcome.error);
    } else if (outcome.changed) {
        account.outcome = Outcome::Patched;
        for (const auto &function : outcome.functions)
            account.functions.push_back({function.name, function.is_new, function.part_of});
    }
    return account;
}

ObjectDependencies dependencies_of(const DiffOutcome &outcome, const ObjectAccount &account,
                                   const std::set<std::string> &headers, const fs::path &orig_dir,
                                   const fs::path &patched_dir) {
    ObjectDependencies deps;
    deps.object = outcome.job.object;
    deps.unavailable = account.outcome == Outcome::Refused;
    deps.changed = account.outcome == Outcome::Patched;
    deps.changed_headers = headers;
    if (!deps.unavailable && !deps.changed)
        return deps;
    if (deps.changed)
        deps.references = undefined_symbols(outcome.output);
    for (const auto &dir : {orig_dir, patched_dir})
        if (fs::exists(dir / outcome.job.object))
            deps.defines.merge(defined_globals(dir / outcome.job.object));
    return deps;
}

// A file's outcome from its objects': a source compiled into one object is
// that object; a header is patched only when none of the objects reading it
// is left out.
void settle_file(FileAccount &file, const std::map<std::string, ObjectAccount> &accounts) {
    if (file.objects.empty()) {
        file.outcome = Outcome::NotCompiled;
        file.reason = "no compile unit of this configuration reads it";
        return;
    }
    std::vector<const ObjectAccount *> left_out;
    bool patched = false;
    for (const auto &object : file.objects) {
        auto it = accounts.find(object);
        if (it == accounts.end())
            continue;
        patched |= it->second.outcome == Outcome::Patched;
        if (it->second.outcome == Outcome::Refused || it->second.outcome == Outcome::NeedsOther)
            left_out.push_back(&it->second);
    }
    const bool own_object = role_of(file.path) == FileRole::Source && file.objects.size() == 1 &&
                            object_of_source(file.path) == file.objects.front();
    if (own_object && !left_out.empty()) {
        file.outcome = left_out.front()->outcome;
        file.refused_as = left_out.front()->refused_as;
        file.reason = left_out.front()->reason;
    } else if (!left_out.empty()) {
        file.outcome = Outcome::NeedsOther;
        std::vector<std::string> names;
        for (size_t i = 0; i < left_out.size() && i < 3; ++i)
            names.push_back(
                fmt::format("{} ({})", left_out[i]->object, outcome_name(left_out[i]->outcome)));
        file.reason = fmt::format("its change is not applied in {} of its {}: {}{}",
                                  left_out.size(), plural(file.objects.size(), "object"),
                                  fmt::join(names, ", "), left_out.size() > 3 ? ", ..." : "");
    } else if (patched) {
        file.outcome = Outcome::Patched;
    } else {
        file.outcome = Outcome::NoBinaryChange;
        file.reason = fmt::format("none of its {} changes", plural(file.objects.size(), "object"));
    }
}

} // namespace

std::vector<fs::path> settle_update(UpdateState &state, const std::vector<DiffOutcome> &outcomes,
                                    const fs::path &orig_dir, const fs::path &patched_dir,
                                    const ObjectsUsing &objects_using) {
    // Which rebuilt files each object is part of.
    std::vector<FileAccount> rebuilt;
    std::map<std::string, std::set<std::string>> headers_of;
    for (const auto &file : state.rebuild) {
        FileAccount account{file.path, file.change, Outcome::NoBinaryChange,
                            "",        "",          objects_of(state, file, objects_using)};
        if (role_of(file.path) != FileRole::Source || account.objects.size() != 1 ||
            object_of_source(file.path) != account.objects.front())
            for (const auto &object : account.objects)
                headers_of[object].insert(file.path);
        rebuilt.push_back(std::move(account));
    }

    std::map<std::string, ObjectAccount> accounts;
    std::vector<ObjectDependencies> dependencies;
    for (const auto &outcome : outcomes) {
        ObjectAccount account = account_of(outcome);
        dependencies.push_back(dependencies_of(outcome, account, headers_of[outcome.job.object],
                                               orig_dir, patched_dir));
        accounts.emplace(account.object, std::move(account));
    }
    for (const auto &file : rebuilt)
        for (const auto &object : file.objects)
            if (!accounts.contains(object))
                accounts.emplace(object, ObjectAccount{object,
                                                       "",
                                                       Outcome::Refused,
                                                       "not_linked",
                                                       "not linked into vmlinux or a module: a "
                                                       "live patch cannot reach it",
                                                       {}});
    for (const auto &[object, reason] : withdraw_dependents(dependencies)) {
        ObjectAccount &account = accounts.at(object);
        account.outcome = Outcome::NeedsOther;
        account.reason = reason;
    }

    std::vector<fs::path> outputs;
    for (const auto &outcome : outcomes)
        if (accounts.at(outcome.job.object).outcome == Outcome::Patched)
            outputs.push_back(outcome.output);
    for (auto &file : rebuilt) {
        settle_file(file, accounts);
        state.report.files.push_back(std::move(file));
    }
    std::sort(state.report.files.begin(), state.report.files.end(),
              [](const FileAccount &a, const FileAccount &b) { return a.path < b.path; });
    for (auto &[object, account] : accounts)
        if (account.outcome != Outcome::NoBinaryChange)
            state.report.objects.push_back(std::move(account));
    return outputs;
}

std::vector<fs::path> write_update_report(const UpdateReport &report, const fs::path &output_dir,
                                          const std::string &name) {
    fs::path text = output_dir / (name + ".update.txt"),
             json = output_dir / (name + ".update.json");
    std::ofstream(text) << report_text(report);
    std::ofstream(json) << report_json(report).dump(2) << '\n';
    return {fs::absolute(text).lexically_normal(), fs::absolute(json).lexically_normal()};
}

} // namespace kpp::build::update
