// The on-disk record of a TreeGuard, so that a kpatch-build killed outright
// (SIGKILL, the OOM killer, a power cut) does not leave the user's tree
// patched with nobody knowing how to put it back.
//
// Each guard keeps one journal file, outside the tree, in a directory of the
// tree's own (journal_dir_of()): a header line naming the tree, then one
// line per protected file (path, whether it existed, mode, timestamps, size,
// where its backup is). Every write is made durable before the guard lets
// the caller touch the file: the backup is synced, then its line is appended
// and synced, so after any kill the journal lists every file that may have
// changed, and every listed backup is complete. A kill in the middle of an
// append leaves at most a torn last line, which named a file not yet
// touched and is ignored. The header appears by rename, whole or not at all.
// The guard removes its journal once the tree is restored; the next run
// that locks the tree replays what is left (replay_tree_journals(),
// tree_guard.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <vector>

namespace kpp::build {

// One protected file, as restore needs it.
struct JournalEntry {
    std::filesystem::path relative; // below the tree's root
    bool existed = false;
    mode_t mode = 0;
    uint64_t size = 0;
    struct timespec atime {};
    struct timespec mtime {};
    std::filesystem::path backup;      // absolute; empty when the file did not exist
    std::filesystem::path created_dir; // the first directory that did not exist, if any
};

// What identifies the guarded tree and the run that guarded it.
struct JournalHeader {
    std::filesystem::path tree;
    // The root directory's identity: a tree made anew at the same path is
    // another tree, and its journal is stale. Not the device number, which
    // can change across the reboot after a power cut (btrfs, LVM).
    uint64_t inode = 0;
    int64_t birth_ns = 0; // 0 where the filesystem keeps no birth time
    pid_t pid = 0;
    int64_t created_ns = 0; // replay goes newest journal first
    std::string run_id;     // run_marker.h: finds the run's commands still running
    std::filesystem::path backup_dir;
    // kbuild's .tmp_* probe directories in the root before the run: the
    // others are the killed make's.
    std::vector<std::string> temporaries_before;
};

// A journal read back from disk.
struct JournalContents {
    std::filesystem::path file;
    JournalHeader header;
    std::vector<JournalEntry> entries; // in the order they were protected
};

// KPP_STATE_DIR, else $XDG_STATE_HOME/kpatchpp, else ~/.local/state/kpatchpp;
// with "tree-journals" appended. State rather than a cache or $TMPDIR: it
// must survive a reboot and a cache cleanup.
std::filesystem::path default_journals_dir();

// Where the journals of the tree at `root` live under `journals_dir`: one
// directory per tree, named after its canonical path (readable, with a
// hash so that two paths never share one).
std::filesystem::path journal_dir_of(const std::filesystem::path &root,
                                     const std::filesystem::path &journals_dir);

class TreeJournal {
  public:
    // Creates the journal file of a new guard of `header.tree`, header
    // included, durably; fills in the header's identity fields (inode,
    // birth time, pid, time, run id). Throws kpp::Error naming what failed.
    TreeJournal(JournalHeader header, const std::filesystem::path &journals_dir);
    ~TreeJournal();
    TreeJournal(const TreeJournal &) = delete;
    TreeJournal &operator=(const TreeJournal &) = delete;

    // Appends the entries and syncs the journal. The backups they name must
    // be durable already (sync_backups()).
    void append(const std::vector<JournalEntry> &entries);

    // After a complete restore: the journal is gone for good.
    void remove();

    const std::filesystem::path &file() const { return file_; }

  private:
    std::filesystem::path file_;
    int fd_ = -1;
};

// Makes the backup copies just written under `backup_dir` durable: each
// file's data, and every directory from the files' up to backup_dir's
// parent (new entries). Per file rather than syncfs(2), whose cost grows
// with whatever else — a kernel build — has written to that filesystem.
void sync_backups(const std::vector<std::filesystem::path> &files,
                  const std::filesystem::path &backup_dir);

// The journal files of the tree at `root` (unordered); removes the
// temporaries of headers that never got renamed into place (no file of the
// tree was touched under them).
std::vector<std::filesystem::path> leftover_journals(const std::filesystem::path &root,
                                                     const std::filesystem::path &journals_dir);

// Whether `root` is still the directory a journal's header describes.
bool same_tree(const JournalHeader &header, const std::filesystem::path &root);

// Reads a journal; a torn last line is dropped. Throws kpp::Error naming
// the file when it is damaged anywhere else.
JournalContents read_journal(const std::filesystem::path &file);

} // namespace kpp::build
