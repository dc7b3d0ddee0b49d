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

// Patched sources write `#include <linux/kpatchpp-macros.h>`, or, when
// written for kpatch, `#include "kpatch-macros.h"` and
// `#include "kpatch-syscall.h"`. Putting the template directory on the
// include path would need KCFLAGS="-I...", and every extra KCFLAGS word
// makes kbuild rebuild prepare outputs and host tools of the tree. Instead
// the headers are copied into the tree under these paths (relative to the
// kernel tree; the kernel's own -I$(srctree)/include finds the kpatch names
// from any source file or out-of-tree module) for the two builds only; the
// caller protects the paths with a TreeGuard first, so the restore removes
// them (or puts back files that were there) and the tree ends byte-identical.
struct PatchHeader {
    const char *template_file; // in find_module_template()
    const char *in_tree;       // where the builds find it
};
inline constexpr PatchHeader kPatchHeaders[] = {
    {"kpatchpp-macros.h", "include/linux/kpatchpp-macros.h"},
    {"kpatch-macros.h", "include/kpatch-macros.h"},
    {"kpatch-syscall.h", "include/kpatch-syscall.h"},
};
inline constexpr const char *kMacrosHeaderInTree = kPatchHeaders[0].in_tree;

// Copies each of kPatchHeaders from find_module_template() into kernel_dir
// (replacing what is there). With `for_core` (a module for kpatch.ko) the
// copy of kpatchpp-macros.h, which the others include, defines KPP_CORE
// first; that maps the klp_shadow_*() calls of patched sources to
// kpatch.ko's kpp_shadow_*(); a define in the header rather than a -D in
// KCFLAGS for the reason above. Both builds see the same headers. Throws
// kpp::Error if the template lacks a header or kernel_dir has no
// include/linux/ (not a kernel tree).
void install_patch_headers(const std::filesystem::path &kernel_dir, bool for_core = false);

// The installed header's text: `header` itself, or with for_core a
// "#define KPP_CORE 1" after its first line (the SPDX tag stays first).
std::string macros_header_text(const std::string &header, bool for_core);

} // namespace kpp::build
