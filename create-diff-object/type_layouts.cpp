#include "create-diff-object/type_layouts.h"

#include "libkpp/error.h"

#include <dwarf.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace kpp::diff {
namespace {

bool is_aggregate(int tag) {
    return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

std::optional<uint64_t> udata(Dwarf_Die *die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word value;
    if (!dwarf_attr(die, name, &attr) || dwarf_formudata(&attr, &value) != 0)
        return std::nullopt;
    return value;
}

// DW_AT_data_bit_offset (bit-fields in DWARF 4+), else the byte offset of
// DW_AT_data_member_location: a constant, or DW_OP_plus_uconst in old DWARF.
uint64_t member_bit_offset(Dwarf_Die *member) {
    if (auto bits = udata(member, DW_AT_data_bit_offset))
        return *bits;
    if (auto bytes = udata(member, DW_AT_data_member_location))
        return *bytes * 8;
    Dwarf_Attribute attr;
    Dwarf_Op *expr;
    size_t len;
    if (dwarf_attr(member, DW_AT_data_member_location, &attr) &&
        dwarf_getlocation(&attr, &expr, &len) == 0 && len == 1 && expr[0].atom == DW_OP_plus_uconst)
        return expr[0].number * 8;
    return 0; // union members, and members at offset 0 without the attribute
}

int64_t member_bit_size(Dwarf_Die *member) {
    if (auto bits = udata(member, DW_AT_bit_size))
        return static_cast<int64_t>(*bits);
    Dwarf_Attribute attr;
    Dwarf_Die type;
    Dwarf_Word size;
    if (!dwarf_attr(member, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
        dwarf_aggregate_size(&type, &size) != 0)
        return -1;
    return static_cast<int64_t>(size * 8);
}

TypeLayout layout_of(Dwarf_Die *type) {
    TypeLayout layout;
    if (auto size = udata(type, DW_AT_byte_size))
        layout.byte_size = static_cast<int64_t>(*size);
    Dwarf_Die child;
    if (dwarf_child(type, &child) != 0)
        return layout;
    do {
        if (dwarf_tag(&child) != DW_TAG_member)
            continue;
        const char *name = dwarf_diename(&child);
        layout.members.push_back(
            {name ? name : "", member_bit_offset(&child), member_bit_size(&child)});
    } while (dwarf_siblingof(&child, &child) == 0);
    return layout;
}

// "struct foo", "union bar", or a typedef's name for `typedef struct {...} baz;`.
std::string key_of(Dwarf_Die *die) {
    const char *name = dwarf_diename(die);
    if (!name)
        return {};
    if (dwarf_tag(die) == DW_TAG_typedef)
        return name;
    return fmt::format("{} {}", dwarf_tag(die) == DW_TAG_union_type ? "union" : "struct", name);
}

std::string bits_text(uint64_t bits) {
    return bits % 8 ? fmt::format("bit {}", bits) : fmt::format("byte {}", bits / 8);
}

const TypeLayout::Member *find_member(const TypeLayout &layout, const std::string &name) {
    auto it = std::find_if(layout.members.begin(), layout.members.end(),
                           [&](const TypeLayout::Member &m) { return m.name == name; });
    return it == layout.members.end() ? nullptr : &*it;
}

} // namespace

void collect_type_layouts(Dwarf_Die *cu, std::unordered_map<std::string, TypeLayout> &out) {
    Dwarf_Die child;
    if (dwarf_child(cu, &child) != 0)
        return;
    do {
        Dwarf_Die *aggregate = &child, target;
        if (dwarf_tag(&child) == DW_TAG_typedef) {
            // Only a typedef of an anonymous struct: a named one is keyed by its tag.
            Dwarf_Attribute attr;
            if (!dwarf_attr(&child, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &target) ||
                !is_aggregate(dwarf_tag(&target)) || dwarf_diename(&target))
                continue;
            aggregate = &target;
        } else if (!is_aggregate(dwarf_tag(&child))) {
            continue;
        }
        if (dwarf_hasattr(aggregate, DW_AT_declaration))
            continue;
        if (std::string key = key_of(&child); !key.empty())
            out.emplace(std::move(key), layout_of(aggregate));
    } while (dwarf_siblingof(&child, &child) == 0);
}

std::string describe_layout_change(const TypeLayout &before, const TypeLayout &after) {
    std::vector<std::string> parts;
    if (before.byte_size != after.byte_size)
        parts.push_back(fmt::format("size {} -> {}", before.byte_size, after.byte_size));
    for (const auto &m : after.members) {
        if (m.name.empty())
            continue;
        const TypeLayout::Member *old = find_member(before, m.name);
        if (!old)
            parts.push_back(fmt::format("member {} added", m.name));
        else if (old->bit_offset != m.bit_offset)
            parts.push_back(fmt::format("member {} moved from {} to {}", m.name,
                                        bits_text(old->bit_offset), bits_text(m.bit_offset)));
        else if (old->bit_size != m.bit_size)
            parts.push_back(fmt::format("member {} resized", m.name));
    }
    for (const auto &m : before.members)
        if (!m.name.empty() && !find_member(after, m.name))
            parts.push_back(fmt::format("member {} removed", m.name));
    if (parts.empty() && before != after)
        parts.push_back("anonymous members changed");
    return fmt::format("{}", fmt::join(parts, "; "));
}

void refuse_layout_changes(Context &ctx) {
    const bool changed =
        std::any_of(ctx.patched->sections.begin(), ctx.patched->sections.end(),
                    [](const auto &sec) { return sec->status == Status::Changed; });
    if (!changed)
        return;
    const auto &before = dwarf_facts(ctx, *ctx.orig).layouts;
    const auto &after = dwarf_facts(ctx, *ctx.patched).layouts;
    std::vector<std::string> keys;
    for (const auto &[key, layout] : after)
        if (auto it = before.find(key); it != before.end() && it->second != layout)
            keys.push_back(key);
    if (keys.empty())
        return;
    std::sort(keys.begin(), keys.end()); // the same message whatever the hash order
    const std::string &key = keys.front();
    throw Refusal(RefusalKind::LayoutChange,
                  "{}: {} changed layout ({}{}); the running kernel's code and data use the old "
                  "layout — keep the type as it is and put new state in a shadow variable",
                  ctx.object_name, key, describe_layout_change(before.at(key), after.at(key)),
                  keys.size() > 1 ? fmt::format("; also changed: {}",
                                                fmt::join(keys.begin() + 1, keys.end(), ", "))
                                  : "");
}

} // namespace kpp::diff
