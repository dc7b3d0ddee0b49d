// x86_64: instruction details the diff engine depends on.
#include "create-diff-object/arch.h"
#include "create-diff-object/source_location.h"

#include <algorithm>

namespace kpp::diff {
namespace {

using elf::Relocation;
using elf::Section;

// How many immediate bytes follow the 32-bit displacement of a
// RIP-relative operand whose ModRM byte sits just before the displacement.
int immediate_after_displacement(const std::vector<uint8_t> &code, uint64_t disp_offset) {
    // A relocation past the bytes (of a SHT_NOBITS "text", in a corrupt
    // object) has no instruction to look at.
    if (disp_offset < 2 || disp_offset > code.size())
        return 0;
    uint8_t modrm = code[disp_offset - 1];
    if ((modrm & 0xc7) != 0x05) // not mod=00 rm=101 (RIP-relative)
        return 0;
    uint8_t opcode = code[disp_offset - 2];
    bool two_byte = disp_offset >= 3 && code[disp_offset - 3] == 0x0f;
    bool operand16 = disp_offset >= 3 && code[disp_offset - 3] == 0x66;
    int reg = (modrm >> 3) & 7;
    if (two_byte)
        return opcode == 0xba ? 1 : 0; // bt/bts/btr/btc $imm8
    switch (opcode) {
    case 0x80:
    case 0x82:
    case 0x83:
    case 0xc0:
    case 0xc1:
    case 0xc6:
        return 1;
    case 0x81:
    case 0xc7:
        return operand16 ? 2 : 4;
    case 0xf6:
        return reg == 0 ? 1 : 0; // test $imm8
    case 0xf7:
        return reg == 0 ? (operand16 ? 2 : 4) : 0;
    case 0x69:
        return operand16 ? 2 : 4;
    case 0x6b:
        return 1;
    default:
        return 0;
    }
}

// Whether the call around [from, from + window) takes a source location:
// a helper known to take a line, or __func__ passed next to the line.
bool calls_line_taking_helper(const Section &text, uint64_t from, uint64_t window) {
    uint64_t begin = from > 32 ? from - 32 : 0;
    return refers_to_source_location(text, begin, from + window);
}

// Is [begin, end) inside the imm32 of "mov $imm32, %esi/%edx/%ecx" that is
// followed closely by a call to a helper taking a line number?
bool is_line_immediate(const Section &text, uint64_t begin, uint64_t end) {
    const auto &code = text.data;
    for (uint64_t back = 1; back <= 4 && back <= begin; back++) {
        uint64_t op = begin - back;
        uint8_t b = code[op];
        if (b != 0xbe && b != 0xba && b != 0xb9)
            continue;
        if (end > op + 5)
            continue;
        if (calls_line_taking_helper(text, op + 5, 48))
            return true;
    }
    return false;
}

// ENDBR64 (f3 0f 1e fa): with -fcf-protection=branch (CONFIG_X86_KERNEL_IBT)
// gcc puts it first in every function that may be reached indirectly.
bool endbr64_at(const std::vector<uint8_t> &code, uint64_t at) {
    return at + 4 <= code.size() && code[at] == 0xf3 && code[at + 1] == 0x0f &&
           code[at + 2] == 0x1e && code[at + 3] == 0xfa;
}

// The 5-byte NOP (nopl 0x0(%rax,%rax,1)) that stands in for a call.
bool nop5_at(const std::vector<uint8_t> &code, uint64_t at) {
    constexpr uint8_t kNop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
    return at + 5 <= code.size() && std::equal(std::begin(kNop5), std::end(kNop5), &code[at]);
}

class X86_64 final : public Arch {
  public:
    std::string_view name() const override { return "x86_64"; }

    int64_t target_offset(const Section &sec, const Relocation &rel) const override {
        if (!is_pc_relative(rel.type))
            return rel.addend;
        if (!sec.is_text())
            return rel.addend; // data: ".long sym - ." points exactly at sym+addend
        // In code the CPU adds the address of the next instruction. A
        // malformed object may hold any addend: wrap rather than overflow;
        // users bound-check the offset against the target anyway.
        uint64_t bias = 4 + immediate_after_displacement(sec.data, rel.offset);
        return static_cast<int64_t>(static_cast<uint64_t>(rel.addend) + bias);
    }

