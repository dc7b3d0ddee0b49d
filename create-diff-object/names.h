// How GCC and clang name the symbols they make up: clone suffixes
// (foo.isra.0, foo.cold, foo.part.1, clang's foo.llvm.<hash>), static locals
// (GCC count.12, clang foo.count), the special statics the kernel's macros
// create and the constants and data the compiler generates on its own.
#pragma once

#include <string>
#include <string_view>

namespace kpp::diff {

// The name with every ".<digits>" component removed: GCC renumbers those
// freely between two builds ("foo.isra.0" -> "foo.isra", "count.3" -> "count").
std::string stable_name(std::string_view name);

// What identifies a special static across two builds: its stable name,
// without the __COUNTER__ value that __UNIQUE_ID() appends to its prefix
// (__UNIQUE_ID_ddebug1130.186 -> __UNIQUE_ID_ddebug) or the counter of a
// compiler-local label (.data..L__unnamed_3 -> .data..L__unnamed_).
std::string special_static_key(std::string_view name);

// For "foo.cold", "foo.cold.3", "foo.part.0": the parent function "foo";
// empty for anything else.
std::string_view parent_function_name(std::string_view name);

// Static data that a kernel macro creates per call site (WARN_ONCE's
// __already_done, lockdep's __key, dynamic debug descriptors, printk index
// entries, __func__, in GCC's form `__key.3` or clang's `func.__key`), data
// the compiler generates without a name (clang's .L__unnamed_N, UBSAN's
// check data) and the compiler's constants (is_compiler_constant): each
// version of a function gets its own copy, so they are never correlated
// with, or shared with, the running kernel.
bool is_special_static(std::string_view name);

// Read-only data the compiler generates for one function and names by a
// counter or after that function: switch lookup tables (GCC CSWTCH.N, clang
// .Lswitch.table.FUNC), clang's initializers of local aggregates
// (.L__const.FUNC.VAR) and string literals (.L.str.N). What they mean is
// their contents, so references to them are compared by value.
bool is_compiler_constant(std::string_view name);

// The name of the data a section was made for with -fdata-sections
// (".rodata.CSWTCH.1" -> "CSWTCH.1", ".data..L__unnamed_1" ->
// ".L__unnamed_1"); empty for sections that are not per-object data.
std::string_view data_name_of_section(std::string_view section);

// The name a static local variable has in the source: GCC's count.3 and
// clang's foo.count are both "count". Empty for any other symbol name.
std::string static_local_source_name(std::string_view name);

} // namespace kpp::diff
