// Pass: correlate. Pair every section and symbol of the patched object with
// its counterpart in the original (twin), and bind .cold/.part pieces to the
// function they belong to.
#include "create-diff-object/lost_statics.h"
#include "create-diff-object/names.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/sections.h"
#include "libkpp/log.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace kpp::diff {
namespace {

bool correlatable(const Symbol &sym) {
    return !sym.is_section() && !sym.is_file() && !sym.name.empty() && !sym.twin &&
           !is_special_static(sym.name);
}

void pair(Symbol *a, Symbol *b) {
    a->twin = b;
    b->twin = a;
}

using SymbolIndex = std::unordered_map<std::string, std::vector<Symbol *>>;

SymbolIndex index_by(const Object &obj, bool stable) {
    SymbolIndex index;
    for (const auto &sym : obj.symbols)
        if (correlatable(*sym))
            index[stable ? stable_name(sym->name) : sym->name].push_back(sym.get());
    return index;
}

bool same_kind_any_binding(const Symbol &a, const Symbol &b) {
    return a.type == b.type && (a.sec == nullptr) == (b.sec == nullptr);
}

bool same_kind(const Symbol &a, const Symbol &b) {
    return same_kind_any_binding(a, b) && a.is_local() == b.is_local();
}

// The functions that refer to each symbol, by their stable names: how two
// renumbered static locals (count.1 / count.4) are told apart when two
// functions each have one.
std::unordered_map<const Symbol *, std::vector<std::string>> users_of(const Object &obj) {
    std::unordered_map<const Symbol *, std::vector<std::string>> users;
    for (const auto &sec : obj.sections) {
        if (!sec->is_rela() || !sec->base->owner || !sec->base->is_text())
            continue;
        std::string user = stable_name(sec->base->owner->name);
        for (const Relocation &r : sec->relocs) {
            const Symbol *target =
                r.sym->is_section() && r.sym->sec && r.sym->sec->owner ? r.sym->sec->owner : r.sym;
            users[target].push_back(user);
        }
    }
    return users;
}

bool share_a_user(const std::vector<std::string> &a, const std::vector<std::string> &b) {
    for (const auto &x : a)
        for (const auto &y : b)
            if (x == y)
                return true;
    return false;
}

// A static local GCC numbered (count.3): its number says nothing across two
// builds, so it is matched by the functions using it, never by name alone.
bool is_numbered_static(const Symbol &sym) {
    return sym.is_object() && sym.is_local() && stable_name(sym.name) != sym.name;
}

void keep_declared_in_same_function(Context &ctx, const Symbol &sym, std::vector<Symbol *> &fits) {
    const auto &mine = dwarf_facts(ctx, *ctx.patched).static_owner;
    const auto &theirs = dwarf_facts(ctx, *ctx.orig).static_owner;
    auto owner = mine.find(sym.name);
    if (owner == mine.end())
        return;
    std::erase_if(fits, [&](const Symbol *cand) {
        auto it = theirs.find(cand->name);
        return it == theirs.end() || stable_name(it->second) != stable_name(owner->second);
    });
}

std::vector<Symbol *> same_contents_first(const Symbol &sym, const std::vector<Symbol *> &fits) {
    auto same = [&](const Symbol *cand) {
        return cand->size == sym.size && cand->sec && sym.sec && cand->sec->data == sym.sec->data;
    };
    std::vector<Symbol *> ordered;
    std::copy_if(fits.begin(), fits.end(), std::back_inserter(ordered), same);
    if (ordered.empty())
        return {};
    return ordered;
}

// A function or variable the patch made static, or no longer static, is
// still the one the running kernel has under that name: paired with the
// one defined symbol of that name left, the kernel's copy is the one
// replaced or referred to (its binding, not the patched one, says how the
// kernel knows it), instead of a "new" copy beside a running one that
// keeps its callers and the pointers to it.
void correlate_binding_changes(const SymbolIndex &orig_by_name, Object &patched) {
    for (const auto &owned : patched.symbols) {
        Symbol *sym = owned.get();
        if (!correlatable(*sym) || is_numbered_static(*sym) || !sym->sec)
            continue;
        auto it = orig_by_name.find(sym->name);
        if (it == orig_by_name.end())
            continue;
        std::vector<Symbol *> fits;
        std::copy_if(
            it->second.begin(), it->second.end(), std::back_inserter(fits),
            [&](const Symbol *cand) { return !cand->twin && same_kind_any_binding(*cand, *sym); });
        if (fits.size() == 1) {
            log::debug("correlated {} across a change of binding", sym->name);
            pair(sym, fits[0]);
        }
    }
}

void correlate_symbols(Context &ctx) {
    // Same name first: most symbols keep theirs.
    SymbolIndex orig_by_name = index_by(*ctx.orig, false);
    for (const auto &owned : ctx.patched->symbols) {
        Symbol *sym = owned.get();
        if (!correlatable(*sym) || is_numbered_static(*sym))
            continue;
        auto it = orig_by_name.find(sym->name);
        if (it == orig_by_name.end())
            continue;
        for (Symbol *cand : it->second) {
            if (!cand->twin && same_kind(*cand, *sym)) {
                pair(sym, cand);
                break;
            }
        }
    }
    correlate_binding_changes(orig_by_name, *ctx.patched);
    // Then GCC-renumbered names, told apart by the functions using them.
    SymbolIndex orig_by_stable = index_by(*ctx.orig, true);
    SymbolIndex patched_by_stable = index_by(*ctx.patched, true);
    auto orig_users = users_of(*ctx.orig);
    auto patched_users = users_of(*ctx.patched);
    for (auto &[name, patched_syms] : patched_by_stable) {
        auto it = orig_by_stable.find(name);
        if (it == orig_by_stable.end())
            continue;
        std::vector<Symbol *> &orig_syms = it->second;
        for (Symbol *sym : patched_syms) {
            std::vector<Symbol *> fits;
            for (Symbol *cand : orig_syms)
                if (!cand->twin && same_kind(*cand, *sym))
                    fits.push_back(cand);
            if (is_numbered_static(*sym)) {
                const auto &mine = patched_users[sym];
                std::erase_if(fits, [&](Symbol *cand) {
                    const auto &theirs = orig_users[cand];
                    return (!mine.empty() || !theirs.empty()) && !share_a_user(theirs, mine);
                });
            }
            // Still several: the same name, else with DWARF the function
            // declaring each variable decides. (DWARF is read only now: for
            // a whole vmlinux.o it takes longer than the rest of the diff.)
            if (is_numbered_static(*sym) && fits.size() > 1) {
                // The users agree; where the number did not move either
                // (statics no code refers to, like PCI quirk entries), the
                // name decides.
                auto same_name = std::find_if(fits.begin(), fits.end(),
                                              [&](Symbol *c) { return c->name == sym->name; });
                if (same_name != fits.end())
                    fits = {*same_name};
                else
                    keep_declared_in_same_function(ctx, *sym, fits);
            }
            // Several statics of one name in one function (__print_symbolic's
            // `symbols` tables): GCC emits them in source order, and equal
            // contents confirm the pairing.
            if (fits.size() > 1 && is_numbered_static(*sym))
                fits = same_contents_first(*sym, fits);
            if (!fits.empty() && (fits.size() == 1 || is_numbered_static(*sym)) && !sym->twin) {
                log::debug("correlated {} with {}", sym->name, fits[0]->name);
                pair(sym, fits[0]);
            }
        }
    }
}

void bind_children(Object &obj) {
    std::unordered_map<std::string_view, Symbol *> funcs;
    for (const auto &sym : obj.symbols)
        if (sym->is_func() && sym->sec)
            funcs.emplace(sym->name, sym.get());
    for (const auto &owned : obj.symbols) {
        Symbol *sym = owned.get();
        if (!sym->is_func() || !sym->sec)
            continue;
        std::string_view parent = parent_function_name(sym->name);
        if (parent.empty())
            continue;
        auto it = funcs.find(parent);
        if (it == funcs.end())
            continue;
        sym->parent = it->second;
        it->second->children.push_back(sym);
    }
}

void correlate_sections(Context &ctx) {
    std::unordered_map<std::string, std::vector<Section *>> orig_by_stable;
    for (const auto &sec : ctx.orig->sections)
        if (!sec->name.empty() && !sec->is_rela())
            orig_by_stable[stable_name(sec->name)].push_back(sec.get());
    for (const auto &owned : ctx.patched->sections) {
        Section *sec = owned.get();
        if (sec->name.empty() || sec->is_rela())
            continue;
        Section *twin = nullptr;
        if (sec->owner && sec->owner->twin && sec->owner->twin->sec &&
            sec->owner->twin->sec->owner == sec->owner->twin)
            twin = sec->owner->twin->sec;
        else if (ctx.special_static_sections.contains(sec))
            continue; // a per-call-site object's or a compiler constant's section: always new
        else if (Section *same = ctx.orig->find_section(sec->name); same && !same->twin)
            twin = same;
        else if (auto it = orig_by_stable.find(stable_name(sec->name));
                 it != orig_by_stable.end() && it->second.size() == 1 && !it->second[0]->twin)
            twin = it->second[0];
        if (!twin || twin->twin)
            continue;
        sec->twin = twin;
        twin->twin = sec;
        if (sec->secsym && twin->secsym) {
            sec->secsym->twin = twin->secsym;
            twin->secsym->twin = sec->secsym;
        }
    }
}

} // namespace

void correlate(Context &ctx) {
    ctx.special_static_sections = special_static_sections(*ctx.patched, ctx.arch);
    bind_children(*ctx.orig);
    bind_children(*ctx.patched);
    correlate_symbols(ctx);
    correlate_sections(ctx);
    refuse_lost_static_locals(ctx);
}

} // namespace kpp::diff
