// Pass: compare. Decide the status (same, changed, new) of every section
// and symbol of the patched object, and refuse changes a running kernel
// cannot take.
#include "create-diff-object/names.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/sections.h"
#include "create-diff-object/special_sections.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cstring>

namespace kpp::diff {
namespace {

std::string_view string_at(const Section &sec, int64_t offset) {
    if (offset < 0 || static_cast<uint64_t>(offset) >= sec.data.size())
        return {};
    const char *p = reinterpret_cast<const char *>(sec.data.data()) + offset;
    return {p, strnlen(p, sec.data.size() - offset)};
}

// Do two relocations point at the same thing, the patched one through the
// correlation? String literals are compared by content, since merging and
// reordering moves them.
bool same_target(const Context &ctx, const Section &orig_sec, const Relocation &a,
                 const Section &patched_sec, const Relocation &b) {
    const Symbol *sa = a.sym, *sb = b.sym;
    if (sa->is_section() && sb->is_section() && sa->sec && sb->sec && is_string_section(*sa->sec) &&
        is_string_section(*sb->sec)) {
        return string_at(*sa->sec, ctx.arch.target_offset(orig_sec, a)) ==
               string_at(*sb->sec, ctx.arch.target_offset(patched_sec, b));
    }
    // A section symbol stands for the function or object at its target
    // (init code of several functions shares .init.text, so the offsets
    // move when one of them changes).
    Target ta = resolve_target(ctx, orig_sec, a);
    Target tb = resolve_target(ctx, patched_sec, b);
    if (!ta.sym->is_section() || !tb.sym->is_section()) {
        if (ta.offset != tb.offset)
            return false;
        sa = ta.sym;
        sb = tb.sym;
    } else if (a.addend != b.addend) {
        return false;
    }
    if (sb->twin == sa)
        return true;
    // Per-call-site statics are never correlated: the same macro at the
    // same place makes one of the same name.
    if (is_special_static(sa->name) && is_special_static(sb->name))
        return special_static_key(sa->name) == special_static_key(sb->name);
    // Undefined externals have no twin; compare names.
    return sa->name == sb->name && !sa->sec && !sb->sec;
}

// Empty when the relocations are the same; otherwise what differs first.
std::string relocation_difference(const Context &ctx, const Section &orig, const Section &patched) {
    static const std::vector<Relocation> none;
    const auto &a = orig.rela ? orig.rela->relocs : none;
    const auto &b = patched.rela ? patched.rela->relocs : none;
    for (size_t i = 0; i < std::min(a.size(), b.size()); i++) {
        if (a[i].offset != b[i].offset || a[i].type != b[i].type ||
            !same_target(ctx, orig, a[i], patched, b[i]))
            return fmt::format("relocation at +{:#x} now refers to {}{:+#x} (was {}{:+#x})",
                               b[i].offset, b[i].sym->name, b[i].addend, a[i].sym->name,
                               a[i].addend);
    }
    if (a.size() != b.size())
        return fmt::format("{} relocations instead of {}", b.size(), a.size());
    return {};
}

std::string byte_difference(const Section &orig, const Section &patched) {
    for (size_t i = 0; i < patched.data.size(); i++)
        if (orig.data[i] != patched.data[i])
            return fmt::format("bytes differ from +{:#x}", i);
    return {};
}

// Whether a section matters to the running kernel and so must be compared.
bool compared(const Context &ctx, const Section &sec) {
    return !is_ignored_section(sec) && !is_special_section(sec.name) &&
           !ctx.special_static_sections.contains(&sec) && !is_string_section(sec);
}

Status compare_section(Context &ctx, Section &sec) {
    Section *orig = sec.twin;
    if (!orig)
        return Status::New;
    if (sec.hdr.sh_type != orig->hdr.sh_type || sec.size() != orig->size()) {
        ctx.why_changed[&sec] = fmt::format("size {} (was {})", sec.size(), orig->size());
        return Status::Changed;
    }
    std::string relocs = relocation_difference(ctx, *orig, sec);
    bool same_bytes = sec.hdr.sh_type == SHT_NOBITS || sec.data == orig->data;
    if (same_bytes && relocs.empty())
        return Status::Same;
    if (relocs.empty() && sec.is_text() && ctx.arch.differs_only_in_line_numbers(*orig, sec)) {
        ctx.line_only.push_back(sec.owner ? sec.owner->name : sec.name);
        return Status::Same;
    }
    ctx.why_changed[&sec] = same_bytes ? relocs : byte_difference(*orig, sec);
    log::debug("{}: {}", sec.name, ctx.why_changed[&sec]);
    return Status::Changed;
}

std::string describe(const Section &sec) {
    return sec.owner ? sec.owner->name + " (section " + sec.name + ")" : "section " + sec.name;
}

// Changes to data the running kernel already holds cannot be applied: the
// kernel keeps using its copy, and other code depends on its layout.
// Init code that changed only where it inlines a function this patch
// replaces: its copy has already run, and the function itself is patched.
// Known only from DWARF; without it the change is refused.
std::string init_change_from_inlining(Context &ctx, const Section &sec) {
    auto it = ctx.symbols_in.find(&sec);
    if (it == ctx.symbols_in.end())
        return {};
    for (const Symbol *func : it->second)
        if (func->is_func())
            if (std::string callee = changed_inlined_callee(ctx, func->name); !callee.empty())
                return func->name + " inlines " + callee;
    return {};
}

void refuse_unsafe(Context &ctx, const Section &sec) {
    if (sec.status != Status::Changed)
        return;
    if (is_init_section(sec)) {
        if (std::string why = init_change_from_inlining(ctx, sec); !why.empty()) {
            log::warn("{}: {} changed only because {}, which the patch replaces; init code "
                      "has already run, so it is left as it is",
                      ctx.object_name, describe(sec), why);
            ctx.init_changed_by_inlining.push_back(why);
            return;
        }
        throw Refusal("{}: {} changed, but init code has already run in the running kernel; "
                      "make the change outside __init code",
                      ctx.object_name, describe(sec));
    }
    if (!sec.is_text() && sec.is_alloc()) {
        throw Refusal("{}: data {} changed (initial value or layout); a live patch cannot "
                      "change data the kernel already holds — use a shadow variable or a "
                      "callback instead",
                      ctx.object_name, describe(sec));
    }
}

void mark_ignored_functions(Context &ctx) {
    for (const char *name : {".kpatchpp.ignore.functions", ".kpatch.ignore.functions"}) {
        Section *table = ctx.patched->find_section(name);
        if (!table || !table->rela)
            continue;
        for (const Relocation &r : table->rela->relocs) {
            Section *target = r.sym->sec;
            if (!target || !target->is_text())
                continue;
            target->status = Status::Same;
            ctx.ignored.push_back(target->owner ? target->owner->name : target->name);
        }
    }
}

// KPATCH_IGNORE_SECTION(".name"): the table holds pointers to the names.
// kpatch's own macros fill .kpatch.ignore.sections; patches written for
// kpatch are honoured the same way.
void mark_ignored_sections(Context &ctx) {
    for (const char *table_name : {".kpatchpp.ignore.sections", ".kpatch.ignore.sections"}) {
        Section *table = ctx.patched->find_section(table_name);
        if (!table || !table->rela)
            continue;
        for (const Relocation &r : table->rela->relocs) {
            if (!r.sym->sec)
                continue;
            std::string name(string_at(*r.sym->sec, ctx.arch.target_offset(*table, r)));
            Section *target = ctx.patched->find_section(name);
            if (!target)
                throw Error("{}: KPATCH_IGNORE_SECTION names {}, which this object does not have",
                            ctx.object_name, name);
            target->status = target->twin ? Status::Same : Status::New;
            ctx.ignored.push_back("section " + name);
        }
    }
}

void propagate_to_symbols(Context &ctx) {
    for (auto &owned : ctx.patched->symbols) {
        Symbol *sym = owned.get();
        if (sym->is_section() || sym->is_file() || !sym->sec)
            continue;
        if (!sym->twin)
            sym->status = Status::New;
        else if (sym->sec->owner == sym || sym->sec->status == Status::Same)
            sym->status = sym->sec->status == Status::New ? Status::Changed : sym->sec->status;
        else
            sym->status = Status::Same; // one of several symbols in a shared section
    }
    // A .cold or .part piece is part of its parent: a change to either
    // replaces the whole function.
    for (auto &owned : ctx.patched->symbols) {
        Symbol *sym = owned.get();
        if (sym->parent && sym->status != Status::Same && sym->parent->status == Status::Same) {
            sym->parent->status = Status::Changed;
            sym->parent->sec->status = Status::Changed;
        }
    }
}

} // namespace

void compare(Context &ctx) {
    for (auto &owned : ctx.patched->sections) {
        Section &sec = *owned;
        if (sec.name.empty() || !compared(ctx, sec)) {
            sec.status = sec.twin ? Status::Same : Status::New;
            continue;
        }
        sec.status = compare_section(ctx, sec);
    }
    mark_ignored_functions(ctx);
    mark_ignored_sections(ctx);
    for (auto &owned : ctx.patched->sections)
        if (compared(ctx, *owned))
            refuse_unsafe(ctx, *owned);
    propagate_to_symbols(ctx);
}

} // namespace kpp::diff
