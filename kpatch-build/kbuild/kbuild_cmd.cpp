#include "kpatch-build/kbuild/kbuild_cmd.h"

#include "libkpp/error.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// "NAME_TARGET := VALUE" -> VALUE if the line is that assignment.
bool take_assignment(std::string_view line, std::string_view prefix, std::string &target,
                     std::string &value) {
    if (!starts_with(line, prefix))
        return false;
    size_t op = line.find(" := ");
    if (op == std::string_view::npos)
        return false;
    target = std::string(line.substr(prefix.size(), op - prefix.size()));
    value = std::string(trim(line.substr(op + 4)));
    return true;
}

// One dependency-list line: "  include/linux/x.h \" or "  $(wildcard ...) \".
void add_dep_line(std::string_view line, std::vector<std::string> &deps) {
    line = trim(line);
    if (!line.empty() && line.back() == '\\')
        line = trim(line.substr(0, line.size() - 1));
    if (line.empty() || starts_with(line, "$("))
        return;
    deps.emplace_back(line);
}

// M= builds record absolute paths for the module's own files.
std::string relative_to(const std::string &root_prefix, const std::string &path) {
    if (starts_with(path, root_prefix))
        return path.substr(root_prefix.size());
    return path;
}

void make_relative_to(const fs::path &root, KbuildCommand &cmd) {
    std::string prefix = (root / "").string();
    cmd.source = relative_to(prefix, cmd.source);
    for (auto &dep : cmd.deps)
        dep = relative_to(prefix, dep);
}

} // namespace

KbuildCommand parse_kbuild_command(std::string_view text) {
    KbuildCommand cmd;
    std::istringstream in{std::string(text)};
    std::string line, target, value;
    bool in_deps = false;
    while (std::getline(in, line)) {
        if (in_deps) {
            add_dep_line(line, cmd.deps);
            in_deps = trim(line).ends_with("\\");
            continue;
        }
        if (take_assignment(line, "cmd_", target, value) ||
            take_assignment(line, "savedcmd_", target, value)) {
            cmd.target = target;
            cmd.command = value;
        } else if (take_assignment(line, "source_", target, value)) {
            cmd.source = value;
        } else if (take_assignment(line, "deps_", target, value)) {
            if (value != "\\")
                add_dep_line(value, cmd.deps);
            in_deps = value.ends_with("\\");
        }
    }
    return cmd;
}

std::string cmd_file_for(std::string_view object) {
    fs::path path(object);
    return (path.parent_path() / ("." + path.filename().string() + ".cmd")).string();
}

std::string object_for_cmd_file(std::string_view cmd_file) {
    fs::path path(cmd_file);
    std::string name = path.filename().string();
    if (!starts_with(name, ".") || !name.ends_with(".o.cmd"))
        return "";
    return (path.parent_path() / name.substr(1, name.size() - 1 - 4)).string();
}

bool is_kernel_compile_unit(const KbuildCommand &cmd) {
    if (!cmd.target.ends_with(".o") || cmd.target.ends_with(".mod.o"))
        return false;
    if (!cmd.source.ends_with(".c") && !cmd.source.ends_with(".S"))
        return false;
    return cmd.command.find("-D__KERNEL__") != std::string::npos;
}

KbuildIndex KbuildIndex::scan(const fs::path &root) {
    KbuildIndex index;
    auto options = fs::directory_options::skip_permission_denied;
    for (auto it = fs::recursive_directory_iterator(root, options);
         it != fs::recursive_directory_iterator(); ++it) {
        const std::string name = it->path().filename().string();
        if (it->is_directory() && (name == ".git" || name == "Documentation")) {
            it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file() || !starts_with(name, ".") || !name.ends_with(".o.cmd"))
            continue;
        std::ifstream in(it->path());
        std::stringstream text;
        text << in.rdbuf();
        KbuildCommand cmd = parse_kbuild_command(text.str());
        // M= builds record targets relative to the module directory; name
        // objects by where their .cmd file is, which is what we rebuild.
        cmd.target = object_for_cmd_file(fs::relative(it->path(), root).string());
        make_relative_to(root, cmd);
        if (is_kernel_compile_unit(cmd))
            index.units_.push_back(std::move(cmd));
    }
    std::sort(index.units_.begin(), index.units_.end(),
              [](const auto &a, const auto &b) { return a.target < b.target; });
    return index;
}

std::vector<std::string> KbuildIndex::objects_using(std::string_view path) const {
    std::vector<std::string> objects;
    for (const auto &unit : units_) {
        bool uses = unit.source == path ||
                    std::find(unit.deps.begin(), unit.deps.end(), path) != unit.deps.end();
        if (uses)
            objects.push_back(unit.target);
    }
    return objects;
}

std::vector<std::string> KbuildIndex::all_objects() const {
    std::vector<std::string> objects;
    for (const auto &unit : units_)
        objects.push_back(unit.target);
    return objects;
}

} // namespace kpp::build
