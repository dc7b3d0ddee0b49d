#include "create-diff-object/lost_statics.h"
#include "create-diff-object/names.h"
#include "create-diff-object/same_target.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <fmt/ranges.h>

#include <map>
#include <set>

namespace kpp::diff {
namespace {

// The names KPP_IGNORE_STATIC("name") listed: pointers to the strings.
std::set<std::string, std::less<>> intended_fresh_copies(const Context &ctx) {
    std::set<std::string, std::less<>> names;
    for (const char *table_name : {".kpatchpp.ignore.statics", ".kpatch.ignore.statics"}) {
        const Section *table = ctx.patched->find_section(table_name);
        if (!table || !table->rela)
            continue;
        for (const Relocation &r : table->rela->relocs) {
            if (!r.sym->sec)
                continue;
            names.emplace(string_at(*r.sym->sec,
                                    offset_in_section(*r.sym, ctx.arch.target_offset(*table, r))));
        }
    }
    return names;
}

// A static local variable holding state (in .data or .bss), by its name in
// the source; empty for anything else.
std::string stateful_static_local(const Symbol &sym) {
    if (!sym.is_object() || !sym.is_local() || !sym.sec || sym.twin ||
        !(sym.sec->hdr.sh_flags & SHF_WRITE))
        return {};
    return static_local_source_name(sym.name);
}

// The functions whose code refers to sym.
std::string users_of(const Context &ctx, const Object &obj, const Symbol &sym) {
    std::set<std::string> users;
    for (const auto &rela : obj.sections) {
        if (!rela->is_rela() || !rela->base || !rela->base->is_text())
            continue;
        for (const Relocation &r : rela->relocs) {
            Target t = resolve_target(ctx, *rela->base, r);
            if (t.sym != &sym)
                continue;
            const Symbol *func = rela->base->owner
                                     ? rela->base->owner
                                     : symbol_at(ctx, *rela->base, static_cast<int64_t>(r.offset));
            users.insert(func ? func->name : rela->base->name);
        }
    }
    return users.empty() ? "no function" : fmt::format("{}", fmt::join(users, ", "));
}

} // namespace

void refuse_lost_static_locals(Context &ctx) {
    std::map<std::string, const Symbol *> unpaired;
    for (const auto &sym : ctx.orig->symbols)
        if (std::string var = stateful_static_local(*sym); !var.empty())
            unpaired.emplace(var, sym.get());
    if (unpaired.empty())
        return;
    auto intended = intended_fresh_copies(ctx);
    for (const auto &sym : ctx.patched->symbols) {
        std::string var = stateful_static_local(*sym);
        auto lost = unpaired.find(var);
        if (var.empty() || lost == unpaired.end())
            continue;
        if (intended.contains(var)) {
            log::warn("{}: static local variable {} ({}) starts from a fresh copy, as "
                      "KPP_IGNORE_STATIC(\"{}\") says",
                      ctx.object_name, var, sym->name, var);
            continue;
        }
        throw Refusal(RefusalKind::UnmatchedStatic,
                      "{}: static local variable {} ({}, used by {}) cannot be matched to the "
                      "running kernel's {} (used by {}); the patch would give it a fresh copy "
                      "from its initial value and lose the kernel's value; keep it in the "
                      "function that declares it, or add KPP_IGNORE_STATIC(\"{}\") to the patch "
                      "if a fresh copy is intended",
                      ctx.object_name, var, sym->name, users_of(ctx, *ctx.patched, *sym),
                      lost->second->name, users_of(ctx, *ctx.orig, *lost->second), var);
    }
}

} // namespace kpp::diff
