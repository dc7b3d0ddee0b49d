// AArch64 (arm64): instruction details the diff engine depends on.
//
// Every instruction is one little-endian 32-bit word. A relocation's
// target is S + A whatever the instruction (the CPU's PC bias is in the
// relocation's formula, not in the addend), so the offset a relocation
// points at is its addend.
#include "create-diff-object/arch.h"
#include "create-diff-object/source_location.h"

#include <cstring>
#include <optional>

namespace kpp::diff {
namespace {

using elf::Relocation;
using elf::Section;

constexpr uint32_t kNop = 0xd503201f;
// BTI c and BTI jc: first in a function that may be reached indirectly
// when the kernel is built with CONFIG_ARM64_BTI_KERNEL.
constexpr uint32_t kBtiC = 0xd503245f;
constexpr uint32_t kBtiJc = 0xd50324df;
// gcc's -fpatchable-function-entry=N,M puts M of the N NOPs before the
// function's symbol (arm64 uses 2,0 in 6.1; 4,2 from 6.4 with
// CONFIG_DYNAMIC_FTRACE_WITH_CALL_OPS). Accept up to this many bytes.
constexpr uint64_t kMaxNopsBeforeEntry = 4 * 4;

std::optional<uint32_t> word_at(const Section &text, uint64_t offset) {
    // (A malformed record may point anywhere: no overflow in the check.)
    if (offset % 4 != 0 || offset > text.data.size() || text.data.size() - offset < 4)
        return std::nullopt;
    uint32_t word;
    std::memcpy(&word, text.data.data() + offset, 4);
    return word;
}

bool nop_at(const Section &text, uint64_t offset) {
    return word_at(text, offset) == kNop;
}

// Where a relocation in __patchable_function_entries points inside the
// text section it names.
std::optional<uint64_t> patchable_site(const Relocation &r) {
    if (r.type != R_AARCH64_ABS64 || !r.sym->sec)
        return std::nullopt;
    uint64_t base = r.sym->is_section() ? 0 : r.sym->value;
    return base + static_cast<uint64_t>(r.addend);
}

// Whether a patchable-entry record at `site` is func's: its two NOPs are
// the function's first instructions (after a BTI landing pad), or start
// in the NOPs gcc put right before the function's symbol.
bool site_hooks(const Section &text, uint64_t site, uint64_t func) {
    uint64_t entry = func;
    if (auto first = word_at(text, func); first == kBtiC || first == kBtiJc)
        entry += 4;
    if (!nop_at(text, entry) || !nop_at(text, entry + 4))
        return false;
    if (site == entry || site == func)
        return true;
    if (site > func || func - site > kMaxNopsBeforeEntry)
        return false;
    for (uint64_t at = site; at < func; at += 4)
        if (!nop_at(text, at))
            return false;
    return true;
}

// MOVZ Wd/Xd, #imm16 (shift 0): how gcc puts a small constant such as a
// line number into an argument register.
struct MoveWide {
    uint32_t sf, rd, imm16;
};
std::optional<MoveWide> movz(uint32_t insn) {
    if ((insn & 0x7f800000) != 0x52800000 || ((insn >> 21) & 3) != 0)
        return std::nullopt;
    return MoveWide{insn >> 31, insn & 0x1f, (insn >> 5) & 0xffff};
}

// Whether two differing words at `offset` are both "mov wN, #line" into
// the same argument register (x0-x7), close to a call taking a source
// location in both versions.
bool is_line_move(const Section &orig, const Section &patched, uint64_t offset) {
    auto a = movz(*word_at(orig, offset));
    auto b = movz(*word_at(patched, offset));
    if (!a || !b || a->sf != b->sf || a->rd != b->rd || a->rd > 7)
        return false;
    // gcc schedules the move a few instructions away from the call.
    uint64_t begin = offset > 32 ? offset - 32 : 0;
    uint64_t end = offset + 64;
    return refers_to_source_location(orig, begin, end) &&
           refers_to_source_location(patched, begin, end);
}

bool has_relocation_at(const Section &text, uint64_t offset) {
    if (!text.rela)
        return false;
    for (const Relocation &r : text.rela->relocs)
        if (r.offset >= offset && r.offset < offset + 4)
            return true;
    return false;
}

class Aarch64 final : public Arch {
  public:
    std::string_view name() const override { return "aarch64"; }

    int64_t target_offset(const Section &, const Relocation &rel) const override {
        return rel.addend;
    }

