#include "create-diff-object/inlining.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>

#include <memory>

namespace kpp::diff {
namespace {

const char *name_of(Dwarf_Die *die) {
    Dwarf_Attribute attr;
    // A concrete or inlined instance names its function through
    // DW_AT_abstract_origin; dwarf_attr_integrate follows it.
    if (!dwarf_attr_integrate(die, DW_AT_name, &attr))
        return nullptr;
    return dwarf_formstring(&attr);
}

void collect_inlined(Dwarf_Die *die, std::unordered_set<std::string> &out) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0)
        return;
    do {
        if (dwarf_tag(&child) == DW_TAG_inlined_subroutine)
            if (const char *name = name_of(&child))
                out.insert(name);
        collect_inlined(&child, out);
    } while (dwarf_siblingof(&child, &child) == 0);
}

void walk_functions(Dwarf_Die *die, InlinedCallees &callees) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0)
        return;
    do {
        if (dwarf_tag(&child) == DW_TAG_subprogram && dwarf_hasattr(&child, DW_AT_low_pc)) {
            if (const char *name = name_of(&child))
                collect_inlined(&child, callees[name]);
        } else if (dwarf_tag(&child) == DW_TAG_namespace) {
            walk_functions(&child, callees);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

struct DwflDeleter {
    void operator()(Dwfl *dwfl) const { dwfl_end(dwfl); }
};

} // namespace

InlinedCallees read_inlined_callees(const std::string &path) {
    // libdwfl applies the object's relocations to its DWARF, which a plain
    // dwarf_begin() on a relocatable object would not.
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = nullptr,
    };
    InlinedCallees callees;
    std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&callbacks));
    if (!dwfl)
        return callees;
    Dwfl_Module *mod = dwfl_report_offline(dwfl.get(), "object", path.c_str(), -1);
    dwfl_report_end(dwfl.get(), nullptr, nullptr);
    if (!mod)
        return callees;
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    if (!dw)
        return callees;
    Dwarf_Off offset = 0, next;
    size_t header_size;
    while (dwarf_nextcu(dw, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, offset + header_size, &cu))
            walk_functions(&cu, callees);
        offset = next;
    }
    return callees;
}

} // namespace kpp::diff
