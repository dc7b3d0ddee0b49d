// Module names as the kernel knows them, shared by create-diff-object (which
// names a module's symbols in livepatch relocations) and kpatch-build.
#pragma once

#include <string>
#include <string_view>

namespace kpp {

// What the kernel calls the module: kbuild turns '-' into '_' (KBUILD_MODNAME).
std::string kernel_module_name(std::string_view name);

// The module a Module.symvers line names in its module column
// ("fs/binfmt_misc", an external module's full path, or "vmlinux"), as the
// kernel calls it: "binfmt_misc", "vmlinux".
std::string symvers_module_name(std::string_view column);

} // namespace kpp
