// GCC's naming of the symbols it makes up: clone suffixes (foo.isra.0,
// foo.cold, foo.part.1), numbered static locals (count.12) and the special
// statics the kernel's macros create.
#pragma once

#include <string>
#include <string_view>

namespace kpp::diff {

// The name with every ".<digits>" component removed: GCC renumbers those
// freely between two builds ("foo.isra.0" -> "foo.isra", "count.3" -> "count").
std::string stable_name(std::string_view name);

// What identifies a special static across two builds: its stable name,
// without the __COUNTER__ value that __UNIQUE_ID() appends to its prefix
// (__UNIQUE_ID_ddebug1130.186 -> __UNIQUE_ID_ddebug).
std::string special_static_key(std::string_view name);

// For "foo.cold", "foo.cold.3", "foo.part.0": the parent function "foo";
// empty for anything else.
std::string_view parent_function_name(std::string_view name);

// Static data that a kernel macro creates per call site (WARN_ONCE's
// __already_done, lockdep's __key, dynamic debug descriptors, printk index
// entries, __func__): each version of a function gets its own copy, so they
// are never correlated, compared or shared with the running kernel.
bool is_special_static(std::string_view name);

} // namespace kpp::diff