    bool has_ftrace_hook(const elf::Object &, const elf::Symbol &func) const override {
        if (!func.sec || !func.sec->rela)
            return false;
        // "call __fentry__" (e8 rel32) at entry, or right after ENDBR64;
        // objtool --mcount and recordmcount turn the call into a 5-byte NOP
        // and keep the relocation (R_X86_64_NONE).
        const auto &code = func.sec->data;
        uint64_t call = endbr64_at(code, func.value) ? func.value + 4 : func.value;
        if (call >= code.size() || (code[call] != 0xe8 && !nop5_at(code, call)))
            return false;
        for (const Relocation &r : func.sec->rela->relocs)
            if (r.offset == call + 1 && r.sym->name == "__fentry__")
                return true;
        return false;
    }

    std::string_view missing_ftrace_hook() const override {
        return "no call to __fentry__: notrace, or built without -mfentry";
    }

    // objtool --ibt lists in .ibt_endbr_seal the ENDBRs of functions whose
    // address it saw no one take; the loader then overwrites them with a
    // NOP (apply_ibt_endbr()). That verdict was about the original module,
    // not the patch module: there the new code is pointed at by the patch's
    // own tables and may have its address taken by new code. A seal copied
    // from the original would be wrong at best; leaving every ENDBR in place
    // is always safe. (When the kernel runs objtool on the module link, as
    // 6.1 does with IBT, objtool works the seal list out again for the whole
    // patch module.)
    bool drops_table(std::string_view section) const override {
        return section == ".ibt_endbr_seal";
    }

    bool differs_only_in_line_numbers(const Section &orig, const Section &patched) const override {
        if (orig.data.size() != patched.data.size())
            return false;
        const auto &a = orig.data;
        const auto &b = patched.data;
        bool any = false;
        for (uint64_t i = 0; i < a.size();) {
            if (a[i] == b[i]) {
                i++;
                continue;
            }
            uint64_t end = i;
            while (end < a.size() && a[end] != b[end])
                end++;
            if (!is_line_immediate(orig, i, end) || !is_line_immediate(patched, i, end))
                return false;
            any = true;
            i = end;
        }
        return any;
    }

    bool is_branch(const Section &text, const Relocation &rel) const override {
        if (rel.type == R_X86_64_PLT32) // what gas emits for call/jmp to a symbol
            return true;
        if (rel.type != R_X86_64_PC32 || rel.offset > text.data.size())
            return false;
        // Older assemblers: call/jmp rel32 (e8/e9) or jcc rel32 (0f 80..8f).
        // A RIP-relative operand's ModRM byte (mod 00, rm 101) is never one.
        const auto &code = text.data;
        uint64_t at = rel.offset;
        if (at >= 1 && (code[at - 1] == 0xe8 || code[at - 1] == 0xe9))
            return true;
        return at >= 2 && code[at - 2] == 0x0f && (code[at - 1] & 0xf0) == 0x80;
    }

    bool is_mapping_symbol(const elf::Symbol &) const override { return false; }

    uint32_t absolute64() const override { return R_X86_64_64; }
    uint32_t relative() const override { return R_X86_64_RELATIVE; }

    bool is_pc_relative(uint32_t type) const override {
        return type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_PC64;
    }

    uint64_t field_len(uint32_t type) const override {
        return type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
    }

    uint64_t ftrace_site_len() const override { return 5; } // call __fentry__
    uint64_t jump_label_len() const override { return 5; }  // jmp rel32 or a 5-byte nop

    uint64_t kaslr_reloc_len(uint32_t type) const override {
        switch (type) {
        case R_X86_64_64:
            return 8;
        case R_X86_64_32:
        case R_X86_64_32S:
            return 4;
        default:
            return 0;
        }
    }

    uint64_t veneer_size(uint32_t) const override { return 0; }
};

} // namespace

const Arch &x86_64_arch() {
    static const X86_64 arch;
    return arch;
}

} // namespace kpp::diff
