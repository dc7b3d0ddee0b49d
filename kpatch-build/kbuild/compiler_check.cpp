#include "kpatch-build/kbuild/compiler_check.h"

#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <cstdlib>

namespace kpp::build {

std::optional<std::string> config_compiler_version(std::string_view config_text) {
    return config_value(config_text, "CONFIG_CC_VERSION_TEXT");
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
    auto kernel_version = config_compiler_version(read_config_file(config));
    if (!kernel_version)
        throw Error("{} has no CONFIG_CC_VERSION_TEXT; cannot tell which compiler built the "
                    "kernel (--skip-compiler-check to go on anyway)",
                    config.string());
    std::string output = capture_output({compiler_command(), "--version"});
    std::string first_line = output.substr(0, output.find('\n'));
    require_same_compiler(*kernel_version, first_line);
}

} // namespace kpp::build
