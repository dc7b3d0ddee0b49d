// Turning the linked diff output (WORK/module/output.o) into the input of
// the kmod/core patch template (kmod/core/template/), for kernels without
// CONFIG_LIVEPATCH or `kpatch-build --core` (docs/core.md):
//
//  - each relocation against ".klp.sym.<obj>.<symbol>,<sympos>" (a symbol
//    the module loader cannot resolve) leaves its .rela section and becomes
//    a struct kpp_core_reloc in ".kpatchpp.core.relocs", applied by
//    kpatch.ko before the patch is enabled; the .klp.sym symbols go away.
//    Such relocations are accepted in .text*, .rodata* and .data* only: the
//    loader reads its other tables (__jump_table, .altinstructions, ...)
//    before kpatch.ko could resolve them. In debug sections they are
//    dropped (not loaded);
//  - each .kpatchpp.funcs entry of vmlinux gets, at the same index in
//    ".kpatchpp.core.olds", the old function's address in vmlinux and its
//    first bytes with their stable mask (old_func_bytes.h);
//  - each of those that is a branch which may not reach its target (arm64's
//    B and BL reach +-128 MiB; module text can lie further from the kernel's)
//    gets zeroed space in ".text.kpatchpp.veneers" for kpatch.ko to write a
//    veneer into (kpp_core_reloc.veneer; Arch::veneer_size());
//  - ".kpatchpp.core" holds one struct kpp_core_desc, the global symbol
//    kpp_core_desc, pointing at those tables, .kpatchpp.funcs, .kpatchpp.force
//    and the callback sections, with vmlinux's _text.
// Layouts: kmod/core/template/kpatchpp-core-template.c.
#pragma once

#include "kpatch-build/module/klp_convert.h"
#include "kpatch-build/module/old_func_bytes.h"
#include "libkpp/elf/object.h"

#include <cstddef>

namespace kpp::build {

struct CoreConvertResult {
    size_t functions = 0;
    size_t relocations = 0;         // now kpp_core_reloc entries
    size_t dropped_relocations = 0; // in debug sections
    size_t veneers = 0;             // branches given veneer space (arm64)
};

// Converts the model in place. `symvers` holds what the module may call:
// the kernel's exports and kpatch.ko's (kpp_shadow_*; the module loader
// resolves those through kpatch.ko, on which modpost makes the module
// depend). Throws kpp::Error naming the symbol or section at fault (a
// .klp.sym relocation in a table the loader reads, a patched function of a
// module, a function missing from vmlinux, an undefined symbol that is
// neither exported nor kpatch.ko's, a call to the livepatch core's
// klp_shadow_*(): see kpatchpp-macros.h).
CoreConvertResult convert_for_core(elf::Object &obj, const VmlinuxText &vmlinux,
                                   const klp::Symvers &symvers);

// Reads in_o, converts it and writes out_o. `core_symvers`: kpatch.ko's
// Module.symvers, added to the kernel's `symvers` (empty: none).
CoreConvertResult convert_for_core(const std::string &in_o, const std::string &out_o,
                                   const std::string &vmlinux, const std::string &symvers,
                                   const std::string &core_symvers = {});

} // namespace kpp::build
