#include "kpatch-build/kbuild/object_build.h"

#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

#include <cstdlib>

namespace kpp::build {
namespace fs = std::filesystem;

std::string object_kcflags() {
    std::string flags = "-ffunction-sections -fdata-sections";
    if (const char *user = std::getenv("KCFLAGS"); user && *user)
        flags = std::string(user) + " " + flags;
    return flags;
}

std::vector<std::string> object_make_command(const BuildTree &tree,
                                             const ObjectBuildRequest &request) {
    std::vector<std::string> argv = {"make", "-C", tree.kernel_dir.string(),
                                     fmt::format("-j{}", request.jobs),
                                     "KCFLAGS=" + object_kcflags()};
    argv.insert(argv.end(), tree.make_variables.begin(), tree.make_variables.end());
    if (std::getenv("CC"))
        argv.push_back("CC=" + compiler_command());
    if (tree.external_module)
        argv.push_back("M=" + tree.root.string());
    for (const auto &object : request.objects)
        argv.push_back(make_goal(tree.goals, object));
    argv.insert(argv.end(), request.extra_targets.begin(), request.extra_targets.end());
    return argv;
}

std::string make_goal(const std::map<std::string, std::string> &goals, const std::string &object) {
    auto goal = goals.find(object);
    return goal == goals.end() ? object : goal->second;
}

std::map<std::string, std::string> goals_from_cmd_files(const fs::path &root,
                                                        const std::vector<std::string> &objects) {
    std::map<std::string, std::string> goals;
    for (const auto &object : objects) {
        std::string text = read_text_file_or_empty(root / cmd_file_for(object));
        if (text.empty())
            continue;
        std::string target = parse_kbuild_command(text).target;
        if (!target.empty() && target != object &&
            fs::path(target).lexically_normal() == fs::path(object))
            goals[object] = target;
    }
    return goals;
}

std::vector<std::string> files_written_by_build(const std::string &object) {
    fs::path path(object);
    std::string dependency_file =
        (path.parent_path() / ("." + path.filename().string() + ".d")).string();
    return {object, cmd_file_for(object), dependency_file};
}

void build_objects(const BuildTree &tree, const ObjectBuildRequest &request, const fs::path &log) {
    run_logged(object_make_command(tree, request), log);
}

void copy_objects(const fs::path &root, const std::vector<std::string> &objects,
                  const fs::path &dest) {
    for (const auto &object : objects) {
        fs::path from = root / object;
        if (!fs::is_regular_file(from))
            throw Error("make did not produce {}", from.string());
        fs::create_directories((dest / object).parent_path());
        fs::copy_file(from, dest / object, fs::copy_options::overwrite_existing);
    }
}

} // namespace kpp::build
