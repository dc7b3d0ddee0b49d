// create-diff-object as a library: compare one object file built before and
// after a source patch and write an object holding only what a live patch
// needs. The CLI (main.cpp) and kpatch-build both call diff_objects().
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace kpp::diff {

// Sizes of the kernel structures that make up the special sections. Each is
// unset until given; a special section whose size is unknown and cannot be
// derived is refused rather than guessed.
struct StructSizes {
    std::optional<size_t> bug;          // struct bug_entry          (__bug_table)
    std::optional<size_t> jump;         // struct jump_entry         (__jump_table)
    std::optional<size_t> alt;          // struct alt_instr          (.altinstructions)
    std::optional<size_t> ex;           // struct exception_table_entry (__ex_table)
    std::optional<size_t> para;         // struct paravirt_patch_site (.parainstructions)
    std::optional<size_t> orc;          // struct orc_entry          (.orc_unwind)
    std::optional<size_t> static_call;  // struct static_call_site   (.static_call_sites)
    std::optional<size_t> printk_index; // struct pi_entry           (.printk_index)

    // BUG_STRUCT_SIZE, JUMP_STRUCT_SIZE, ... as kpatch-build exports them.
    static StructSizes from_environment();
    // Reads the sizes from a vmlinux (or any object) with DWARF, via libdw.
    static StructSizes from_dwarf(const std::string &path);
    // Fills what this one lacks from other.
    void merge(const StructSizes &other);
};

struct Options {
    std::string orig_path;     // object built from the original source
    std::string patched_path;  // the same object built from the patched source
    std::string parent_name;   // "vmlinux", or the name of the module the object belongs to
    std::string parent_symtab; // the parent's symbols: its ELF file, or `readelf -s --wide` text
    std::string symvers_path;  // Module.symvers (may be /dev/null)
    std::string patch_name;
    std::string output_path;
    std::string report_path; // optional: write the JSON report here
    StructSizes sizes;
};

struct FunctionChange {
    std::string name;
    bool is_new = false;
    std::string reason; // "bytes", "relocation to X", "new function", ...
    // For a .cold/.part piece: the function it belongs to, which the module
    // replaces as a whole (the piece is no livepatch function of its own).
    std::string part_of;
};

struct Result {
    // False when the two objects are equivalent; no output is written then.
    bool changed = false;
    std::vector<FunctionChange> functions;
    nlohmann::json report;
};

// Throws kpp::Refusal when the change cannot be applied live, kpp::Error on
// malformed input. Safe to call from several threads at once on different
// objects.
Result diff_objects(const Options &options);

} // namespace kpp::diff
