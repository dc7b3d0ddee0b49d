#include "create-diff-object/dwarf_facts.h"

#include "create-diff-object/type_layouts.h"

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

// The symbol a static variable's DW_OP_addr location names.
const char *symbol_of_variable(Dwfl_Module *mod, Dwarf_Die *var, Dwarf_Addr bias) {
    Dwarf_Attribute attr;
    Dwarf_Op *expr;
    size_t len;
    if (!dwarf_attr(var, DW_AT_location, &attr) || dwarf_getlocation(&attr, &expr, &len) != 0 ||
        len != 1 || expr[0].atom != DW_OP_addr)
        return nullptr;
    GElf_Sym sym;
    GElf_Off offset;
    const char *name =
        dwfl_module_addrinfo(mod, expr[0].number + bias, &offset, &sym, nullptr, nullptr, nullptr);
    return name && offset == 0 ? name : nullptr;
}

void collect_statics(Dwfl_Module *mod, Dwarf_Addr bias, Dwarf_Die *die, const std::string &func,
                     DwarfFacts &facts) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_variable) {
            if (const char *sym = symbol_of_variable(mod, &child, bias))
                facts.static_owner.emplace(sym, func);
        } else if (tag == DW_TAG_lexical_block) {
            collect_statics(mod, bias, &child, func, facts);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

void walk_functions(Dwfl_Module *mod, Dwarf_Addr bias, Dwarf_Die *die, DwarfFacts &facts) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0)
        return;
    do {
        if (dwarf_tag(&child) == DW_TAG_subprogram) {
            const char *name = name_of(&child);
            if (!name)
                continue;
            if (dwarf_hasattr(&child, DW_AT_low_pc))
                collect_inlined(&child, facts.inlined[name]);
            collect_statics(mod, bias, &child, name, facts);
        } else if (dwarf_tag(&child) == DW_TAG_namespace) {
            walk_functions(mod, bias, &child, facts);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

struct DwflDeleter {
    void operator()(Dwfl *dwfl) const { dwfl_end(dwfl); }
};

} // namespace

DwarfFacts read_dwarf_facts(const std::string &path) {
    // libdwfl applies the object's relocations to its DWARF, which a plain
    // dwarf_begin() on a relocatable object would not.
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = nullptr,
    };
    DwarfFacts facts;
    std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&callbacks));
    if (!dwfl)
        return facts;
    Dwfl_Module *mod = dwfl_report_offline(dwfl.get(), "object", path.c_str(), -1);
    dwfl_report_end(dwfl.get(), nullptr, nullptr);
    if (!mod)
        return facts;
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    if (!dw)
        return facts;
    Dwarf_Off offset = 0, next;
    size_t header_size;
    while (dwarf_nextcu(dw, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(dw, offset + header_size, &cu)) {
            walk_functions(mod, bias, &cu, facts);
            collect_type_layouts(&cu, facts.layouts);
        }
        offset = next;
    }
    return facts;
}

} // namespace kpp::diff
