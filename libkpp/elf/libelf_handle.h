// RAII ownership of a file descriptor and its libelf handle.
#pragma once

#include <libelf.h>

#include <string>

namespace kpp::elf {

class LibelfFile {
  public:
    enum class Mode { Read, Write };
    // Throws kpp::Error naming the path when the file cannot be opened or,
    // for reading, is not an ELF file.
    LibelfFile(const std::string &path, Mode mode);
    ~LibelfFile();
    LibelfFile(const LibelfFile &) = delete;
    LibelfFile &operator=(const LibelfFile &) = delete;

    Elf *elf() const { return elf_; }

  private:
    int fd_ = -1;
    Elf *elf_ = nullptr;
};

} // namespace kpp::elf
