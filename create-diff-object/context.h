// State shared by the create-diff-object passes: the two objects, what is
// known about the running kernel, and what the passes found so far.
#pragma once

#include "create-diff-object/arch.h"
#include "create-diff-object/diff.h"
#include "create-diff-object/dwarf_facts.h"
#include "create-diff-object/kernel_symbols.h"
#include "libkpp/elf/object.h"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kpp::diff {

using elf::Object;
using elf::Relocation;
using elf::Section;
using elf::Status;
using elf::Symbol;

// Why a function is part of the patch, for the report.
struct ChangeReason {
    Symbol *func = nullptr; // in the patched object
    std::string why;
};

struct Context {
    const Options &options;
    const Arch &arch;
    std::unique_ptr<Object> orig;
    std::unique_ptr<Object> patched;
    const KernelSymbols *kernel = nullptr; // the parent's symbol table
    const ExportedSymbols *exported = nullptr;
    std::string object_name; // file name of the object, for messages

    // Sections of the patched object that hold only special statics.
    std::unordered_set<const Section *> special_static_sections;

    // The named symbols of each section of either object, by address.
    std::unordered_map<const Section *, std::vector<Symbol *>> symbols_in;

    // Each object's DWARF facts, read on first use by dwarf_facts(): a
    // large object's DWARF is slow to read and most diffs never ask.
    std::optional<DwarfFacts> orig_dwarf, patched_dwarf;
    std::vector<std::string> init_changed_by_inlining;

    // Offsets of each section of either object that a relocation points
    // at, filled on first use (same_target.cpp).
    std::unordered_map<const Section *, std::vector<int64_t>> entry_points;
    bool entry_points_ready = false;

    // What differs in each changed section, for the report.
    std::unordered_map<const Section *, std::string> why_changed;

    std::vector<ChangeReason> changes;  // changed and new functions
    std::vector<std::string> ignored;   // functions whose changes the author ignored
    std::vector<std::string> line_only; // functions whose only change is a __LINE__ value
    // "function: tracepoint" for each tracepoint of the patched module that
    // a patched function no longer fires (module_keys.h).
    std::vector<std::string> inert_tracepoints;
    // "added: NAME" / "removed: NAME" for exports the patch cannot change.
    std::vector<std::string> exports_not_applied;
};

// What obj's DWARF says (empty facts when it has none).
const DwarfFacts &dwarf_facts(Context &ctx, const Object &obj);

// A function inlined into `func` that this patch changes, or "".
std::string changed_inlined_callee(Context &ctx, const std::string &func);

// Fills Context::symbols_in.
void index_symbols_by_section(Context &ctx);
// The function or object of sec that covers offset, if any.
Symbol *symbol_at(const Context &ctx, const Section &sec, int64_t offset);

// a - b as the CPU computes it, wrapping: offsets derive from addends, and a
// malformed object may hold any addend (signed overflow is undefined).
inline int64_t wrapping_sub(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// Whether the module loader can link a reference to `in`, a symbol the patch
// does not carry, by its name: an export of vmlinux, or (undefined in this
// object) a symbol neither exported nor in the parent. Any module's export,
// the parent's own included, is reached through a livepatch relocation
// (.klp.sym.MODULE.NAME), so the patch module neither depends on that
// module nor needs it loaded first — except from a table the module loader
// reads while the patch module loads (`read_at_load`: jump labels, static
// calls, ...), which a livepatch relocation would reach too late: there
// another module's export is linked by name, and the patch module depends
// on that module.
bool linked_by_name(const Context &ctx, const Symbol &in, bool read_at_load = false);
// The module whose symbol a livepatch relocation to `in` names: the
// exporting module for another module's export, else the parent.
std::string_view livepatch_object_of(const Context &ctx, const Symbol &in);

// What a relocation in `from` really points at: the function or object
// under a section symbol where there is one, and the offset inside it.
struct Target {
    Symbol *sym = nullptr;
    int64_t offset = 0; // inside sym (or inside the section for a section symbol)
};
Target resolve_target(const Context &ctx, const Section &from, const Relocation &rel);

} // namespace kpp::diff
