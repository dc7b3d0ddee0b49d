#include "kpatch-build/compiler_check.h"

#include "kpatch-build/command.h"
#include "libkpp/error.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kpp::build {

std::optional<std::string> config_compiler_version(std::string_view config_text) {
    constexpr std::string_view key = "CONFIG_CC_VERSION_TEXT=";
    size_t pos = 0;
    while (pos < config_text.size()) {
        size_t end = config_text.find('\n', pos);
        std::string_view line = config_text.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (line.substr(0, key.size()) == key) {
            std::string_view value = line.substr(key.size());
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::string compiler_command() {
    const char *cc = std::getenv("CC");
    return cc && *cc ? cc : "gcc";
}

void require_same_compiler(std::string_view kernel_version, std::string_view compiler_version) {
    if (kernel_version != compiler_version)
        throw Error("compiler mismatch: the kernel was built with '{}' but {} is '{}' "
                    "(use that compiler, or --skip-compiler-check at your own risk)",
                    kernel_version, compiler_command(), compiler_version);
}

void check_compiler(const std::filesystem::path &config) {
    std::ifstream in(config);
    std::stringstream text;
    text << in.rdbuf();
    auto kernel_version = config_compiler_version(text.str());
    if (!kernel_version)
        throw Error("{} has no CONFIG_CC_VERSION_TEXT; cannot tell which compiler built the "
                    "kernel (--skip-compiler-check to go on anyway)",
                    config.string());
    std::string output = capture_output({compiler_command(), "--version"});
    std::string first_line = output.substr(0, output.find('\n'));
    require_same_compiler(*kernel_version, first_line);
}

} // namespace kpp::build
