// Which sections of a patch module may hold livepatch relocations, by when
// Linux 6.1 applies them: shared by create-diff-object (which refuses, at
// diff time, what could never be linked) and kpatch-build's klp conversion.
#pragma once

#include <string_view>

namespace kpp::klp {

// Sections whose SHF_ALLOC the module loader clears (.modinfo, __versions,
// .data..percpu): apply_relocations() skips their relocations.
bool alloc_cleared_by_loader(std::string_view name);

// Sections the module loader or the patch template read while the patch
// module loads, before the livepatch core applies relocations against a
// module's symbols (klp_module_coming()): such a relocation there would be
// seen unapplied.
bool read_before_module_klp_relocs(std::string_view name);

} // namespace kpp::klp
