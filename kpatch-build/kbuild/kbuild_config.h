// The make variables a tree was configured with.
//
// Kconfig records in include/config/auto.conf.cmd the values it was run with
// ("ifneq "$(ARCH)" "x86_64"" ... "include/config/auto.conf: FORCE"); any
// later make with a different value re-runs syncconfig, which rewrites
// .config and the generated headers and so rebuilds half the kernel. Every
// make kpatch-build runs passes the recorded ARCH for that reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

// The value recorded for $(name) in auto.conf.cmd text, if any.
std::optional<std::string> recorded_make_variable(std::string_view auto_conf_cmd,
                                                  std::string_view name);

// "ARCH=x86_64" etc. for the tree at root; empty when nothing is recorded.
// Kconfig does not record LLVM itself: a tree configured with clang and
// ld.lld gets the LLVM=... that names them, or every make would re-sync
// the tree's configuration for GNU binutils.
std::vector<std::string> tree_make_variables(const std::filesystem::path &kernel_dir);

// The LLVM= value that makes kbuild pick these recorded tools: "1" for
// clang and ld.lld, "-14" for clang-14, "/usr/lib/llvm-14/bin/" for a path;
// nullopt when they are not LLVM's.
std::optional<std::string> llvm_of_tools(std::string_view cc, std::string_view ld);

// The compiler kbuild uses for LLVM=... among `make_variables` ("clang",
// "clang-14", "/usr/lib/llvm-14/bin/clang"); nullopt without LLVM=.
std::optional<std::string> llvm_compiler(const std::vector<std::string> &make_variables);

} // namespace kpp::build
