#include "kpatch-build/distro/cache_use.h"

#include "libkpp/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace kpp::build::distro {

namespace {

int open_directory(const std::filesystem::path &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw Error("cannot open {} to lock it: {}", dir.string(), std::strerror(errno));
    return fd;
}

} // namespace

std::shared_ptr<CacheUse> CacheUse::shared(const std::filesystem::path &dir) {
    int fd = open_directory(dir);
    while (::flock(fd, LOCK_SH) != 0) {
        if (errno != EINTR) {
            int error = errno;
            ::close(fd);
            throw Error("cannot lock {}: {}", dir.string(), std::strerror(error));
        }
    }
    return std::shared_ptr<CacheUse>(new CacheUse(fd));
}

std::shared_ptr<CacheUse> CacheUse::try_exclusive(const std::filesystem::path &dir) {
    int fd = open_directory(dir);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return nullptr;
    }
    return std::shared_ptr<CacheUse>(new CacheUse(fd));
}

CacheUse::~CacheUse() {
    ::close(fd_);
}

} // namespace kpp::build::distro
