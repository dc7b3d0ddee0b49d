// Which generated files a rebuild of some objects may write.
//
// Besides the object itself, a goal can pull in other generated files: the
// vDSO image object is compiled from a generated .c that embeds vdso64.so,
// which is linked from objects in the same directory; rmpiggy.o embeds
// realmode.bin from arch/x86/realmode/rm/. With KCFLAGS changed, kbuild
// rebuilds that whole chain. So the guard protects every kbuild-generated
// file (one with a .NAME.cmd file beside it) in the object's directory and in
// the directory of every generated input its .cmd file lists, and in each
// subdirectory of those that links nothing into vmlinux or a module (such as
// arch/x86/realmode/rm/, whose realmode.bin rmpiggy.o embeds through a
// Makefile rule no .cmd file records).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kpp::build {

// Relative to root, without duplicates; includes each object, its .cmd and
// the .d file gcc writes until fixdep removes it, even if absent now.
// is_linked tells whether an object is part of vmlinux or a module.
std::vector<std::string>
files_a_rebuild_may_write(const std::filesystem::path &root,
                          const std::vector<std::string> &objects,
                          const std::function<bool(const std::string &)> &is_linked);

} // namespace kpp::build
