// Original objects of a prepared stock tree; see original_objects.h.
#include "kpatch-build/kbuild/original_objects.h"

#include "kpatch-build/kbuild/object_build.h"

#include <fmt/format.h>
#include <functional>
#include <unistd.h>

namespace kpp::build {
namespace fs = std::filesystem;

OriginalObjects::OriginalObjects(const fs::path &prepared_tree, const std::string &compiler,
                                 const std::string &kcflags) {
    size_t key = std::hash<std::string>{}(compiler + '\n' + kcflags);
    dir_ = prepared_tree.parent_path() / "originals" / fmt::format("{:016x}", key);
}

bool OriginalObjects::copy_all(const std::vector<std::string> &objects,
                               const fs::path &dest) const {
    for (const auto &object : objects)
        if (!fs::is_regular_file(dir_ / object))
            return false;
    copy_objects(dir_, objects, dest);
    return true;
}

void OriginalObjects::keep(const fs::path &root, const std::vector<std::string> &objects) const {
    for (const auto &object : objects) {
        fs::path to = dir_ / object;
        fs::path temporary = to;
        temporary += fmt::format(".tmp.{}", getpid());
        fs::create_directories(to.parent_path());
        fs::copy_file(root / object, temporary, fs::copy_options::overwrite_existing);
        fs::rename(temporary, to);
    }
}

} // namespace kpp::build
