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
    // The dynamic relocation type "image base + addend" (a relocatable
    // vmlinux's .rela.dyn).
    virtual uint32_t relative() const = 0;
    // Whether a relocation type is PC-relative.
    virtual bool is_pc_relative(uint32_t type) const = 0;
    // How many bytes at the relocation's offset the linker writes (the
    // instruction word for AArch64's instruction relocations).
    virtual uint64_t field_len(uint32_t type) const = 0;

    // What a patch module needs to know about the running kernel's code
    // (kpatch-build/module/old_func_bytes.h, core_convert.h):
    //
    // How many bytes from a __mcount_loc address ftrace rewrites (x86_64:
    // the 5-byte call __fentry__; arm64: the two NOPs of
    // -fpatchable-function-entry=2, "mov x9, x30; bl <trampoline>" when
    // traced; a BTI landing pad before them stays as it is).
    virtual uint64_t ftrace_site_len() const = 0;
    // How many bytes at a __jump_table code address a static branch rewrites.
    virtual uint64_t jump_label_len() const = 0;
    // The bytes a relocation of the kernel image writes when KASLR moves it
    // (vmlinux keeps them in .rela.text or .rela.dyn); 0 for a type that
    // does not move with the image.
    virtual uint64_t kaslr_reloc_len(uint32_t type) const = 0;
    // Bytes of module text to reserve, for a call or jump to a symbol
    // kpatch.ko resolves at load, for a veneer in case the target is out of
    // the branch's reach (arm64: +-128 MiB, and module text lies anywhere in
    // a 2 GiB region with RANDOMIZE_MODULE_REGION_FULL); 0 when a branch of
    // that type always reaches (x86_64's rel32 spans the kernel and its
    // modules) or it is no branch.
    virtual uint64_t veneer_size(uint32_t type) const = 0;

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
