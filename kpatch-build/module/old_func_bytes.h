// What a kmod/core patch module checks about each function it replaces
// (docs/core.md, "First bytes"): the function's address and size in the
// vmlinux the patch is built against, and its first kOldBytes bytes with a
// mask of the ones the running kernel keeps as they are in the file.
//
// The kernel rewrites parts of its text at boot and at run time; those bytes
// are masked out (0), all others must match (0xff):
//   __mcount_loc             the ftrace site: x86_64's __fentry__ call (5
//                            bytes), which ftrace makes a nop, or a call to
//                            its trampoline while traced; arm64's two NOPs
//                            of -fpatchable-function-entry=2 (8 bytes),
//                            "mov x9, x30; bl <trampoline>" when traced (a
//                            BTI "c" landing pad before them is kept)
//   .altinstructions         alternative instructions (instrlen bytes)
//   .retpoline_sites         indirect thunk calls/jumps (up to 6 bytes)
//   .return_sites            return thunk jumps (5 bytes)
//   .smp_locks               lock prefixes (1 byte), dropped on one CPU
//   .parainstructions        paravirt call sites (len bytes)
//   __jump_table             static branches (x86_64 5 bytes, arm64 4)
//   .static_call_sites       inline static calls (5 bytes)
//   .ibt_endbr_seal          ENDBR64 sealed to a nop under IBT (4 bytes)
//   .rela.text (if present)  absolute references KASLR relocates (4/8 bytes;
//   .rela.dyn on arm64)
// Table layouts are those of Linux 6.1; the x86_64-only tables
// (.retpoline_sites ... .parainstructions) do not exist in an arm64 vmlinux.
// What differs by architecture comes from diff::Arch.
#pragma once

#include "libkpp/elf/object.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kpp::build {

// KPP_CORE_OLD_BYTES in kmod/core/kpatchpp-core.h.
inline constexpr size_t kOldBytes = 16;

struct OldFunction {
    uint64_t addr = 0;
    uint64_t size = 0;
    std::array<uint8_t, kOldBytes> bytes{};
    std::array<uint8_t, kOldBytes> mask{};
};

class VmlinuxText {
  public:
    // Reads the symbol table and the patch-site tables above. Throws
    // kpp::Error naming the file on malformed input.
    explicit VmlinuxText(const std::string &path);

    // Link-time address of _text (the core subtracts it from the running
    // kernel's _text to get the KASLR offset).
    uint64_t text_addr() const { return text_addr_; }

    // The function `name`: the sympos-th of that name in address order
    // (kallsyms order), or with sympos 0 the only one. Throws kpp::Error if
    // there is none, or several for sympos 0.
    OldFunction function(const std::string &name, uint64_t sympos) const;

    // The address of `name` when it is data: the sympos-th symbol of that
    // name in address order (kallsyms order), or with sympos 0 the only one,
    // lying in an allocated, non-executable section other than per-CPU data
    // (kallsyms gives per-CPU offsets unmoved by KASLR). nullopt otherwise:
    // the core then looks the name up in kallsyms, which lists data only
    // with CONFIG_KALLSYMS_ALL (kpp_core_reloc.addr).
    std::optional<uint64_t> data_address(const std::string &name, uint64_t sympos) const;

    // [start, end) ranges of text the kernel may rewrite, sorted.
    const std::vector<std::pair<uint64_t, uint64_t>> &unstable() const { return unstable_; }

  private:
    std::vector<uint8_t> read(uint64_t addr, uint64_t len) const;
    std::vector<uint8_t> read_section(const std::string &name) const;
    std::vector<Elf64_Rela> read_relas(const std::string &name) const;
    std::vector<uint8_t> read_between(const std::string &start, const std::string &stop,
                                      uint64_t *addr) const;
    void collect_unstable();

    std::string path_;
    std::unique_ptr<elf::Object> obj_;
    uint64_t text_addr_ = 0;
    std::vector<std::pair<uint64_t, uint64_t>> unstable_;
};

} // namespace kpp::build
