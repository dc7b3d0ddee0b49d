// Kinds of sections in a kernel object, by the names the kernel and GCC give them.
#pragma once

#include "libkpp/elf/object.h"

#include <unordered_set>

namespace kpp::diff {

// Merged string literals: compared and copied by content.
bool is_string_section(const elf::Section &sec);
// Code and data used only while the kernel or module starts or exits.
bool is_init_section(const elf::Section &sec);
// Sections that play no part in what the patched code does at run time
// (notes, debug info, export tables, initcall lists): never compared.
bool is_ignored_section(const elf::Section &sec);
// Sections the author's macros (kmod/patch/kpatchpp-macros.h) create.
bool is_author_section(const elf::Section &sec);
// The sections whose every symbol is a special static (see names.h).
std::unordered_set<const elf::Section *> special_static_sections(const elf::Object &obj);

} // namespace kpp::diff
