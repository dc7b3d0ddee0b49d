// The patched objects must come from the compiler that built the running
// kernel: the "original" objects kpatch-build compiles stand for the code
// the kernel runs, and the diff only holds if they reproduce it.
//
// What a different compiler breaks (docs/kpatch-build.md, "The compiler"):
// other inlining or cloning decisions (the kernel keeps an inlined copy of
// a patched function that the originals call instead, and the patch
// silently misses it), and other register use (gcc's -fipa-ra lets a
// caller keep values in call-clobbered registers a callee of the same file
// does not touch: a patched caller that trusts the recompiled callee calls
// the kernel's, which may clobber them).
//
// The rule: the kernel's CONFIG_CC_VERSION_TEXT and the first line of
// `$CC --version` must name the same compiler build. Accepted with a
// warning: the same text with the program name prefixed by the cross
// target (`aarch64-linux-gnu-gcc-12` for `gcc-12`: one source package built
// for another host), and the same upstream version in another distribution
// revision (`12.2.0-14` for `12.2.0-14+deb12u1`), whose patches may change
// code generation, so each original object must then reproduce the
// kernel's code (original_check.h). Anything else is refused.
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

// "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0" -> "gcc-12".
std::string compiler_of_version_text(std::string_view version_text);

enum class CompilerMatch {
    Same,          // the very text
    OtherTarget,   // the same text but for the cross prefix of the program
    OtherRevision, // same program and upstream version, another distribution build
};

struct CompilerVerdict {
    CompilerMatch match = CompilerMatch::Same;
    std::string warning; // one line naming both texts and why (empty for Same)
    std::string kernel_text, compiler_text;
};

// Compares the kernel's compiler text with the compiler's, `cross_prefix`
// ("aarch64-linux-gnu-" or "") being the prefix a cross compiler's program
// name carries. Throws kpp::Error naming both texts and what to do when they
// are not the same compiler build.
CompilerVerdict judge_compiler(std::string_view kernel_text, std::string_view compiler_text,
                               std::string_view cross_prefix);

// Reads the config, asks the compiler (`CC --version`, first line) and
// judges them; the warning, if any, is logged.
CompilerVerdict check_compiler(const std::filesystem::path &config,
                               std::string_view cross_prefix = {});

} // namespace kpp::build
