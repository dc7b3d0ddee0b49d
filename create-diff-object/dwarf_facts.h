// What the DWARF of an object built with debug info says that its symbol
// table does not: which functions GCC inlined into which
// (DW_TAG_inlined_subroutine), and which function each static local belongs
// to (DW_TAG_variable inside a DW_TAG_subprogram). Empty without DWARF.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace kpp::diff {

using InlinedCallees = std::unordered_map<std::string, std::unordered_set<std::string>>;

struct DwarfFacts {
    // For every function with an out-of-line body, the names of the
    // functions inlined into it (at any depth).
    InlinedCallees inlined;
    // For every static local (by its symbol name, e.g. "count.3"), the
    // function it is declared in.
    std::unordered_map<std::string, std::string> static_owner;
};

DwarfFacts read_dwarf_facts(const std::string &path);

} // namespace kpp::diff
