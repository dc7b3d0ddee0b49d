// Which cache entries are in use: a run holds a shared flock(2) on every
// cached directory it reads (its prepared release, its unpacked packages)
// until it ends; pruning removes an entry only if it gets the exclusive lock
// at once. The kernel drops the locks of a process that dies.
#pragma once

#include <filesystem>
#include <memory>

namespace kpp::build::distro {

class CacheUse {
  public:
    // A shared lock on `dir` (waits only for an exclusive holder: a prune
    // that is removing it, after which the caller finds it gone).
    static std::shared_ptr<CacheUse> shared(const std::filesystem::path &dir);
    // The exclusive lock if nobody uses `dir`, else null.
    static std::shared_ptr<CacheUse> try_exclusive(const std::filesystem::path &dir);

    ~CacheUse();
    CacheUse(const CacheUse &) = delete;
    CacheUse &operator=(const CacheUse &) = delete;

  private:
    explicit CacheUse(int fd) : fd_(fd) {}
    int fd_;
};

} // namespace kpp::build::distro
