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
//
// A run killed outright never gets to restore: for that, protect() records
// every file in an on-disk journal before returning (tree_journal.h), and
// the next run that locks the tree (TreeLock) replays what a dead run left
// with replay_tree_journals().
#pragma once

#include "kpatch-build/tree/tree_journal.h"

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kpp::build {

class TreeGuard {
  public:
    TreeGuard(std::filesystem::path root, std::filesystem::path backup_dir,
              std::filesystem::path journals_dir = default_journals_dir());
    ~TreeGuard();
    TreeGuard(const TreeGuard &) = delete;
    TreeGuard &operator=(const TreeGuard &) = delete;

    // `relative` is relative to the root. Protecting a file twice keeps the
    // first copy: that one is the original. On return the backups and the
    // journal lines are on disk.
    void protect(const std::filesystem::path &relative);
    void protect_all(const std::vector<std::string> &relative_paths);

    // Idempotent. Returns the problems it could not fix (also logged), empty
    // when the tree is back as it was; then the journal is removed too.
    std::vector<std::string> restore();

    size_t protected_count() const { return entries_.size(); }

  private:
    std::optional<JournalEntry> describe_and_back_up(const std::filesystem::path &relative);
    void record(const std::vector<JournalEntry> &entries);

    std::filesystem::path root_;
    std::filesystem::path backup_dir_;
    std::filesystem::path journals_dir_;
    std::optional<TreeJournal> journal_; // while something is protected and not restored
    std::vector<JournalEntry> entries_;
    std::set<std::filesystem::path> known_;    // for protect()'s duplicate check
    std::vector<std::string> old_temporaries_; // kbuild .tmp_* entries that were there before
    bool restored_ = false;
};

// Puts the tree at `root` back as the journals of dead runs describe it
// (newest journal first, each newest entry first, so the oldest backup of a
// file wins), first SIGKILLing the dead runs' commands still running, and
// removes the journals. Logs one warning line saying so. A journal of a tree
// that is no longer at `root` (removed and made anew) is dropped with a
// warning. Throws kpp::Error naming the tree, the journal and what to do when
// a backup is missing, before touching anything. Returns how many files were
// restored. The caller holds the tree's lock: TreeLock calls it.
size_t replay_tree_journals(const std::filesystem::path &root,
                            const std::filesystem::path &journals_dir = default_journals_dir());

} // namespace kpp::build
