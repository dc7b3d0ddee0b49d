#include "kpatch-build/tree/tree_lock.h"

#include "kpatch-build/tree/tree_guard.h"
#include "kpatch-build/util/interrupt.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace kpp::build {

TreeLock::TreeLock(const std::filesystem::path &tree, std::chrono::milliseconds timeout,
                   const std::filesystem::path &journals_dir) {
    fd_ = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
        throw Error("cannot open {} to lock it: {}", tree.string(), std::strerror(errno));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        if (error != EWOULDBLOCK && error != EINTR) {
            ::close(fd_);
            throw Error("cannot lock {}: {}", tree.string(), std::strerror(error));
        }
        if (!waited_)
            log::info("waiting for another kpatch-build that is using {}", tree.string());
        waited_ = true;
        if (std::chrono::steady_clock::now() >= deadline) {
            ::close(fd_);
            throw Error("gave up waiting for another kpatch-build to finish with {}",
                        tree.string());
        }
        try {
            interrupt::throw_if_requested();
        } catch (...) {
            ::close(fd_);
            throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    try {
        replay_tree_journals(tree, journals_dir);
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

TreeLock::~TreeLock() {
    if (fd_ >= 0)
        ::close(fd_); // releases the flock
}

} // namespace kpp::build
