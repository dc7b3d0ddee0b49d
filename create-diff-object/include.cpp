// Pass: include. Choose the changed and new functions, then everything they
// reference that the running kernel lacks: new data, string literals, the
// per-call-site statics of kernel macros. Unchanged functions and data stay
// in the kernel and become references to it.
#include "create-diff-object/names.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/sections.h"
#include "create-diff-object/special_sections.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>

namespace kpp::diff {
namespace {

// Whether a piece's code continues in its parent: a .cold piece jumping
// back to where the hot path resumes.
bool continues_in_parent(const Symbol &piece) {
    if (!piece.sec->rela)
        return false;
    const Section *parent = piece.parent->sec;
    return std::any_of(piece.sec->rela->relocs.begin(), piece.sec->rela->relocs.end(),
                       [&](const Relocation &r) { return r.sym->sec == parent; });
}

// An unchanged .cold/.part piece stays in the running kernel, and the
// parent's new version calls the kernel's piece. Not one that jumps back
// into its parent: it would resume in the kernel's old parent, in the
// middle of code the patch replaces, with the new version's frame.
bool piece_goes_with_parent(const Symbol &piece) {
    return piece.status != Status::Same || continues_in_parent(piece);
}

void include_function(Context &ctx, Symbol *func, std::string why) {
    if (func->include)
        return;
    func->include = true;
    func->sec->include = true;
    ctx.changes.push_back({func, std::move(why)});
    for (Symbol *child : func->children) {
        if (piece_goes_with_parent(*child))
            include_function(ctx, child,
                             child->status == Status::Same
                                 ? "part of " + func->name + ", continues in it"
                                 : "part of " + func->name);
        else
            log::debug("{}: {} is unchanged and stays in {}", ctx.object_name, child->name,
                       ctx.options.parent_name);
    }
}

// Whether what a relocation points at must travel with the patch.
bool needs_copy(const Context &ctx, const Symbol &target, const Section &sec) {
    if (is_constant_pool(sec) || ctx.special_static_sections.contains(&sec) ||
        is_author_section(sec))
        return true;
    // Data with no name the running kernel knows it by (a section symbol
    // with no object around its offset: gcc's anonymous initializers in
    // .rodata): nothing could find it there, and a copy of data that is
    // only read is as good as the original.
    if (target.is_section() && is_read_only_data(sec))
        return true;
    if (!target.is_section())
        return target.status == Status::New || is_special_static(target.name);
    if (sec.owner)
        return sec.owner->status == Status::New;
    // Code without a function of its own (.altinstr_replacement, .fixup)
    // belongs to the special-section entries that point at it.
    if (sec.is_text())
        return true;
    return sec.status == Status::New;
}

// A part of a section whose references are still to be followed.
struct Pending {
    Section *sec;
    uint64_t begin, end;
};

Pending whole(Section *sec) {
    return {sec, 0, sec->size()};
}
Pending just(Symbol *object) {
    return {object->sec, object->value, object->value + std::max<uint64_t>(object->size, 1)};
}

// A whole section goes to the patch when nothing smaller can: a section of
// writable data the kernel already has may hold other variables, and the
// patch must keep using the kernel's copies of those.
void refuse_copying_kernel_variables(const Context &ctx, const Section &from, const Symbol &target,
                                     const Section &sec) {
    bool kernel_variables = sec.twin && !sec.owner && sec.is_alloc() && !sec.is_text() &&
                            !is_read_only_data(sec) &&
                            !ctx.special_static_sections.contains(&sec) && !is_author_section(sec);
    if (kernel_variables)
        throw Refusal(RefusalKind::MissingSymbol,
                      "{}: {} refers to {} in {}, writable data with no symbol of its own; copying "
                      "the whole section would give the patch fresh copies of the kernel's "
                      "variables there; give the data a name (a static variable)",
                      ctx.object_name, from.owner ? from.owner->name : from.name, target.name,
                      sec.name);
}

void mark(Context &ctx, const Section &from, const Relocation &rel, std::vector<Pending> &work) {
    Symbol *target = resolve_target(ctx, from, rel).sym;
    Section *sec = target->sec;
    if (!sec || !needs_copy(ctx, *target, *sec))
        return;
    if (sec->is_text() && sec->owner && sec->owner->is_func()) {
        // A new function reached from a changed one.
        if (!sec->include) {
            include_function(ctx, sec->owner, "new function, called by the patch");
            work.push_back(whole(sec));
        }
        return;
    }
    // A named object in a shared section (a dynamic debug descriptor in
    // __dyndbg) goes alone; anything else (anonymous data, whose extent
    // nothing tells) goes as a whole section.
    bool shared = (target->is_object() || target->is_func()) && sec->owner != target &&
                  !is_constant_pool(*sec);
    if (shared) {
        if (!target->include) {
            target->include = true;
            work.push_back(just(target));
        }
        return;
    }
    if (!sec->include) {
        refuse_copying_kernel_variables(ctx, from, *target, *sec);
        sec->include = true;
        if (sec->owner)
            sec->owner->include = true;
        work.push_back(whole(sec));
    }
}

} // namespace

void include_changed(Context &ctx) {
    for (auto &owned : ctx.patched->symbols) {
        Symbol *sym = owned.get();
        // compare.cpp refused or set aside every other change outside
        // resident code, and let through a module's exit function that
        // has an ftrace hook.
        if (!sym->is_func() || !sym->sec || sym->parent ||
            section_life(*sym->sec) == SectionLife::Init ||
            section_life(*sym->sec) == SectionLife::MemInit)
            continue;
        if (sym->status == Status::Changed) {
            if (!ctx.arch.has_ftrace_hook(*ctx.patched, *sym))
                throw Refusal(RefusalKind::NoFtraceHook,
                              "{}: function {} changed but has no ftrace hook ({}), so the "
                              "running kernel cannot be redirected to the new version; patch its "
                              "callers instead",
                              ctx.object_name, sym->name, ctx.arch.missing_ftrace_hook());
            auto why = ctx.why_changed.find(sym->sec);
            std::string reason = why != ctx.why_changed.end() ? why->second : "changed";
            if (std::string callee = changed_inlined_callee(ctx, sym->name); !callee.empty())
                reason += "; inlined callee " + callee + " changed";
            include_function(ctx, sym, reason);
        } else if (sym->status == Status::New && !sym->is_local()) {
            include_function(ctx, sym, "new function");
        }
    }
    for (auto &owned : ctx.patched->sections)
        if (is_author_section(*owned))
            owned->include = true;
    include_references(ctx, nullptr);
}

void include_references(Context &ctx, const KeptEntries *kept) {
    std::vector<Pending> work;
    for (auto &owned : ctx.patched->sections)
        if (owned->include)
            work.push_back(whole(owned.get()));
    for (auto &owned : ctx.patched->symbols)
        if (owned->include && owned->sec && !owned->sec->include)
            work.push_back(just(owned.get()));
    if (kept)
        for (const auto &[sec, ranges] : kept->ranges)
            for (const Range &r : ranges)
                work.push_back({const_cast<Section *>(sec), r.offset, r.offset + r.size});
    while (!work.empty()) {
        Pending item = work.back();
        work.pop_back();
        if (!item.sec->rela)
            continue;
        const auto &relocs = item.sec->rela->relocs;
        auto first =
            std::lower_bound(relocs.begin(), relocs.end(), item.begin,
                             [](const Relocation &r, uint64_t off) { return r.offset < off; });
        for (auto it = first; it != relocs.end() && it->offset < item.end; ++it)
            mark(ctx, *item.sec, *it, work);
    }
}

} // namespace kpp::diff
