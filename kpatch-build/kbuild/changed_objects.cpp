#include "kpatch-build/kbuild/changed_objects.h"

#include "kpatch-build/kbuild/uncompiled_source.h"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <set>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool is_compiled_source(const std::string &path) {
    return path.ends_with(".c") || path.ends_with(".S");
}

// dir/file.c -> dir/file.o, if kbuild builds it.
std::string own_object(const ObjectLookup &lookup, const std::string &source) {
    if (!is_compiled_source(source))
        return "";
    std::string object = fs::path(source).replace_extension(".o").string();
    return lookup.builds(object) ? object : "";
}

std::string explain_users(const std::string &file, const std::vector<std::string> &users) {
    return fmt::format("{}: read by {} object(s): {}", file, users.size(),
                       fmt::join(users.begin(), std::min(users.end(), users.begin() + 8), " ")) +
           (users.size() > 8 ? " ..." : "");
}

} // namespace

ObjectSelection select_objects(const std::vector<TouchedFile> &touched,
                               const ObjectLookup &lookup) {
    ObjectSelection selection;
    std::set<std::string> objects;
    // Own objects and uncompiled sources first: they are cheap, and a patch
    // to an uncompiled file must not wait for a dependency scan.
    std::vector<std::string> read_files;
    for (const auto &file : touched) {
        if (std::string object = own_object(lookup, file.path); !object.empty()) {
            objects.insert(object);
            selection.explanations.push_back(fmt::format("{}: builds {}", file.path, object));
            continue;
        }
        if (is_compiled_source(file.path) && lookup.uncompiled) {
            if (auto reason = lookup.uncompiled(file.path)) {
                selection.uncompiled.push_back(*reason);
                selection.explanations.push_back(*reason);
                continue;
            }
        }
        read_files.push_back(file.path);
    }
    if (lookup.prepare_objects_using && !read_files.empty())
        lookup.prepare_objects_using(read_files);
    for (const auto &path : read_files) {
        auto users = lookup.objects_using(path);
        if (users && !users->empty()) {
            objects.insert(users->begin(), users->end());
            selection.explanations.push_back(explain_users(path, *users));
        } else if (users && lookup.users_are_complete) {
            std::string reason = fmt::format(
                "{}: no compile unit of this configuration reads it, so the patch to it changes "
                "nothing in this kernel",
                path);
            selection.uncompiled.push_back(reason);
            selection.explanations.push_back(reason);
        } else {
            selection.whole_tree = true;
            selection.explanations.push_back(
                users
                    ? fmt::format("{}: no built object compiles or includes it; cannot tell "
                                  "what it affects",
                                  path)
                    : fmt::format("{}: the dependency scan could not decide which objects read it",
                                  path));
        }
    }
    if (selection.whole_tree) {
        auto all = lookup.all_objects();
        objects.insert(all.begin(), all.end());
    }
    selection.objects.assign(objects.begin(), objects.end());
    return selection;
}

namespace {

ObjectLookup cmd_file_lookup(const fs::path &root,
                             const std::function<const KbuildIndex &()> &load_index) {
    ObjectLookup lookup;
    lookup.builds = [root](const std::string &object) {
        return fs::exists(root / cmd_file_for(object));
    };
    lookup.objects_using = [load_index](const std::string &path) {
        return std::optional(load_index().objects_using(path));
    };
    lookup.all_objects = [load_index] { return load_index().all_objects(); };
    return lookup;
}

} // namespace

ObjectSelection select_objects(const std::vector<TouchedFile> &touched, const fs::path &root,
                               const std::function<const KbuildIndex &()> &load_index) {
    return select_objects(touched, cmd_file_lookup(root, load_index));
}

ObjectLookup built_tree_lookup(const fs::path &root, const std::string &config_text) {
    auto index = std::make_shared<std::optional<KbuildIndex>>();
    ObjectLookup lookup = cmd_file_lookup(root, [index, root]() -> const KbuildIndex & {
        if (!*index)
            *index = KbuildIndex::scan(root);
        return **index;
    });
    lookup.uncompiled = [root, config_text](const std::string &source) {
        return uncompiled_source_reason(root, source, config_text);
    };
    return lookup;
}

} // namespace kpp::build
