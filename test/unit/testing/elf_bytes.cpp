#include "testing/elf_bytes.h"

#include <cstring>
#include <stdexcept>

namespace kpp::testing {

template <class T> T ElfBytes::load(size_t offset) const {
    if (offset + sizeof(T) > bytes_.size())
        throw std::runtime_error("ElfBytes: read past the end of the object");
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
}

template <class T> void ElfBytes::store(size_t offset, const T &value) {
    if (offset + sizeof(T) > bytes_.size())
        throw std::runtime_error("ElfBytes: write past the end of the object");
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
}

size_t ElfBytes::section_offset(size_t index) const {
    auto eh = load<Elf64_Ehdr>(0);
    if (index >= eh.e_shnum)
        throw std::runtime_error("ElfBytes: no section " + std::to_string(index));
    return eh.e_shoff + index * eh.e_shentsize;
}

Elf64_Shdr ElfBytes::section(size_t index) const {
    return load<Elf64_Shdr>(section_offset(index));
}

void ElfBytes::set_section(size_t index, const Elf64_Shdr &shdr) {
    store(section_offset(index), shdr);
}

std::string ElfBytes::string_at(size_t table, size_t offset) const {
    Elf64_Shdr strings = section(table);
    size_t at = strings.sh_offset + offset;
    return std::string(bytes_.c_str() + at, strnlen(bytes_.c_str() + at, bytes_.size() - at));
}

size_t ElfBytes::section_index(const std::string &name) const {
    auto eh = load<Elf64_Ehdr>(0);
    for (size_t i = 1; i < eh.e_shnum; i++)
        if (string_at(eh.e_shstrndx, section(i).sh_name) == name)
            return i;
    throw std::runtime_error("ElfBytes: no section " + name);
}

size_t ElfBytes::symtab_index() const {
    auto eh = load<Elf64_Ehdr>(0);
    for (size_t i = 1; i < eh.e_shnum; i++)
        if (section(i).sh_type == SHT_SYMTAB)
            return i;
    throw std::runtime_error("ElfBytes: no .symtab");
}

Elf64_Sym ElfBytes::symbol(size_t index) const {
    return load<Elf64_Sym>(section(symtab_index()).sh_offset + index * sizeof(Elf64_Sym));
}

void ElfBytes::set_symbol(size_t index, const Elf64_Sym &sym) {
    store(section(symtab_index()).sh_offset + index * sizeof(Elf64_Sym), sym);
}

size_t ElfBytes::symbol_index(const std::string &name) const {
    Elf64_Shdr symtab = section(symtab_index());
    for (size_t i = 1; i < symtab.sh_size / sizeof(Elf64_Sym); i++)
        if (string_at(symtab.sh_link, symbol(i).st_name) == name)
            return i;
    throw std::runtime_error("ElfBytes: no symbol " + name);
}

Elf64_Rela ElfBytes::relocation(const std::string &rela_section, size_t i) const {
    return load<Elf64_Rela>(section(section_index(rela_section)).sh_offset +
                            i * sizeof(Elf64_Rela));
}

void ElfBytes::set_relocation(const std::string &rela_section, size_t i, const Elf64_Rela &rela) {
    store(section(section_index(rela_section)).sh_offset + i * sizeof(Elf64_Rela), rela);
}

} // namespace kpp::testing
