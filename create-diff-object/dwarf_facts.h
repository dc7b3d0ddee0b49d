// What the DWARF of an object built with debug info says that its symbol
// table does not: which functions GCC inlined into which
// (DW_TAG_inlined_subroutine), and which function each static local belongs
// to (DW_TAG_variable inside a DW_TAG_subprogram), and the layout of every
// named struct and union. Empty without DWARF.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kpp::diff {

using InlinedCallees = std::unordered_map<std::string, std::unordered_set<std::string>>;

// Where a struct or union keeps its members, as the code compiled against it
// sees it.
struct TypeLayout {
    struct Member {
        std::string name;        // empty for an anonymous struct/union member
        uint64_t bit_offset = 0; // from the start of the type
        int64_t bit_size = -1;   // -1 when the size is unknown
        bool operator==(const Member &) const = default;
    };
    int64_t byte_size = -1;
    std::vector<Member> members;
    bool operator==(const TypeLayout &) const = default;
};

struct DwarfFacts {
    // For every function with an out-of-line body, the names of the
    // functions inlined into it (at any depth).
    InlinedCallees inlined;
    // For every static local (by its symbol name, e.g. "count.3"), the
    // function it is declared in.
    std::unordered_map<std::string, std::string> static_owner;
    // Every complete struct and union type declared at file scope, by
    // "struct NAME", "union NAME" or, for an anonymous one behind a typedef,
    // the typedef's name.
    std::unordered_map<std::string, TypeLayout> layouts;
};

DwarfFacts read_dwarf_facts(const std::string &path);

} // namespace kpp::diff
