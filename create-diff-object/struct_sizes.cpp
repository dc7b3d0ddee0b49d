// Sizes of the kernel structures behind the special sections: from the
// environment (as kpatch-build exports them) or from DWARF.
#include "create-diff-object/diff.h"
#include "libkpp/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace kpp::diff {
namespace {

struct SizeSource {
    std::optional<size_t> StructSizes::*field;
    const char *env;
    const char *type_name; // the struct's name in DWARF
};

constexpr SizeSource kSources[] = {
    {&StructSizes::bug, "BUG_STRUCT_SIZE", "bug_entry"},
    {&StructSizes::jump, "JUMP_STRUCT_SIZE", "jump_entry"},
    {&StructSizes::alt, "ALT_STRUCT_SIZE", "alt_instr"},
    {&StructSizes::ex, "EX_STRUCT_SIZE", "exception_table_entry"},
    {&StructSizes::para, "PARA_STRUCT_SIZE", "paravirt_patch_site"},
    {&StructSizes::orc, "ORC_STRUCT_SIZE", "orc_entry"},
    {&StructSizes::static_call, "STATIC_CALL_STRUCT_SIZE", "static_call_site"},
    {&StructSizes::printk_index, "PRINTK_INDEX_STRUCT_SIZE", "pi_entry"},
};

std::optional<size_t> struct_size_in(Dwarf_Die *cu, std::string_view name) {
    Dwarf_Die child;
    if (dwarf_child(cu, &child) != 0)
        return std::nullopt;
    do {
        if (dwarf_tag(&child) != DW_TAG_structure_type || dwarf_hasattr(&child, DW_AT_declaration))
            continue;
        const char *n = dwarf_diename(&child);
        Dwarf_Word size;
        Dwarf_Attribute attr;
        if (n && name == n && dwarf_attr(&child, DW_AT_byte_size, &attr) &&
            dwarf_formudata(&attr, &size) == 0)
            return size;
    } while (dwarf_siblingof(&child, &child) == 0);
    return std::nullopt;
}

} // namespace

StructSizes StructSizes::from_environment() {
    StructSizes sizes;
    for (const SizeSource &s : kSources) {
        const char *value = std::getenv(s.env);
        if (!value || !*value)
            continue;
        char *end = nullptr;
        unsigned long n = std::strtoul(value, &end, 0);
        if (*end || n == 0)
            throw Error("{}={} is not a positive number", s.env, value);
        sizes.*(s.field) = n;
    }
    return sizes;
}

StructSizes StructSizes::from_dwarf(const std::string &path) {
    StructSizes sizes;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error("{}: cannot open to read struct sizes", path);
    Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
    if (!dw) {
        close(fd);
        throw Error("{}: has no DWARF debug info to read struct sizes from", path);
    }
    size_t missing = std::size(kSources);
    Dwarf_Off offset = 0, next;
    size_t header_size;
    // Stop as soon as every struct is found: a vmlinux has thousands of units.
    while (missing &&
           dwarf_nextcu(dw, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, offset + header_size, &cu)) {
            for (const SizeSource &s : kSources) {
                if (sizes.*(s.field))
                    continue;
                if (auto size = struct_size_in(&cu, s.type_name)) {
                    sizes.*(s.field) = *size;
                    missing--;
                }
            }
        }
        offset = next;
    }
    dwarf_end(dw);
    close(fd);
    return sizes;
}

void StructSizes::merge(const StructSizes &other) {
    for (const SizeSource &s : kSources)
        if (!(this->*(s.field)))
            this->*(s.field) = other.*(s.field);
}

} // namespace kpp::diff
