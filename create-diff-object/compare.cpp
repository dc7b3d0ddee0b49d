// Pass: compare. Decide the status (same, changed, new) of every section
// and symbol of the patched object, and refuse changes a running kernel
// cannot take.
#include "create-diff-object/names.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/same_target.h"
#include "create-diff-object/sections.h"
#include "create-diff-object/special_sections.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

namespace kpp::diff {
namespace {

// Empty when the relocations are the same; otherwise what differs first.
std::string relocation_difference(Context &ctx, const Section &orig, const Section &patched,
                                  TargetComparison &cmp) {
    static const std::vector<Relocation> none;
    const auto &a = orig.rela ? orig.rela->relocs : none;
    const auto &b = patched.rela ? patched.rela->relocs : none;
    for (size_t i = 0; i < std::min(a.size(), b.size()); i++) {
        if (a[i].offset != b[i].offset || a[i].type != b[i].type ||
            !same_target(ctx, orig, a[i], patched, b[i], cmp))
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
    TargetComparison cmp;
    std::string relocs = relocation_difference(ctx, *orig, sec, cmp);
    bool same_bytes = sec.hdr.sh_type == SHT_NOBITS || sec.data == orig->data;
    bool line_only_bytes =
        !same_bytes && sec.is_text() && ctx.arch.differs_only_in_line_numbers(*orig, sec);
    if (relocs.empty() && (same_bytes || line_only_bytes)) {
        // Only source line numbers moved: in __LINE__ immediates, or in
        // strings the compiler built with them ("file.c:8493").
        if (line_only_bytes || cmp.line_numbers_moved)
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

bool parent_is_module(const Context &ctx) {
    return ctx.options.parent_name != "vmlinux";
}

// The part of the reason that says where an inlined copy comes from.
std::string because_of_inlining(Context &ctx, const Section &sec) {
    std::string why = init_change_from_inlining(ctx, sec);
    return why.empty() ? std::string() : " (it changed because " + why + ")";
}

// vmlinux ran its init code at boot. A module runs its own while it loads
// (already, if it is loaded now) and frees it right after, while the
// livepatch core would keep redirecting the freed function for as long as
// the patch is enabled: a module's __init functions cannot be patched
// either, and the reason says when they run.
void refuse_init_change(Context &ctx, const Section &sec) {
    if (std::string why = init_change_from_inlining(ctx, sec); !why.empty()) {
        log::warn("{}: {} changed only because {}, which the patch replaces; {}, so it is "
                  "left as it is",
                  ctx.object_name, describe(sec), why,
                  parent_is_module(ctx)
                      ? ctx.options.parent_name + "'s init code keeps its inlined copy, which "
                                                  "runs only while the module loads"
                      : std::string("init code has already run"));
        ctx.init_changed_by_inlining.push_back(why);
        return;
    }
    if (parent_is_module(ctx))
        throw Refusal(RefusalKind::InitCode,
                      "{}: {} changed; {} runs its init code when the module is loaded (if it "
                      "is loaded now, that has happened) and frees it right after, so a live "
                      "patch, which keeps the functions it replaces redirected for as long as "
                      "it is enabled, cannot replace it; make the change outside __init code",
                      ctx.object_name, describe(sec), ctx.options.parent_name);
    throw Refusal(RefusalKind::InitCode,
                  "{}: {} changed, but init code has already run in the running kernel; "
                  "make the change outside __init code",
                  ctx.object_name, describe(sec));
}

// __meminit code ran at boot and, with CONFIG_MEMORY_HOTPLUG, runs again
// when memory is added, from the copy the kernel kept: an inlined old copy
// would run again, and the code itself is notrace.
void refuse_meminit_change(Context &ctx, const Section &sec) {
    throw Refusal(RefusalKind::InitCode,
                  "{}: {} changed{}; __meminit code runs at boot and, with "
                  "CONFIG_MEMORY_HOTPLUG, again whenever memory is added, and it is notrace "
                  "(no ftrace hook), so the running kernel cannot be redirected to the new "
                  "version; make the change in a function it calls, not inlined into it",
                  ctx.object_name, describe(sec), because_of_inlining(ctx, sec));
}

// vmlinux never runs its exit code (built-in code is never unloaded) and
// frees .exit.text after boot. A module runs it when it is unloaded: a
// function there with an ftrace hook and a section of its own is patched
// like any other (include.cpp); __exit functions are notrace.
void check_exit_change(Context &ctx, Section &sec) {
    if (!parent_is_module(ctx)) {
        log::warn("{}: {} changed, but vmlinux never runs its exit code and frees it after "
                  "boot; nothing to patch",
                  ctx.object_name, describe(sec));
        sec.status = Status::Same;
        return;
    }
    if (sec.is_text() && sec.owner && sec.owner->is_func() &&
        ctx.arch.has_ftrace_hook(*ctx.patched, *sec.owner))
        return;
    if (!sec.is_text())
        throw Refusal(RefusalKind::ExitCode,
                      "{}: exit data {} changed; {} holds it from load to unload, for its exit "
                      "code, and a live patch cannot change data the module already holds",
                      ctx.object_name, describe(sec), ctx.options.parent_name);
    throw Refusal(RefusalKind::ExitCode,
                  "{}: {} changed{}; {} runs its exit code when the module is unloaded, and "
                  "__exit code is notrace (no ftrace hook), so the running module cannot be "
                  "redirected to the new version; make the change in a function it calls, not "
                  "inlined into it",
                  ctx.object_name, describe(sec), because_of_inlining(ctx, sec),
                  ctx.options.parent_name);
}

// Changes to data the running kernel already holds cannot be applied: the
// kernel keeps using its copy, and other code depends on its layout.
// Read-only data with no object of its own (gcc's anonymous initializers
// in .rodata, constant pools): no code outside this object can refer to it,
// references to it are compared by what they point at (same_target.cpp),
// and the patch copies what its code uses, so a change to it is no change
// to data the kernel holds.
bool is_anonymous_read_only(const Context &ctx, const Section &sec) {
    auto it = ctx.symbols_in.find(&sec);
    return is_read_only_data(sec) && !sec.owner &&
           (it == ctx.symbols_in.end() || it->second.empty());
}

// The names of the functions in sec, comma-separated.
std::string functions_in(const Context &ctx, const Section &sec) {
    std::string names;
    auto it = ctx.symbols_in.find(&sec);
    if (it != ctx.symbols_in.end())
        for (const Symbol *sym : it->second)
            if (sym->is_func())
                names += (names.empty() ? "" : ", ") + sym->name;
    return names;
}

void refuse_unsafe(Context &ctx, Section &sec) {
    if (sec.status != Status::Changed || is_anonymous_read_only(ctx, sec))
        return;
    switch (section_life(sec)) {
    case SectionLife::Init:
        return refuse_init_change(ctx, sec);
    case SectionLife::MemInit:
        return refuse_meminit_change(ctx, sec);
    case SectionLife::Exit:
        return check_exit_change(ctx, sec);
    case SectionLife::Resident:
        break;
    }
    // Code of several functions in one section (__sched's .sched.text, an
    // assembler file's .text): the diff compares and copies whole sections,
    // so it cannot tell which of them changed.
    if (sec.is_text() && !sec.owner) {
        if (std::string funcs = functions_in(ctx, sec); !funcs.empty())
            throw Refusal(RefusalKind::SharedSection,
                          "{}: section {} changed and holds several functions ({}); the diff "
                          "can only tell which function changed when each has a section of its "
                          "own (-ffunction-sections), so the change cannot be patched as it is",
                          ctx.object_name, sec.name, funcs);
    }
    if (!sec.is_text() && sec.is_alloc()) {
        throw Refusal(RefusalKind::DataChange,
                      "{}: data {} changed (initial value or layout); a live patch cannot "
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
