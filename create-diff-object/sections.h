// Kinds of sections in a kernel object, by the names the kernel and GCC give them.
#pragma once

#include "create-diff-object/arch.h"
#include "libkpp/elf/object.h"

#include <unordered_set>

namespace kpp::diff {

// Merged string literals: compared and copied by content.
bool is_string_section(const elf::Section &sec);
// Sections the linker merges by content (string literals, and constants of
// a fixed size in .rodata.cst16 and the like): nothing in the running
// kernel can be found at a known place in them, so what a patch uses of
// them is compared by value and copied.
bool is_constant_pool(const elf::Section &sec);

// When the running kernel runs a section's code and keeps its contents, as
// the kernel's linker script (include/asm-generic/vmlinux.lds.h,
// arch/x86/kernel/vmlinux.lds.S) and the module loader place them.
enum class SectionLife {
    Resident, // kept as long as the kernel or module: .text, .ref.text, .data, .ref.data
    Init,     // .init.*: runs while the kernel or module starts, then is freed
    // .meminit.*: kept and rerun on memory hotplug with CONFIG_MEMORY_HOTPLUG,
    // otherwise init code
    MemInit,
    // .exit.*: a module's runs when the module is unloaded; vmlinux never
    // runs its own (built-in code is never unloaded) and frees it after boot
    Exit,
};
SectionLife section_life(const elf::Section &sec);
// Sections that play no part in what the patched code does at run time
// (notes, debug info, export tables, initcall lists): never compared.
bool is_ignored_section(const elf::Section &sec);
// Data the kernel only reads (alloc, neither writable nor code): a copy in
// the patch module behaves exactly like the kernel's.
bool is_read_only_data(const elf::Section &sec);
// DWARF (.debug_info, .debug_line, ...): not compared, but copied into the
// output so that tools resolve addresses in the patched code.
bool is_debug_section(const elf::Section &sec);
// Sections the author's macros (kmod/patch/kpatchpp-macros.h) create.
bool is_author_section(const elf::Section &sec);
// The sections whose every symbol is a special static (see names.h).
// (arm64's $d mapping symbols mark data, they do not name any.)
std::unordered_set<const elf::Section *> special_static_sections(const elf::Object &obj,
                                                                 const Arch &arch);

} // namespace kpp::diff
