// Look-ups over the patched object that several passes share.
#include "create-diff-object/context.h"
#include "create-diff-object/sections.h"
#include "libkpp/log.h"

#include <algorithm>
#include <chrono>

namespace kpp::diff {

Symbol *symbol_at(const Context &ctx, const Section &sec, int64_t offset) {
    auto it = ctx.symbols_in.find(&sec);
    if (it == ctx.symbols_in.end())
        return nullptr;
    const auto &syms = it->second; // sorted by value
    auto after =
        std::upper_bound(syms.begin(), syms.end(), offset, [](int64_t off, const Symbol *s) {
            return off < static_cast<int64_t>(s->value);
        });
    if (after == syms.begin())
        return nullptr;
    Symbol *sym = *(after - 1);
    int64_t end = static_cast<int64_t>(sym->value + std::max<uint64_t>(sym->size, 1));
    return offset < end ? sym : nullptr;
}

namespace {

// The object that ends exactly at offset, when nothing starts there: the
// only reading of `arr + ARRAY_SIZE(arr)` (a loop bound one past the end).
Symbol *object_ending_at(const Context &ctx, const Section &sec, int64_t offset) {
    auto it = ctx.symbols_in.find(&sec);
    if (it == ctx.symbols_in.end())
        return nullptr;
    for (Symbol *sym : it->second)
        if (sym->is_object() && sym->size > 0 &&
            static_cast<int64_t>(sym->value + sym->size) == offset)
            return sym;
    return nullptr;
}

} // namespace

namespace {

// ThinLTO renames promoted statics per build (foo.llvm.<hash>): the
// original object's name is the running kernel's.
const std::string &running_name(const Symbol &in) {
    return in.twin ? in.twin->name : in.name;
}

} // namespace

bool linked_by_name(const Context &ctx, const Symbol &in, bool read_at_load) {
    // The running kernel's binding: the patch may have changed it.
    if (in.sec && (in.twin ? in.twin->is_local() : in.is_local()))
        return false;
    const std::string &name = running_name(in);
    if (ctx.exported->empty())
        return true;
    std::string_view exporter = ctx.exported->exporter_of(name);
    if (exporter == "vmlinux" || ctx.options.parent_name == "vmlinux")
        return !exporter.empty() || (!in.sec && !ctx.kernel->find(name, false, 0));
    if (!exporter.empty())
        return read_at_load && exporter != ctx.options.parent_name;
    return !in.sec && !ctx.kernel->find(name, false, 0);
}

std::string_view livepatch_object_of(const Context &ctx, const Symbol &in) {
    std::string_view exporter =
        ctx.exported->empty() ? std::string_view() : ctx.exported->exporter_of(running_name(in));
    return exporter.empty() || exporter == "vmlinux" ? std::string_view(ctx.options.parent_name)
                                                     : exporter;
}

Target resolve_target(const Context &ctx, const Section &from, const Relocation &rel) {
    Symbol *sym = rel.sym;
    if (!sym->is_section() || !sym->sec)
        return {sym, ctx.arch.target_offset(from, rel)};
    int64_t offset = ctx.arch.target_offset(from, rel);
    Section *sec = sym->sec;
    if (sec->owner)
        return {sec->owner, wrapping_sub(offset, static_cast<int64_t>(sec->owner->value))};
    if (!is_string_section(*sec)) {
        if (Symbol *inside = symbol_at(ctx, *sec, offset))
            return {inside, offset - static_cast<int64_t>(inside->value)};
        if (Symbol *before = object_ending_at(ctx, *sec, offset))
            return {before, static_cast<int64_t>(before->size)};
    }
    return {sym, offset};
}

const DwarfFacts &dwarf_facts(Context &ctx, const Object &obj) {
    std::optional<DwarfFacts> &facts = &obj == ctx.orig.get() ? ctx.orig_dwarf : ctx.patched_dwarf;
    if (!facts) {
        auto start = std::chrono::steady_clock::now();
        facts = obj.find_section(".debug_info") ? read_dwarf_facts(obj.path) : DwarfFacts{};
        log::debug("DWARF of {}: {} ms", obj.path,
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    return *facts;
}

std::string changed_inlined_callee(Context &ctx, const std::string &func) {
    const InlinedCallees &inlined = dwarf_facts(ctx, *ctx.patched).inlined;
    auto it = inlined.find(func);
    if (it == inlined.end())
        return {};
    for (const std::string &callee : it->second) {
        const Symbol *sym = ctx.patched->find_symbol(callee);
        if (sym && sym->sec && sym->sec->status == Status::Changed)
            return callee;
    }
    return {};
}

void index_symbols_by_section(Context &ctx) {
    for (const Object *obj : {ctx.orig.get(), ctx.patched.get()})
        for (auto &sym : obj->symbols)
            if (sym->sec && (sym->is_func() || sym->is_object()))
                ctx.symbols_in[sym->sec].push_back(sym.get());
    for (auto &[sec, syms] : ctx.symbols_in)
        std::stable_sort(syms.begin(), syms.end(),
                         [](const Symbol *a, const Symbol *b) { return a->value < b->value; });
}

} // namespace kpp::diff
