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
std::vector<std::string> tree_make_variables(const std::filesystem::path &kernel_dir);

} // namespace kpp::build
