// The kernel's special sections: tables whose entries point into functions
// (bug table, jump labels, alternatives, exception table, ORC, ...). Only
// the entries that belong to functions in the patch go to the output.
#pragma once

#include "create-diff-object/context.h"

#include <string_view>
#include <unordered_map>
#include <vector>

namespace kpp::diff {

// Whether a section is a special section (handled entry by entry, never
// compared as a whole).
bool is_special_section(std::string_view name);

// A byte range of an input section that goes to the output.
struct Range {
    uint64_t offset = 0;
    uint64_t size = 0;
};

// The parts of special sections that go to the output, in input order.
struct KeptEntries {
    std::unordered_map<const Section *, std::vector<Range>> ranges;
};

} // namespace kpp::diff
