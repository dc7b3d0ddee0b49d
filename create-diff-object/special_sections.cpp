// Pass: special sections. For each table whose entries point into
// functions, keep the entries of included functions; then include what the
// kept entries point at (replacement code, fixups, strings, keys).
#include "create-diff-object/special_sections.h"
#include "create-diff-object/module_keys.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/sections.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_set>

namespace kpp::diff {
namespace {

// Where the size of one entry comes from.
struct SpecialSection {
    std::string_view name;
    std::optional<size_t> StructSizes::*size = nullptr; // from the kernel's struct
    size_t fixed = 0;                                   // or always this
    std::string_view struct_name;
};

constexpr SpecialSection kTables[] = {
    {"__bug_table", &StructSizes::bug, 0, "struct bug_entry"},
    {"__jump_table", &StructSizes::jump, 0, "struct jump_entry"},
    {".altinstructions", &StructSizes::alt, 0, "struct alt_instr"},
    {"__ex_table", &StructSizes::ex, 0, "struct exception_table_entry"},
    {".parainstructions", &StructSizes::para, 0, "struct paravirt_patch_site"},
    {".static_call_sites", &StructSizes::static_call, 0, "struct static_call_site"},
    {".orc_unwind_ip", nullptr, 4, ""},
    {".smp_locks", nullptr, 4, ""},
    {".retpoline_sites", nullptr, 4, ""},
    {".return_sites", nullptr, 4, ""},
    {".ibt_endbr_seal", nullptr, 4, ""},
    {".call_sites", nullptr, 4, ""},
    {"__mcount_loc", nullptr, 8, ""},
    {"__patchable_function_entries", nullptr, 8, ""},
    {".printk_index", nullptr, 8, ""},
};

// Sections that are not tables themselves but belong to one: included with
// the entries that point at them, never compared.
constexpr std::string_view kCompanions[] = {
    ".orc_unwind",
    ".altinstr_replacement",
    ".altinstr_aux",
    ".fixup",
    "__dyndbg",
    ".modinfo",
    "__tracepoints",
    "__tracepoints_ptrs",
    "__tracepoints_strings",
    ".static_call.text",
};

const SpecialSection *table_for(std::string_view name) {
    for (const SpecialSection &t : kTables)
        if (t.name == name)
            return &t;
    return nullptr;
}

// Whether sec reads as a table of `size`-byte entries: every kernel table
// here starts each entry with the same kind of pointer (into code, for the
// tables of code sites), so every entry must begin with a relocation of one
// type. (Later fields may lack one: an empty alternative has no replacement
// pointer.) The last entry may lack its tail padding, since assemblers emit
// the fields, not the struct's alignment.
bool entries_have_size(const Section &sec, size_t size) {
    if (size == 0 || !sec.rela || sec.rela->relocs.empty())
        return false;
    uint64_t entries = (sec.size() + size - 1) / size;
    uint64_t starts = 0, last_field = 0;
    uint32_t start_type = sec.rela->relocs.front().type;
    for (const Relocation &r : sec.rela->relocs) {
        if (r.offset % size == 0) {
            if (r.type != start_type)
                return false;
            starts++;
        }
        last_field = std::max<uint64_t>(last_field, r.offset % size);
    }
    uint64_t tail = sec.size() % size;
    return starts == entries && (tail == 0 || tail > last_field);
}

// The smallest entry size the relocations repeat with: for objtool's
// .discard.* annotations, and for a table whose given struct size does not
// fit this object (it was built for another kernel version).
std::optional<size_t> inferred_entry_size(const Section &sec) {
    for (size_t size = 4; size <= 64 && size <= sec.size(); size++)
        if (entries_have_size(sec, size))
            return size;
    return std::nullopt;
}

std::optional<size_t> entry_size(const Context &ctx, const Section &sec) {
    const SpecialSection *t = table_for(sec.name);
    if (!t)
        return inferred_entry_size(sec);
    if (!t->size)
        return t->fixed;
    const std::optional<size_t> &given = ctx.options.sizes.*(t->size);
    if (given && entries_have_size(sec, *given))
        return given;
    std::optional<size_t> inferred = inferred_entry_size(sec);
    if (!inferred)
        throw Error("{}: cannot tell the entry size of {} ({}): {}", ctx.object_name, sec.name,
                    t->struct_name,
                    given ? fmt::format("{} bytes does not fit its {} bytes", *given, sec.size())
                          : std::string("pass it in the environment as kpatch-build does, or "
                                        "give a vmlinux with debug info"));
    if (given)
        log::warn("{}: {} entries are {} bytes here, not the {} given for {}", ctx.object_name,
                  sec.name, *inferred, *given, t->struct_name);
    return inferred;
}

// Whether a relocation points into a function that is in the patch.
bool points_into_included_function(const Relocation &r) {
    const Section *target = r.sym->sec;
    return target && target->is_text() && target->owner && target->owner->is_func() &&
           target->include;
}

using EntryTest = std::function<bool(const Relocation &)>;

std::vector<Range> select_entries(const Section &sec, size_t size, const EntryTest &belongs) {
    std::vector<Range> kept;
    const auto &relocs = sec.rela->relocs;
    size_t r = 0;
    for (uint64_t entry = 0; entry < sec.size(); entry += size) {
        bool keep = false;
        for (; r < relocs.size() && relocs[r].offset < entry + size; r++)
            keep = keep || belongs(relocs[r]);
        if (keep)
            kept.push_back({entry, size});
    }
    return kept;
}

// A string literal's place: its section and offset.
using StringPlace = std::pair<const Section *, int64_t>;
struct StringPlaceHash {
    size_t operator()(const StringPlace &p) const {
        return std::hash<const void *>()(p.first) ^ std::hash<int64_t>()(p.second);
    }
};

// .printk_index points at one pi_entry per printk call site; the entry's
// first field is the format string the call passes. An entry belongs to the
// patch when an included function passes that same string.
EntryTest printk_index_test(const Context &ctx) {
    auto used = std::make_shared<std::unordered_set<StringPlace, StringPlaceHash>>();
    for (const auto &sec : ctx.patched->sections) {
        if (!sec->include || !sec->is_text() || !sec->rela)
            continue;
        for (const Relocation &r : sec->rela->relocs)
            if (r.sym->sec && is_string_section(*r.sym->sec))
                used->insert({r.sym->sec, ctx.arch.target_offset(*sec, r)});
    }
    return [&ctx, used](const Relocation &r) {
        Section *entry = r.sym->sec;
        if (!entry || !entry->rela)
            return false;
        for (const Relocation &field : entry->rela->relocs) {
            uint64_t start = r.sym->is_section() ? r.addend : r.sym->value + r.addend;
            if (field.offset == start && field.sym->sec && is_string_section(*field.sym->sec))
                return used->contains({field.sym->sec, ctx.arch.target_offset(*entry, field)});
        }
        return false;
    };
}

// .orc_unwind holds the unwind data for the entry at the same index of
// .orc_unwind_ip, which holds the addresses.
void keep_matching_orc(Context &ctx, const std::vector<Range> &ip_entries, KeptEntries &kept) {
    Section *orc = ctx.patched->find_section(".orc_unwind");
    if (!orc)
        return;
    if (!ctx.options.sizes.orc)
        throw Error("{}: cannot process .orc_unwind without the size of struct orc_entry",
                    ctx.object_name);
    size_t size = *ctx.options.sizes.orc;
    std::vector<Range> &out = kept.ranges[orc];
    for (const Range &ip : ip_entries) {
        uint64_t at = ip.offset / 4 * size;
        if (at + size > orc->size())
            throw Error("{}: .orc_unwind ({} bytes, {}-byte entries) has no entry {}, which "
                        ".orc_unwind_ip has; the two tables must have as many entries",
                        ctx.object_name, orc->size(), size, ip.offset / 4);
        out.push_back({at, size});
    }
}

// import_ns= lines must follow code that uses a namespaced export.
void keep_import_namespaces(Context &ctx, KeptEntries &kept) {
    Section *modinfo = ctx.patched->find_section(".modinfo");
    if (!modinfo)
        return;
    std::vector<Range> &out = kept.ranges[modinfo];
    const auto &d = modinfo->data;
    for (size_t at = 0; at < d.size();) {
        size_t end = at;
        while (end < d.size() && d[end])
            end++;
        std::string_view line(reinterpret_cast<const char *>(d.data()) + at, end - at);
        if (line.starts_with("import_ns="))
            out.push_back({at, end - at + 1});
        at = end + 1;
    }
    if (out.empty())
        kept.ranges.erase(modinfo);
}

} // namespace

bool is_special_section(std::string_view name) {
    return table_for(name) || name.starts_with(".discard.") ||
           std::find(std::begin(kCompanions), std::end(kCompanions), name) != std::end(kCompanions);
}

void select_special_entries(Context &ctx, KeptEntries &kept) {
    for (auto &owned : ctx.patched->sections) {
        Section &sec = *owned;
        bool table = table_for(sec.name) || sec.name.starts_with(".discard.");
        if (!table || !sec.rela || sec.size() == 0)
            continue;
        if (ctx.arch.drops_table(sec.name)) {
            log::debug("{}: dropping {}: never copied into a patch module", ctx.object_name,
                       sec.name);
            continue;
        }
        std::optional<size_t> size = entry_size(ctx, sec);
        if (!size) {
            log::debug("{}: dropping {}: entries of unknown size", ctx.object_name, sec.name);
            continue;
        }
        EntryTest belongs = sec.name == ".printk_index" ? printk_index_test(ctx)
                                                        : EntryTest(points_into_included_function);
        std::vector<Range> entries = select_entries(sec, *size, belongs);
        drop_module_keyed_entries(ctx, sec, entries);
        log::debug("{}: {}: keeping {} of {} entries", ctx.object_name, sec.name, entries.size(),
                   sec.size() / *size);
        if (entries.empty())
            continue;
        if (sec.name == ".orc_unwind_ip")
            keep_matching_orc(ctx, entries, kept);
        kept.ranges[&sec] = std::move(entries);
    }
    keep_import_namespaces(ctx, kept);
    include_references(ctx, &kept);
}

} // namespace kpp::diff
