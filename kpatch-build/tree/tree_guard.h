// Keeps the user's kernel tree exactly as it was.
//
// kpatch-build patches sources and rebuilds objects inside the tree. Before
// any file is touched it is protect()ed: its bytes, mode and timestamps are
// copied to the work directory, or its absence is noted. restore() puts every
// protected file back — timestamps included, so that kbuild does not see a
// newer source and rebuild half the kernel afterwards — and deletes files (and
// the directories made for them) that did not exist. The destructor restores,
// so success, an exception and an interrupt (which is turned into an
// exception) all end with the tree unchanged.
#pragma once

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace kpp::build {

class TreeGuard {
  public:
    TreeGuard(std::filesystem::path root, std::filesystem::path backup_dir);
    ~TreeGuard();
    TreeGuard(const TreeGuard &) = delete;
    TreeGuard &operator=(const TreeGuard &) = delete;

    // `relative` is relative to the root. Protecting a file twice keeps the
    // first copy: that one is the original.
    void protect(const std::filesystem::path &relative);
    void protect_all(const std::vector<std::string> &relative_paths);

    // Idempotent. Returns the problems it could not fix (also logged), empty
    // when the tree is back as it was.
    std::vector<std::string> restore();

    size_t protected_count() const { return entries_.size(); }

  private:
    struct Entry {
        std::filesystem::path relative;
        bool existed = false;
        struct timespec atime {};
        struct timespec mtime {};
        std::filesystem::path created_dir; // the first directory that did not exist, if any
    };

    std::filesystem::path backup_path(const Entry &entry) const;
    std::vector<std::string> kbuild_temporaries() const;
    void remove_new_kbuild_temporaries() const;
    void restore_entry(const Entry &entry) const;

    std::filesystem::path root_;
    std::filesystem::path backup_dir_;
    std::vector<Entry> entries_;
    std::vector<std::filesystem::path> known_; // for protect()'s duplicate check
    std::vector<std::string> old_temporaries_; // kbuild .tmp_* entries that were there before
    bool restored_ = false;
};

} // namespace kpp::build
