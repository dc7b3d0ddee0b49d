#include "kpatch-build/kbuild/header_deps.h"

#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/include_graph.h"
#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/kbuild/kbuild_prepare.h"
#include "kpatch-build/kbuild/kbuild_progress.h"
#include "kpatch-build/kbuild/object_build.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/tree/tree_guard.h"
#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

std::string preprocess_target(const fs::path &tree, const std::string &object) {
    fs::path base = fs::path(object).replace_extension();
    if (fs::exists(tree / (base.string() + ".c")))
        return base.string() + ".i";
    if (fs::exists(tree / (base.string() + ".S")))
        return base.string() + ".s";
    return base.string() + ".i";
}

namespace {

// Each unit's file ids sorted, so objects_using() binary-searches them: a
// stable update asks about ~90 headers read by ~4700 units each.
void sort_unique(std::vector<size_t> &ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

} // namespace

void HeaderDependencies::add(const std::string &object, const std::vector<std::string> &files) {
    auto &ids = deps_[object];
    for (const auto &file : files) {
        auto [it, inserted] = file_ids_.emplace(file, files_.size());
        if (inserted)
            files_.push_back(file);
        ids.push_back(it->second);
    }
    sort_unique(ids);
}

std::optional<std::vector<std::string>>
HeaderDependencies::objects_using(const std::string &path,
                                  const std::vector<std::string> &candidates) const {
    std::vector<std::string> objects;
    auto id = file_ids_.find(path);
    for (const auto &object : candidates) {
        if (unscanned_.contains(object))
            return std::nullopt;
        auto read = deps_.find(object);
        if (read == deps_.end())
            throw Error("internal error: {} was not scanned for its headers", object);
        if (id != file_ids_.end() &&
            std::binary_search(read->second.begin(), read->second.end(), id->second))
            objects.push_back(object);
    }
    return objects;
}

// F <path> lines give the files ids in order; U <object> <id>... and
// X <object> (could not be scanned) follow.
void HeaderDependencies::save(const fs::path &file) const {
    fs::path temporary = file;
    temporary += ".tmp";
    {
        std::ofstream out(temporary);
        for (const auto &path : files_)
            out << "F " << path << '\n';
        for (const auto &[object, ids] : deps_) {
            out << "U " << object;
            for (size_t id : ids)
                out << ' ' << id;
            out << '\n';
        }
        for (const auto &object : unscanned_)
            out << "X " << object << '\n';
        if (!out.flush())
            throw Error("cannot write {}", temporary.string());
    }
    fs::rename(temporary, file);
}

HeaderDependencies HeaderDependencies::load(const fs::path &file) {
    std::ifstream in(file);
    if (!in)
        throw Error("cannot read {}", file.string());
    HeaderDependencies deps;
    for (std::string line; std::getline(in, line);) {
        if (line.size() < 3 || line[1] != ' ')
            throw Error("{}: malformed line '{}'", file.string(), line);
        std::istringstream words(line.substr(2));
        if (line[0] == 'F') {
            deps.file_ids_.emplace(line.substr(2), deps.files_.size());
            deps.files_.push_back(line.substr(2));
        } else if (line[0] == 'U') {
            std::string object;
            words >> object;
            auto &ids = deps.deps_[object];
            for (size_t id; words >> id;) {
                if (id >= deps.files_.size())
                    throw Error("{}: file id {} out of range", file.string(), id);
                ids.push_back(id);
            }
            sort_unique(ids);
        } else if (line[0] == 'X') {
            deps.unscanned_.insert(line.substr(2));
        } else {
            throw Error("{}: malformed line '{}'", file.string(), line);
        }
    }
    return deps;
}

namespace {

// make -k GOALS in the tree with the object builds' variables; failures are
// left for the caller to find (a goal without its .cmd file).
void make_keep_going(const HeaderScanRequest &request, const std::vector<std::string> &goals) {
    std::vector<std::string> argv = {"make", "-k", "-C", request.tree.string(),
                                     fmt::format("-j{}", request.jobs)};
    argv.insert(argv.end(), request.make_variables.begin(), request.make_variables.end());
    argv.push_back("CC=" + compiler_command());
    argv.push_back("KCFLAGS=" + object_kcflags());
    argv.insert(argv.end(), goals.begin(), goals.end());
    try {
        run_logged(argv, request.log);
    } catch (const CommandFailed &) {
        log::debug("some goals failed (see {})", request.log.string());
    }
}

// The files kbuild recorded for `goal` (its source and deps), if it was built.
std::optional<std::vector<std::string>> recorded_inputs(const fs::path &tree,
                                                        const std::string &goal) {
    std::ifstream in(tree / cmd_file_for(goal));
    if (!in)
        return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    KbuildCommand cmd = parse_kbuild_command(text.str());
    std::vector<std::string> files = cmd.deps;
    files.push_back(cmd.source);
    for (auto &file : files)
        file = fs::path(file).lexically_normal().string();
    return files;
}

// Preprocesses `objects` and records what each read.
void run_scan(const HeaderScanRequest &request, const std::vector<std::string> &objects,
              HeaderDependencies &deps, const Progress &progress) {
    TreeLock lock(request.tree);
    TreeGuard guard(request.tree, request.backup_dir);
    // Other KCFLAGS than the tree was prepared with rebuild these.
    guard.protect_all(files_prepare_may_rewrite(request.tree));
    std::vector<std::string> targets;
    for (const auto &object : objects) {
        targets.push_back(preprocess_target(request.tree, make_goal(request.goals, object)));
        guard.protect_all(files_written_by_build(targets.back()));
    }
    progress.stage(fmt::format("preprocessing {} compile unit(s) to see which headers they read "
                               "(log: {})",
                               targets.size(), request.log.string()));
    {
        KbuildProgressTicker ticker(progress, request.log, "preprocessing", targets.size());
        make_keep_going(request, targets);
    }
    std::vector<std::string> failed;
    for (size_t i = 0; i < targets.size(); i++) {
        if (auto files = recorded_inputs(request.tree, targets[i]))
            deps.add(objects[i], *files);
        else
            failed.push_back(objects[i]);
    }
    // Units that include headers kbuild generates (x509.asn1.h, inat-tables.c)
    // only preprocess once those exist, and only the object's rule makes
    // them: build those objects (their .cmd files list the same deps).
    if (!failed.empty()) {
        progress.stage(
            fmt::format("compiling {} compile units that need generated headers", failed.size()));
        std::vector<std::string> goals;
        for (const auto &object : failed) {
            goals.push_back(make_goal(request.goals, object));
            guard.protect_all(files_written_by_build(goals.back()));
        }
        {
            KbuildProgressTicker ticker(progress, request.log, "compiling", goals.size());
            make_keep_going(request, goals);
        }
        for (const auto &object : failed) {
            if (auto files = recorded_inputs(request.tree, object))
                deps.add(object, *files);
            else
                deps.add_unscanned(object);
        }
    }
    if (auto problems = guard.restore(); !problems.empty())
        throw Error("could not remove the scan's files from {}", request.tree.string());
}

} // namespace

HeaderReaders::HeaderReaders(HeaderScanRequest request, const Progress &progress)
    : request_(std::move(request)), progress_(progress) {}

// The cache is read on first need: a patch of .c files only never needs it.
HeaderDependencies &HeaderReaders::deps() {
    if (!deps_) {
        deps_ = fs::exists(request_.cache) ? HeaderDependencies::load(request_.cache)
                                           : HeaderDependencies{};
    }
    return *deps_;
}

HeaderReaders::~HeaderReaders() = default;

const IncludeGraph &HeaderReaders::graph() {
    if (!graph_) {
        graph_ = std::make_unique<IncludeGraph>(
            IncludeGraph::scan(request_.tree, request_.objects, request_.goals));
        log::info("include graph of {} compile units: {} files; {} units are candidates for "
                  "every file (their includes cannot all be followed)",
                  request_.objects.size(), graph_->file_count(), graph_->opaque_objects().size());
    }
    return *graph_;
}

void HeaderReaders::scan(const std::vector<std::string> &objects) {
    std::vector<std::string> missing;
    for (const auto &object : objects)
        if (!deps().scanned(object))
            missing.push_back(object);
    if (missing.empty())
        return;
    size_t unscanned_before = deps().unscanned().size();
    run_scan(request_, missing, deps(), progress_);
    deps().save(request_.cache);
    if (deps().unscanned().size() > unscanned_before)
        log::warn("{} compile unit(s) could not be preprocessed, e.g. {}",
                  deps().unscanned().size() - unscanned_before, *deps().unscanned().begin());
}

void HeaderReaders::prepare(const std::vector<std::string> &paths) {
    std::set<std::string> candidates;
    for (const auto &path : paths)
        for (auto &object : graph().objects_possibly_reading(path))
            candidates.insert(std::move(object));
    scan({candidates.begin(), candidates.end()});
}

std::optional<std::vector<std::string>> HeaderReaders::objects_using(const std::string &path) {
    std::vector<std::string> candidates = graph().objects_possibly_reading(path);
    scan(candidates);
    return deps().objects_using(path, candidates);
}

} // namespace kpp::build
