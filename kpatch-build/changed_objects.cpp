#include "kpatch-build/changed_objects.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool is_compiled_source(const std::string &path) {
    return path.ends_with(".c") || path.ends_with(".S");
}

// dir/file.c -> dir/file.o, if kbuild built it (dir/.file.o.cmd exists).
std::string own_object(const fs::path &root, const std::string &source) {
    if (!is_compiled_source(source))
        return "";
    std::string object = fs::path(source).replace_extension(".o").string();
    return fs::exists(root / cmd_file_for(object)) ? object : "";
}

} // namespace

ObjectSelection select_objects(const std::vector<TouchedFile> &touched, const fs::path &root,
                               const std::function<const KbuildIndex &()> &load_index) {
    ObjectSelection selection;
    std::set<std::string> objects;
    for (const auto &file : touched) {
        if (std::string object = own_object(root, file.path); !object.empty()) {
            objects.insert(object);
            selection.explanations.push_back(fmt::format("{}: builds {}", file.path, object));
            continue;
        }
        auto users = load_index().objects_using(file.path);
        if (!users.empty()) {
            objects.insert(users.begin(), users.end());
            selection.explanations.push_back(
                fmt::format("{}: read by {} object(s): {}", file.path, users.size(),
                            fmt::join(users.begin(), std::min(users.end(), users.begin() + 8), " ")) +
                (users.size() > 8 ? " ..." : ""));
            continue;
        }
        selection.whole_tree = true;
        selection.explanations.push_back(fmt::format(
            "{}: no built object compiles or includes it; cannot tell what it affects", file.path));
    }
    if (selection.whole_tree) {
        auto all = load_index().all_objects();
        objects.insert(all.begin(), all.end());
    }
    selection.objects.assign(objects.begin(), objects.end());
    return selection;
}

} // namespace kpp::build
