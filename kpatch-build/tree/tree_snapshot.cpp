#include "kpatch-build/tree/tree_snapshot.h"

#include <sys/stat.h>

namespace kpp::build {
namespace fs = std::filesystem;

TreeSnapshot TreeSnapshot::take(const fs::path &root) {
    TreeSnapshot snapshot;
    const size_t prefix = (root / "").string().size();
    auto options = fs::directory_options::skip_permission_denied;
    for (auto it = fs::recursive_directory_iterator(root, options);
         it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_symlink() || !it->is_regular_file())
            continue;
        struct stat st {};
        if (lstat(it->path().c_str(), &st) != 0)
            continue;
        FileState state{static_cast<uint64_t>(st.st_size),
                        int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
        snapshot.files_.emplace(it->path().string().substr(prefix), state);
    }
    return snapshot;
}

std::vector<std::string> TreeSnapshot::differences_from(const TreeSnapshot &before) const {
    std::vector<std::string> differences;
    for (const auto &[path, state] : files_) {
        auto old = before.files_.find(path);
        if (old == before.files_.end())
            differences.push_back("new: " + path);
        else if (!(old->second == state))
            differences.push_back("changed: " + path);
    }
    for (const auto &[path, state] : before.files_)
        if (!files_.contains(path))
            differences.push_back("removed: " + path);
    return differences;
}

} // namespace kpp::build
