// The post-link step that turns a linked kpatch++ patch module (.ko built
// from kmod/patch/ and create-diff-object's output.o) into a livepatch
// module as Documentation/livepatch/module-elf-format.rst describes:
//
//  - every undefined ".klp.sym.<objname>.<symbol>,<sympos>" symbol is marked
//    SHN_LIVEPATCH, so the module loader leaves it to the livepatch core;
//  - every relocation against such a symbol moves out of ".rela<section>"
//    into ".klp.rela.<objname>.<section>" (SHT_RELA with SHF_ALLOC,
//    SHF_INFO_LINK and SHF_RELA_LIVEPATCH), one section per object and
//    relocated section; ".rela" sections left empty are removed;
//  - every other undefined symbol must be exported (Module.symvers), or the
//    module would not load: such symbols are refused;
//  - relocations against vmlinux symbols may sit in any section the module
//    loader keeps (also __jump_table, .static_call_sites, .altinstructions,
//    ...): Linux 6.1 applies .klp.rela.vmlinux.* in load_module() ->
//    apply_relocations() -> klp_apply_section_relocs(), before it reads those
//    tables. Relocations against module symbols are applied only when that
//    module loads (klp_module_coming()), so they are refused in sections read
//    at load time.
#pragma once

#include "libkpp/elf/object.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kpp::klp {

inline constexpr std::string_view kSymPrefix = ".klp.sym.";
inline constexpr std::string_view kRelaPrefix = ".klp.rela.";
// MODULE_NAME_LEN - 1 and KSYM_NAME_LEN - 1 in Linux 6.1: the livepatch core
// parses names with "%55[^.]" and "%511[^,]".
inline constexpr size_t kMaxObjnameLen = 55;
inline constexpr size_t kMaxSymbolLen = 511;

// The parts of ".klp.sym.<objname>.<symbol>,<sympos>".
struct KlpSymbolName {
    std::string objname; // "vmlinux" or a module name
    std::string symbol;
    uint64_t sympos = 0;
};

// nullopt when name does not start with ".klp.sym."; throws kpp::Error
// naming the symbol when it does but does not follow the format.
std::optional<KlpSymbolName> parse_klp_symbol(std::string_view name);

// "vmlinux" or a module name as the kernel spells it (after '-' -> '_'):
// 1..55 characters from [A-Za-z0-9_-].
bool is_valid_objname(std::string_view objname);

// One line of Module.symvers: "<crc>\t<symbol>\t<module>\t<export type>\t<namespace>".
struct Export {
    std::string module;
    std::string export_type; // EXPORT_SYMBOL, EXPORT_SYMBOL_GPL
    std::string ns;          // empty unless EXPORT_SYMBOL_NS*
};
using Symvers = std::unordered_map<std::string, Export>;

// Throws kpp::Error if the file cannot be read or a line is malformed.
Symvers read_symvers(const std::string &path);

struct ConvertResult {
    size_t klp_symbols = 0;                    // symbols now SHN_LIVEPATCH
    size_t klp_relocations = 0;                // relocations moved into .klp.rela sections
    size_t dropped_relocations = 0;            // against .klp.sym symbols in debug sections
    std::vector<std::string> klp_sections;     // names of the .klp.rela sections made
    std::vector<std::string> removed_sections; // .rela sections left empty and removed
};

// Converts the model in place. symvers_name is only used in messages.
// Throws kpp::Error (with the symbol or section at fault and what to do)
// on a malformed livepatch symbol, an undefined symbol that is not exported,
// a livepatch relocation the kernel could not apply, or a module object
// that its livepatch symbols cannot belong to.
ConvertResult convert_object(elf::Object &obj, const Symvers &symvers,
                             std::string_view symvers_name = "Module.symvers");

// Reads in_ko, converts it and writes out_ko (which may be in_ko).
ConvertResult convert_module(const std::string &in_ko, const std::string &out_ko,
                             const std::string &symvers_path);

} // namespace kpp::klp