    // arm64 ftrace (6.1: DYNAMIC_FTRACE_WITH_REGS) is built with
    // -fpatchable-function-entry=2: two NOPs at entry, listed in
    // __patchable_function_entries (one section per function with
    // -ffunction-sections, SHF_LINK_ORDER to it), which the kernel and the
    // module loader read as their ftrace call sites.
    bool has_ftrace_hook(const elf::Object &obj, const elf::Symbol &func) const override {
        if (!func.sec || !func.sec->is_text())
            return false;
        for (const auto &sec : obj.sections) {
            if (sec->name != "__patchable_function_entries" || !sec->rela)
                continue;
            for (const Relocation &r : sec->rela->relocs) {
                if (r.sym->sec != func.sec)
                    continue;
                auto site = patchable_site(r);
                if (site && site_hooks(*func.sec, *site, func.value))
                    return true;
            }
        }
        return false;
    }

    std::string_view missing_ftrace_hook() const override {
        return "no entry in __patchable_function_entries: notrace, or built without "
               "-fpatchable-function-entry";
    }

    // arm64 6.1 has no table that takes something away from the code it
    // points at on the strength of a whole-object analysis.
    bool drops_table(std::string_view) const override { return false; }

    bool differs_only_in_line_numbers(const Section &orig, const Section &patched) const override {
        if (orig.data.size() != patched.data.size() || orig.data.size() % 4 != 0)
            return false;
        bool any = false;
        for (uint64_t at = 0; at < orig.data.size(); at += 4) {
            if (std::memcmp(&orig.data[at], &patched.data[at], 4) == 0)
                continue;
            if (has_relocation_at(patched, at) || !is_line_move(orig, patched, at))
                return false;
            any = true;
        }
        return any;
    }

    // B, BL, B.cond, CBZ/CBNZ and TBZ/TBNZ to a symbol.
    bool is_branch(const Section &, const Relocation &rel) const override {
        switch (rel.type) {
        case R_AARCH64_CALL26:
        case R_AARCH64_JUMP26:
        case R_AARCH64_CONDBR19:
        case R_AARCH64_TSTBR14:
            return true;
        default:
            return false;
        }
    }

    // The AArch64 ELF ABI's mapping symbols: "$x" (code follows) and "$d"
    // (data follows), optionally with a ".suffix"; local and untyped.
    bool is_mapping_symbol(const elf::Symbol &sym) const override {
        std::string_view name = sym.name;
        return sym.is_local() && sym.type == STT_NOTYPE && name.size() >= 2 && name[0] == '$' &&
               (name[1] == 'x' || name[1] == 'd') && (name.size() == 2 || name[2] == '.');
    }

    uint32_t absolute64() const override { return R_AARCH64_ABS64; }
    uint32_t relative() const override { return R_AARCH64_RELATIVE; }

    bool is_pc_relative(uint32_t type) const override {
        switch (type) {
        case R_AARCH64_PREL64:
        case R_AARCH64_PREL32:
        case R_AARCH64_PREL16:
        case R_AARCH64_LD_PREL_LO19:
        case R_AARCH64_ADR_PREL_LO21:
        case R_AARCH64_ADR_PREL_PG_HI21:
        case R_AARCH64_ADR_PREL_PG_HI21_NC:
        case R_AARCH64_TSTBR14:
        case R_AARCH64_CONDBR19:
        case R_AARCH64_JUMP26:
        case R_AARCH64_CALL26:
        case R_AARCH64_MOVW_PREL_G0:
        case R_AARCH64_MOVW_PREL_G0_NC:
        case R_AARCH64_MOVW_PREL_G1:
        case R_AARCH64_MOVW_PREL_G1_NC:
        case R_AARCH64_MOVW_PREL_G2:
        case R_AARCH64_MOVW_PREL_G2_NC:
        case R_AARCH64_MOVW_PREL_G3:
            return true;
        default:
            return false;
        }
    }

    uint64_t field_len(uint32_t type) const override {
        switch (type) {
        case R_AARCH64_ABS64:
        case R_AARCH64_PREL64:
            return 8;
        case R_AARCH64_ABS16:
        case R_AARCH64_PREL16:
            return 2;
        default:
            return 4; // ABS32, PREL32 and the instruction relocations
        }
    }

    uint64_t ftrace_site_len() const override { return 8; } // two NOPs
    uint64_t jump_label_len() const override { return 4; }  // b or nop

    // A relocatable arm64 vmlinux applies .rela.dyn to itself at boot.
    uint64_t kaslr_reloc_len(uint32_t type) const override {
        switch (type) {
        case R_AARCH64_RELATIVE:
        case R_AARCH64_ABS64:
            return 8;
        case R_AARCH64_ABS32:
            return 4;
        default:
            return 0;
        }
    }

    // KPP_AARCH64_VENEER_SIZE (kmod/core/arch/aarch64_reloc.h): "ldr x16,
    // .+8; br x16" and the 8-byte target; only B and BL get one (the
    // conditional branches of a function stay inside it).
    uint64_t veneer_size(uint32_t type) const override {
        return type == R_AARCH64_CALL26 || type == R_AARCH64_JUMP26 ? 16 : 0;
    }
};

} // namespace

const Arch &aarch64_arch() {
    static const Aarch64 arch;
    return arch;
}

} // namespace kpp::diff
