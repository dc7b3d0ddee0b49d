#include "kpatch-build/tree/tree_guard.h"

#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// The highest ancestor of `relative` (below root) that does not exist yet:
// patch creates missing directories for new files, restore removes them.
fs::path first_missing_dir(const fs::path &root, const fs::path &relative) {
    fs::path dir;
    for (const auto &part : relative.parent_path()) {
        dir /= part;
        if (!fs::exists(root / dir))
            return dir;
    }
    return {};
}

void set_times(const fs::path &path, const struct timespec &atime, const struct timespec &mtime) {
    struct timespec times[2] = {atime, mtime};
    if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error("cannot reset the timestamps of {}: {}", path.string(), std::strerror(errno));
}

} // namespace

TreeGuard::TreeGuard(fs::path root, fs::path backup_dir)
    : root_(std::move(root)), backup_dir_(std::move(backup_dir)) {
    fs::create_directories(backup_dir_);
    old_temporaries_ = kbuild_temporaries();
}

// Kbuild's compiler probes (try-run) work in ROOT/.tmp_<pid>/ and delete it
// at the end of make; a make stopped by a signal leaves it behind.
std::vector<std::string> TreeGuard::kbuild_temporaries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(root_, ec))
        if (entry.path().filename().string().starts_with(".tmp_"))
            names.push_back(entry.path().filename().string());
    return names;
}

void TreeGuard::remove_new_kbuild_temporaries() const {
    for (const auto &name : kbuild_temporaries())
        if (std::find(old_temporaries_.begin(), old_temporaries_.end(), name) ==
            old_temporaries_.end())
            fs::remove_all(root_ / name);
}

TreeGuard::~TreeGuard() {
    try {
        restore();
    } catch (...) {
        // restore() reports its own problems; a destructor must not throw.
    }
}

fs::path TreeGuard::backup_path(const Entry &entry) const {
    return backup_dir_ / entry.relative;
}

void TreeGuard::protect(const fs::path &relative) {
    fs::path normal = relative.lexically_normal();
    if (normal.is_absolute() || normal.empty() || *normal.begin() == "..")
        throw Error("refusing to touch {}: it is outside the tree {}", relative.string(),
                    root_.string());
    if (std::find(known_.begin(), known_.end(), normal) != known_.end())
        return;
    Entry entry;
    entry.relative = normal;
    fs::path file = root_ / normal;
    struct stat st {};
    if (lstat(file.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            throw Error("refusing to touch {}: not a regular file", file.string());
        entry.existed = true;
        entry.atime = st.st_atim;
        entry.mtime = st.st_mtim;
        fs::create_directories(backup_path(entry).parent_path());
        fs::copy_file(file, backup_path(entry), fs::copy_options::overwrite_existing);
    } else {
        entry.created_dir = first_missing_dir(root_, normal);
    }
    known_.push_back(normal);
    entries_.push_back(std::move(entry));
    restored_ = false;
}

void TreeGuard::protect_all(const std::vector<std::string> &relative_paths) {
    for (const auto &path : relative_paths)
        protect(path);
}

void TreeGuard::restore_entry(const Entry &entry) const {
    fs::path file = root_ / entry.relative;
    if (!entry.existed) {
        fs::remove(file);
        if (!entry.created_dir.empty())
            fs::remove_all(root_ / entry.created_dir);
        return;
    }
    // Copy into a temporary name and rename: a crash half way leaves either
    // the old or the restored file, never a truncated one.
    fs::path temporary = file;
    temporary += ".kpatch-build-restore";
    fs::copy_file(backup_path(entry), temporary, fs::copy_options::overwrite_existing);
    fs::permissions(temporary, fs::status(backup_path(entry)).permissions());
    set_times(temporary, entry.atime, entry.mtime);
    fs::rename(temporary, file);
}

std::vector<std::string> TreeGuard::restore() {
    std::vector<std::string> problems;
    if (restored_)
        return problems;
    // Newest first, so a directory created for a new file goes after its file.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        try {
            restore_entry(*it);
        } catch (const std::exception &e) {
            problems.push_back(fmt::format("{}: {}", (root_ / it->relative).string(), e.what()));
        }
    }
    try {
        remove_new_kbuild_temporaries();
    } catch (const std::exception &e) {
        problems.push_back(fmt::format("{}/.tmp_*: {}", root_.string(), e.what()));
    }
    for (const auto &problem : problems)
        log::error("could not restore {} (the original is in {})", problem, backup_dir_.string());
    restored_ = problems.empty();
    return problems;
}

} // namespace kpp::build
