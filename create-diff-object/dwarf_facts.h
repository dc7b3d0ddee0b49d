// Which functions GCC inlined into which, from the DWARF of an object built
// with debug info (DW_TAG_inlined_subroutine records). Empty without DWARF.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

namespace kpp::diff {

using InlinedCallees = std::unordered_map<std::string, std::unordered_set<std::string>>;

// For every function with an out-of-line body in the object at path, the
// names of the functions inlined into it (at any depth).
InlinedCallees read_inlined_callees(const std::string &path);

} // namespace kpp::diff
