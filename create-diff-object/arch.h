// What the passes need to know about one machine's code. Every
// architecture-specific rule lives behind this interface; pass code never
// asks which machine it runs on.
#pragma once

#include "libkpp/elf/object.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace kpp::diff {

class Arch {
  public:
    virtual ~Arch() = default;
    virtual std::string_view name() const = 0;

    // The offset inside the target symbol or section that a relocation
    // points at. For PC-relative relocations in code this undoes the bias
    // the instruction encoding adds to the addend.
    virtual int64_t target_offset(const elf::Section &sec, const elf::Relocation &rel) const = 0;

    // Whether the function has the hook ftrace redirects it through
    // (x86_64: a call to __fentry__ at entry; arm64: NOPs at entry that
    // __patchable_function_entries of obj lists): without one it cannot be
    // patched.
    virtual bool has_ftrace_hook(const elf::Object &obj, const elf::Symbol &func) const = 0;
    // Why a function lacks that hook, for the refusal.
    virtual std::string_view missing_ftrace_hook() const = 0;

    // Whether the entries of a table of code sites must never be copied
    // into a patch module: tables that tell the module loader to take
    // something away from the code they point at, on the strength of an
    // analysis of the original object that the patch module invalidates.
    virtual bool drops_table(std::string_view section) const = 0;

    // Whether the only byte differences between two versions of a function
    // are __LINE__ values passed to the kernel's debug helpers
    // (__might_sleep, __warn_printk, ...), so the function did not change.
    virtual bool differs_only_in_line_numbers(const elf::Section &orig,
                                              const elf::Section &patched) const = 0;

    // Whether a relocation in code is the target of a direct call or jump,
    // rather than an address the code takes.
    virtual bool is_branch(const elf::Section &text, const elf::Relocation &rel) const = 0;

    // Whether a symbol only marks where code or data starts for
    // disassemblers (arm64's $x and $d): never copied into the output.
    virtual bool is_mapping_symbol(const elf::Symbol &sym) const = 0;

    // The relocation type for a 64-bit absolute address (metadata tables).
    virtual uint32_t absolute64() const = 0;
    // Whether a relocation type is PC-relative.
    virtual bool is_pc_relative(uint32_t type) const = 0;

    // The implementation for an object's machine; throws kpp::Error naming
    // the file, its machine and the supported ones when it is not supported.
    static const Arch &for_object(const elf::Object &obj);
};

// The implementations (arch_*.cpp); for_object() picks one (arch.cpp).
const Arch &x86_64_arch();
const Arch &aarch64_arch();

// The name of an ELF machine (EM_*), as the kernel's ARCH would say it.
std::string machine_name(uint16_t machine);

} // namespace kpp::diff
