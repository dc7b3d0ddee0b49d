#include "kpatch-build/header_deps.h"

#include "kpatch-build/command.h"
#include "kpatch-build/compiler_check.h"
#include "kpatch-build/kbuild_cmd.h"
#include "kpatch-build/kbuild_prepare.h"
#include "kpatch-build/object_build.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/tree_guard.h"
#include "kpatch-build/tree_lock.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <fstream>
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

void HeaderDependencies::add(const std::string &object, const std::vector<std::string> &files) {
    auto &ids = deps_[object];
    for (const auto &file : files) {
        auto [it, inserted] = file_ids_.emplace(file, files_.size());
        if (inserted)
            files_.push_back(file);
        ids.push_back(it->second);
    }
}

std::optional<std::vector<std::string>>
HeaderDependencies::objects_using(const std::string &path) const {
    if (!unscanned_.empty())
        return std::nullopt;
    std::vector<std::string> objects;
    auto id = file_ids_.find(path);
    if (id == file_ids_.end())
        return objects;
    for (const auto &[object, ids] : deps_)
        if (std::find(ids.begin(), ids.end(), id->second) != ids.end())
            objects.push_back(object);
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
        } else if (line[0] == 'X') {
            deps.unscanned_.insert(line.substr(2));
        } else {
            throw Error("{}: malformed line '{}'", file.string(), line);
        }
    }
    return deps;
}

namespace {

HeaderDependencies run_scan(const HeaderScanRequest &request, const Progress &progress) {
    TreeLock lock(request.tree);
    TreeGuard guard(request.tree, request.backup_dir);
    // Other KCFLAGS than the tree was prepared with rebuild these.
    guard.protect_all(files_prepare_may_rewrite(request.tree));
    std::vector<std::pair<std::string, std::string>> targets; // object, target
    for (const auto &object : request.objects) {
        std::string target = preprocess_target(request.tree, object);
        targets.emplace_back(object, target);
        guard.protect_all(files_written_by_build(target));
    }
    progress.stage(fmt::format("scanning the header dependencies of {} compile units (once per "
                               "release; log: {})",
                               targets.size(), request.log.string()));
    std::vector<std::string> argv = {"make", "-k", "-C", request.tree.string(),
                                     fmt::format("-j{}", request.jobs)};
    argv.insert(argv.end(), request.make_variables.begin(), request.make_variables.end());
    argv.push_back("CC=" + compiler_command());
    argv.push_back("KCFLAGS=" + object_kcflags());
    for (const auto &[object, target] : targets)
        argv.push_back(target);
    try {
        run_logged(argv, request.log);
    } catch (const CommandFailed &) {
        // -k went on past the units that failed; they are recorded below.
        log::warn("some compile units could not be preprocessed (see {})", request.log.string());
    }
    HeaderDependencies deps;
    for (const auto &[object, target] : targets) {
        std::ifstream in(request.tree / cmd_file_for(target));
        if (!in) {
            deps.add_unscanned(object);
            continue;
        }
        std::stringstream text;
        text << in.rdbuf();
        KbuildCommand cmd = parse_kbuild_command(text.str());
        std::vector<std::string> files = cmd.deps;
        files.push_back(cmd.source);
        for (auto &file : files)
            file = fs::path(file).lexically_normal().string();
        deps.add(object, files);
    }
    if (auto problems = guard.restore(); !problems.empty())
        throw Error("could not remove the scan's files from {}", request.tree.string());
    return deps;
}

} // namespace

HeaderDependencies scan_header_dependencies(const HeaderScanRequest &request,
                                            const Progress &progress) {
    if (fs::exists(request.cache))
        return HeaderDependencies::load(request.cache);
    HeaderDependencies deps = run_scan(request, progress);
    deps.save(request.cache);
    if (!deps.unscanned().empty())
        log::warn("{} compile unit(s) could not be scanned, e.g. {}", deps.unscanned().size(),
                  *deps.unscanned().begin());
    return deps;
}

} // namespace kpp::build
