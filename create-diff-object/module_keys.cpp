// Pass helper: entries of __jump_table and .static_call_sites keyed by the
// patched module's own symbols (module_keys.h says why and what happens).
#include "create-diff-object/module_keys.h"
#include "libkpp/log.h"

#include <algorithm>
#include <string_view>

namespace kpp::diff {
namespace {

// A tracepoint's jump label tests the static key inside its struct
// tracepoint, whose symbol the kernel's DEFINE_TRACE names so.
constexpr std::string_view kTracepointPrefix = "__tracepoint_";

// The key of one table entry and the function of its code site.
struct KeyedEntry {
    const Symbol *key = nullptr;
    const Symbol *site = nullptr;
};

KeyedEntry read_entry(const Context &ctx, const Section &table, const Range &entry) {
    KeyedEntry out;
    for (const Relocation &r : table.rela->relocs) {
        if (r.offset < entry.offset || r.offset >= entry.offset + entry.size)
            continue;
        Target t = resolve_target(ctx, table, r);
        if (!t.sym)
            continue;
        if (t.sym->is_func())
            out.site = out.site ? out.site : t.sym;
        else if (!t.sym->sec || !t.sym->sec->is_text())
            out.key = t.sym;
    }
    return out;
}

// Whether a reference to `sym` leaves the patch as a livepatch relocation
// against the patched module itself.
bool resolved_when_module_loads(const Context &ctx, const Symbol &sym) {
    if (sym.sec && sym.sec->include)
        return false;
    return !linked_by_name(ctx, sym, /*read_at_load=*/true);
}

std::string_view name_of(const Symbol &sym) {
    return sym.twin ? sym.twin->name : sym.name;
}

// Whether the entry goes, with a word saying so when behaviour changes.
bool drops(Context &ctx, const Section &table, const KeyedEntry &e) {
    if (!e.key || !resolved_when_module_loads(ctx, *e.key))
        return false;
    std::string_view site = e.site ? std::string_view(e.site->name) : std::string_view("?");
    std::string_view key = name_of(*e.key);
    if (table.name == ".static_call_sites") {
        log::debug("{}: {} calls {}'s static call {} through its trampoline (the module "
                   "loader cannot apply the call site before {} is loaded)",
                   ctx.object_name, site, ctx.options.parent_name, key, ctx.options.parent_name);
        return true;
    }
    if (!key.starts_with(kTracepointPrefix))
        return false;
    std::string_view tracepoint = key.substr(kTracepointPrefix.size());
    ctx.inert_tracepoints.push_back(fmt::format("{}: {}", site, tracepoint));
    log::warn(
        "{}: tracepoint {} of module {} stays off in the patched {}: its jump label "
        "needs {}'s own symbol {}, which the livepatch core resolves only when {} "
        "loads, after the module loader has read the patch's __jump_table; the running kernel's "
        "{} fires it again once the patch is disabled (docs/patch-authors-guide.md)",
        ctx.object_name, tracepoint, ctx.options.parent_name, site, ctx.options.parent_name, key,
        ctx.options.parent_name, site);
    return true;
}

} // namespace

void drop_module_keyed_entries(Context &ctx, const Section &table, std::vector<Range> &entries) {
    // vmlinux's symbols are resolved before the module loader reads these.
    if (ctx.options.parent_name == "vmlinux" ||
        (table.name != "__jump_table" && table.name != ".static_call_sites"))
        return;
    std::erase_if(entries, [&](const Range &entry) {
        return drops(ctx, table, read_entry(ctx, table, entry));
    });
}

} // namespace kpp::diff
