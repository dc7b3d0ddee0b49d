#include "kpatch-build/kbuild/compiler_check.h"

#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cctype>
#include <cstdlib>

namespace kpp::build {

namespace {

// "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0" -> "(Debian 12.2.0-14+deb12u1) 12.2.0"
std::string_view after_program(std::string_view text) {
    size_t space = text.find(' ');
    return space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
}

bool is_version_number(std::string_view word) {
    if (word.empty() || !std::isdigit(static_cast<unsigned char>(word.front())))
        return false;
    bool dot = false;
    for (char c : word) {
        if (c == '.')
            dot = true;
        else if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    }
    return dot;
}

// The upstream release: the first dotted number outside parentheses
// ("12.2.0" of "(Debian 12.2.0-14) 12.2.0"; "13.2.1" of "(GCC) 13.2.1
// 20231011 (Red Hat 13.2.1-4)"); "" if none.
std::string upstream_version(std::string_view rest) {
    int depth = 0;
    std::string word;
    for (size_t i = 0; i <= rest.size(); ++i) {
        char c = i < rest.size() ? rest[i] : ' ';
        if (c != '(' && c != ')' && c != ' ') {
            word += c;
            continue;
        }
        if (depth == 0 && is_version_number(word))
            return word;
        word.clear();
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    }
    return "";
}

// Why a refused compiler cannot be used, and what to do.
[[noreturn]] void refuse(std::string_view kernel_text, std::string_view compiler_text,
                         std::string_view why) {
    throw Error("compiler mismatch: the kernel was built with '{}' but {} is '{}' ({}); use that "
                "compiler (CC=...), or --skip-compiler-check if you have checked that its code "
                "is the kernel's",
                kernel_text, compiler_command(), compiler_text, why);
}

} // namespace

std::optional<std::string> config_compiler_version(std::string_view config_text) {
    return config_value(config_text, "CONFIG_CC_VERSION_TEXT");
}

std::string compiler_command() {
    const char *cc = std::getenv("CC");
    return cc && *cc ? cc : "gcc";
}

std::string compiler_of_version_text(std::string_view version_text) {
    return std::string(version_text.substr(0, version_text.find(' ')));
}

CompilerVerdict judge_compiler(std::string_view kernel_text, std::string_view compiler_text,
                               std::string_view cross_prefix) {
    if (kernel_text == compiler_text)
        return {};
    std::string kernel_program = compiler_of_version_text(kernel_text);
    std::string program = compiler_of_version_text(compiler_text);
    if (program != kernel_program && program != std::string(cross_prefix) + kernel_program)
        refuse(kernel_text, compiler_text, "another compiler");
    std::string_view kernel_rest = after_program(kernel_text), rest = after_program(compiler_text);
    if (kernel_rest == rest)
        return {CompilerMatch::OtherTarget,
                fmt::format("compiling with '{}' for the kernel's '{}': the same compiler "
                            "release and build, for another host",
                            compiler_text, kernel_text)};
    std::string version = upstream_version(kernel_rest);
    if (version.empty() || version != upstream_version(rest))
        refuse(kernel_text, compiler_text, "another release");
    return {CompilerMatch::OtherRevision,
            fmt::format("compiling with '{}' for the kernel's '{}': the same release {} in "
                        "another distribution build, whose patches may change code generation; "
                        "each original object must reproduce the kernel's code",
                        compiler_text, kernel_text, version)};
}

CompilerVerdict check_compiler(const std::filesystem::path &config, std::string_view cross_prefix) {
    auto kernel_version = config_compiler_version(read_config_file(config));
    if (!kernel_version)
        throw Error("{} has no CONFIG_CC_VERSION_TEXT; cannot tell which compiler built the "
                    "kernel (--skip-compiler-check to go on anyway)",
                    config.string());
    std::string output = capture_output({compiler_command(), "--version"});
    std::string first_line = output.substr(0, output.find('\n'));
    CompilerVerdict verdict = judge_compiler(*kernel_version, first_line, cross_prefix);
    verdict.kernel_text = *kernel_version;
    verdict.compiler_text = first_line;
    if (!verdict.warning.empty())
        log::warn("{}", verdict.warning);
    return verdict;
}

} // namespace kpp::build
