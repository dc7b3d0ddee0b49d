// Struct and union layouts from DWARF, and the refusal of a patch that
// changes one: code and data in the running kernel (and in objects the
// patch does not rebuild) keep using the old layout, so a function compiled
// against the new one would read and write the wrong bytes.
#pragma once

#include "create-diff-object/context.h"

#include <elfutils/libdw.h>

namespace kpp::diff {

// Adds the layout of every complete struct/union declared directly in the
// compile unit `cu` (see DwarfFacts::layouts).
void collect_type_layouts(Dwarf_Die *cu, std::unordered_map<std::string, TypeLayout> &out);

// What differs, e.g. "size 16 -> 24; member flags added". Empty if nothing.
std::string describe_layout_change(const TypeLayout &before, const TypeLayout &after);

// Refuses (kpp::Refusal) when a type both objects declare has a different
// layout. Reads the DWARF only when something changed.
void refuse_layout_changes(Context &ctx);

} // namespace kpp::diff
