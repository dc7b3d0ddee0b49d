#include "libkpp/elf/libelf_handle.h"
#include "libkpp/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kpp::elf {

LibelfFile::LibelfFile(const std::string &path, Mode mode) {
    if (elf_version(EV_CURRENT) == EV_NONE)
        throw Error("libelf is too old: {}", elf_errmsg(-1));
    if (mode == Mode::Read) {
        fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            throw Error("{}: cannot open: {}", path, std::strerror(errno));
        struct stat st;
        if (fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode)) {
            close(fd_);
            throw Error("{}: not a regular file", path);
        }
        elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
        if (!elf_ || elf_kind(elf_) != ELF_K_ELF) {
            if (elf_)
                elf_end(elf_);
            close(fd_);
            throw Error("{}: not an ELF file", path);
        }
    } else {
        fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw Error("{}: cannot create: {}", path, std::strerror(errno));
        elf_ = elf_begin(fd_, ELF_C_WRITE, nullptr);
        if (!elf_) {
            close(fd_);
            throw Error("{}: cannot start writing ELF: {}", path, elf_errmsg(-1));
        }
    }
}

LibelfFile::~LibelfFile() {
    if (elf_)
        elf_end(elf_);
    if (fd_ >= 0)
        close(fd_);
}

} // namespace kpp::elf
