// Test helper: an ELF64 object held as its bytes, edited in place the way a
// corrupt file or a fuzzer would, by section and symbol name.
#pragma once

#include <elf.h>

#include <cstddef>
#include <string>

namespace kpp::testing {

class ElfBytes {
  public:
    explicit ElfBytes(std::string bytes) : bytes_(std::move(bytes)) {}
    const std::string &bytes() const { return bytes_; }

    // Section header `index`, and the index of the section called `name`
    // (throws std::runtime_error when there is none).
    Elf64_Shdr section(size_t index) const;
    void set_section(size_t index, const Elf64_Shdr &shdr);
    size_t section_index(const std::string &name) const;

    // Symbol `index` of .symtab, and the index of the symbol called `name`.
    Elf64_Sym symbol(size_t index) const;
    void set_symbol(size_t index, const Elf64_Sym &sym);
    size_t symbol_index(const std::string &name) const;

    // Relocation `i` of the SHT_RELA section called `rela_section`.
    Elf64_Rela relocation(const std::string &rela_section, size_t i) const;
    void set_relocation(const std::string &rela_section, size_t i, const Elf64_Rela &rela);

  private:
    template <class T> T load(size_t offset) const;
    template <class T> void store(size_t offset, const T &value);
    size_t section_offset(size_t index) const;
    size_t symtab_index() const;
    std::string string_at(size_t table, size_t offset) const;

    std::string bytes_;
};

} // namespace kpp::testing
