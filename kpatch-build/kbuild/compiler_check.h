// The patched objects must come from the compiler that built the running
// kernel: a different one lays out code differently and every function would
// look changed (or, worse, subtly incompatible).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kpp::build {

// CONFIG_CC_VERSION_TEXT from a .config, unquoted; nullopt if absent.
std::optional<std::string> config_compiler_version(std::string_view config_text);

// The compiler kpatch-build runs: $CC if set, else "gcc".
std::string compiler_command();

// Throws kpp::Error naming both versions when they differ.
void require_same_compiler(std::string_view kernel_version, std::string_view compiler_version);

// Reads the config, asks the compiler (`CC --version`, first line), compares.
void check_compiler(const std::filesystem::path &config);

} // namespace kpp::build
