#include "create-diff-object/sections.h"
#include "create-diff-object/names.h"

#include <array>
#include <string_view>

namespace kpp::diff {
namespace {

bool starts_with_any(std::string_view name, std::initializer_list<std::string_view> prefixes) {
    for (std::string_view p : prefixes)
        if (name.starts_with(p))
            return true;
    return false;
}

} // namespace

// GCC names merged string sections ".rodata.str1.1", or with -fdata-sections
// ".rodata.<function>.str1.8"; both are SHF_MERGE|SHF_STRINGS.
bool is_string_section(const elf::Section &sec) {
    return (sec.hdr.sh_flags & SHF_STRINGS) != 0;
}

bool is_constant_pool(const elf::Section &sec) {
    return (sec.hdr.sh_flags & SHF_MERGE) != 0 && sec.is_alloc();
}

SectionLife section_life(const elf::Section &sec) {
    if (starts_with_any(sec.name, {".init."}))
        return SectionLife::Init;
    if (starts_with_any(sec.name, {".meminit."}))
        return SectionLife::MemInit;
    if (starts_with_any(sec.name, {".exit."}))
        return SectionLife::Exit;
    return SectionLife::Resident;
}

bool is_ignored_section(const elf::Section &sec) {
    return sec.is_rela() || sec.hdr.sh_type == SHT_SYMTAB || sec.hdr.sh_type == SHT_STRTAB ||
           sec.hdr.sh_type == SHT_NULL || sec.hdr.sh_type == SHT_NOTE ||
           starts_with_any(sec.name,
                           {".comment", ".note", ".debug", ".eh_frame", ".GCC", "__ksymtab",
                            "___ksymtab", "__kcrctab", ".initcall", ".con_initcall", ".init.setup",
                            "__setup", ".llvm", ".BTF", "__param", ".export_symbol",
                            ".kpatchpp.ignore", ".kpatch.ignore"});
}

bool is_read_only_data(const elf::Section &sec) {
    return sec.is_alloc() && !sec.is_text() && (sec.hdr.sh_flags & SHF_WRITE) == 0;
}

bool is_debug_section(const elf::Section &sec) {
    return sec.name.starts_with(".debug_") && !sec.is_rela();
}

bool is_author_section(const elf::Section &sec) {
    return sec.name.starts_with(".kpatchpp.") && !sec.name.starts_with(".kpatchpp.ignore");
}

std::unordered_set<const elf::Section *> special_static_sections(const elf::Object &obj,
                                                                 const Arch &arch) {
    std::unordered_set<const elf::Section *> all_special, mixed;
    // Data the compiler made without a symbol (GCC's UBSAN check data in
    // .data..Lubsan_data3, clang's .data..L__unnamed_1 and switch tables in
    // .rodata..Lswitch.table.FUNC).
    for (const auto &sec : obj.sections)
        if (std::string_view data = data_name_of_section(sec->name);
            !data.empty() && is_special_static(data))
            all_special.insert(sec.get());
    for (const auto &sym : obj.symbols) {
        if (!sym->sec || sym->is_section() || arch.is_mapping_symbol(*sym))
            continue;
        if (is_special_static(sym->name))
            all_special.insert(sym->sec);
        else
            mixed.insert(sym->sec);
    }
    for (const elf::Section *sec : mixed)
        all_special.erase(sec);
    return all_special;
}

} // namespace kpp::diff
