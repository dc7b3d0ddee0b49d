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

    // Whether the function starts with an ftrace call (__fentry__):
    // ftrace is how the kernel redirects it, so without one it cannot be patched.
    virtual bool has_ftrace_hook(const elf::Symbol &func) const = 0;

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

    // The relocation type for a 64-bit absolute address (metadata tables).
    virtual uint32_t absolute64() const = 0;
    // Whether a relocation type is PC-relative.
    virtual bool is_pc_relative(uint32_t type) const = 0;

    // The implementation for an object's machine; throws kpp::Error naming
    // the file when the machine is not supported.
    static const Arch &for_object(const elf::Object &obj);
};

} // namespace kpp::diff
