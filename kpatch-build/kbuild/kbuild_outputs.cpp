#include "kpatch-build/kbuild/kbuild_outputs.h"

#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/kbuild/object_build.h"

#include <fstream>
#include <set>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool is_generated(const fs::path &root, const fs::path &file) {
    return fs::exists(root / file.parent_path() / ("." + file.filename().string() + ".cmd"));
}

KbuildCommand read_command(const fs::path &root, const std::string &object) {
    std::ifstream in(root / cmd_file_for(object));
    std::stringstream text;
    text << in.rdbuf();
    return parse_kbuild_command(text.str());
}

// The object's directory and those of its generated inputs.
void add_directories(const fs::path &root, const std::string &object, std::set<fs::path> &dirs) {
    dirs.insert(fs::path(object).parent_path());
    KbuildCommand cmd = read_command(root, object);
    std::vector<std::string> inputs = cmd.deps;
    inputs.push_back(cmd.source);
    for (const auto &input : inputs) {
        fs::path path = fs::path(input).lexically_normal();
        if (input.empty() || path.is_absolute() || *path.begin() == "..")
            continue;
        if (is_generated(root, path))
            dirs.insert(path.parent_path());
    }
}

// dir/.NAME.cmd -> dir/NAME (if it exists) and dir/.NAME.cmd
void add_generated_files(const fs::path &root, const fs::path &dir, std::set<std::string> &files) {
    if (!fs::is_directory(root / dir))
        return;
    for (const auto &entry : fs::directory_iterator(root / dir)) {
        std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || !name.starts_with(".") || !name.ends_with(".cmd"))
            continue;
        files.insert((dir / name).string());
        fs::path output = dir / name.substr(1, name.size() - 1 - 4);
        if (fs::is_regular_file(root / output))
            files.insert(output.string());
    }
}

// A directory building only blobs for its parent: it has objects, and none
// of them is linked anywhere.
bool is_helper_directory(const fs::path &root, const fs::path &dir,
                         const std::function<bool(const std::string &)> &is_linked) {
    bool has_objects = false;
    for (const auto &entry : fs::directory_iterator(root / dir)) {
        std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || !name.ends_with(".o") || name.starts_with("."))
            continue;
        has_objects = true;
        if (is_linked((dir / name).string()))
            return false;
    }
    return has_objects;
}

void add_helper_subdirectories(const fs::path &root, const fs::path &dir,
                               const std::function<bool(const std::string &)> &is_linked,
                               std::set<fs::path> &dirs) {
    if (!fs::is_directory(root / dir))
        return;
    for (const auto &entry : fs::directory_iterator(root / dir)) {
        if (!entry.is_directory() || entry.is_symlink())
            continue;
        fs::path sub = dir / entry.path().filename();
        if (is_helper_directory(root, sub, is_linked) && dirs.insert(sub).second)
            add_helper_subdirectories(root, sub, is_linked, dirs);
    }
}

} // namespace

std::vector<std::string>
files_a_rebuild_may_write(const fs::path &root, const std::vector<std::string> &objects,
                          const std::function<bool(const std::string &)> &is_linked) {
    std::set<fs::path> dirs;
    std::set<std::string> files;
    for (const auto &object : objects) {
        add_directories(root, object, dirs);
        for (auto &file : files_written_by_build(object))
            files.insert(std::move(file));
    }
    for (const auto &dir : std::set<fs::path>(dirs))
        add_helper_subdirectories(root, dir, is_linked, dirs);
    for (const auto &dir : dirs)
        add_generated_files(root, dir, files);
    return {files.begin(), files.end()};
}

} // namespace kpp::build
