// One kpatch-build at a time per kernel tree.
//
// Two runs on the same tree would each rebuild objects and kbuild's prepare
// outputs with their own flags and patched sources, and each TreeGuard
// would back up what the other had just written: the tree would end up
// with the other run's files and timestamps. TreeLock takes an exclusive
// flock(2) on the tree's directory itself (nothing is created in the tree),
// waits for the holder if there is one, and lets go when destroyed (or when
// the process dies, so a killed run never leaves a stale lock).
//
// Whoever holds the lock is the only run using the tree, so a journal of
// the tree that is still there belongs to a run that died before its
// restore: taking the lock replays it (replay_tree_journals(), tree_guard.h)
// before anyone reads the tree.
#pragma once

#include "kpatch-build/tree/tree_journal.h"

#include <chrono>
#include <filesystem>

namespace kpp::build {

class TreeLock {
  public:
    // Blocks until the lock is ours, polling so that SIGINT/SIGTERM/SIGHUP
    // throw Interrupted while waiting. Gives up with kpp::Error after
    // `timeout` (the message names the tree). Then replays the journals
    // of `tree` in `journals_dir` (and throws what the replay throws).
    explicit TreeLock(const std::filesystem::path &tree,
                      std::chrono::milliseconds timeout = std::chrono::hours(2),
                      const std::filesystem::path &journals_dir = default_journals_dir());
    ~TreeLock();
    TreeLock(const TreeLock &) = delete;
    TreeLock &operator=(const TreeLock &) = delete;

    // Whether the lock was held by someone else when we asked for it.
    bool waited() const { return waited_; }

  private:
    int fd_ = -1;
    bool waited_ = false;
};

} // namespace kpp::build
