// Where kpatch-build's own kernel-side files are: the patch-module template
// and the macros patches include (kpatchpp-macros.h), and where that header
// goes in the kernel tree while the objects are built.
#pragma once

#include <filesystem>

namespace kpp::build {

// kmod/patch: installed next to the executable under
// share/kpatchpp/kmod/patch, or in the source tree (KPP_SOURCE_DIR) when
// kpatch-build runs from its build directory. Throws kpp::Error if neither
// has it.
std::filesystem::path find_module_template();

// kmod/core (kpatch.ko's sources, its template/ for `--core` patch
// modules): share/kpatchpp/kmod/core next to the executable, or the source
// tree. Throws kpp::Error if neither has it.
std::filesystem::path find_core_sources();

// Patched sources write `#include <linux/kpatchpp-macros.h>`. Putting the
// template directory on the include path would need KCFLAGS="-I...", and
// every extra KCFLAGS word makes kbuild rebuild prepare outputs and host
// tools of the tree. Instead the header is copied into the tree under this
// path (relative to the kernel tree) for the two builds only; the caller
// protects the path with a TreeGuard first, so the restore removes it (or
// puts back a file that was there) and the tree ends byte-identical.
inline constexpr const char *kMacrosHeaderInTree = "include/linux/kpatchpp-macros.h";

// Copies find_module_template()/kpatchpp-macros.h to
// kernel_dir/kMacrosHeaderInTree (replacing what is there) and returns the
// destination. With `for_core` (a module for kpatch.ko) the copy defines
// KPP_CORE first, which maps the klp_shadow_*() calls of patched sources to
// kpatch.ko's kpp_shadow_*(); a define in the header rather than a -D in
// KCFLAGS for the reason above. Both builds see the same header. Throws
// kpp::Error if the template has no header or kernel_dir has no
// include/linux/ (not a kernel tree).
std::filesystem::path install_macros_header(const std::filesystem::path &kernel_dir,
                                            bool for_core = false);

// The installed header's text: `header` itself, or with for_core a
// "#define KPP_CORE 1" after its first line (the SPDX tag stays first).
std::string macros_header_text(const std::string &header, bool for_core);

} // namespace kpp::build
