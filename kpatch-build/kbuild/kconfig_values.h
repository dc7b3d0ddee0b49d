// Values of a kernel .config (the file Kconfig writes: CONFIG_X=value lines,
// "# CONFIG_X is not set" comments).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kpp::build {

// The value of `option` (e.g. "CONFIG_MODULE_SIG_HASH") in .config text,
// with the quotes of a string value removed; nullopt when it is not set.
std::optional<std::string> config_value(std::string_view config_text, std::string_view option);

// Whether `option` is set to y in the text.
bool config_enabled(std::string_view config_text, std::string_view option);

// The whole file; throws kpp::Error naming it when it cannot be read.
std::string read_config_file(const std::filesystem::path &config);

} // namespace kpp::build
