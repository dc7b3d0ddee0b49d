// Where kpatch-build's own kernel-side files are: the patch-module template
// and the macros patches may include (kpatchpp-macros.h).
#pragma once

#include <filesystem>

namespace kpp::build {

// kmod/patch: installed next to the executable under
// share/kpatchpp/kmod/patch, or in the source tree (KPP_SOURCE_DIR) when
// kpatch-build runs from its build directory. Throws kpp::Error if neither
// has it.
std::filesystem::path find_module_template();

} // namespace kpp::build
