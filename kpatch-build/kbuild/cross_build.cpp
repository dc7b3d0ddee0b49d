#include "kpatch-build/kbuild/cross_build.h"

#include "kpatch-build/kbuild/kconfig_values.h"
#include "libkpp/error.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <sys/utsname.h>
#include <unistd.h>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

struct KnownArch {
    const char *config_symbol;
    KernelArch arch;
};

// arm64's 32-bit vDSO (COMPAT_VDSO) is built with an arm compiler, which
// Debian's build names CROSS_COMPILE_COMPAT=arm-linux-gnueabihf-.
const std::array<KnownArch, 2> kKnownArchs = {{
    {"CONFIG_X86_64", {"x86_64", "x86", "x86_64-linux-gnu", ""}},
    {"CONFIG_ARM64", {"aarch64", "arm64", "aarch64-linux-gnu", "arm-linux-gnueabihf-"}},
}};

bool in_path(const std::string &program) {
    const char *path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/bin:/bin";
    while (!dirs.empty()) {
        size_t colon = dirs.find(':');
        fs::path dir(dirs.substr(0, colon));
        if (access((dir / program).c_str(), X_OK) == 0)
            return true;
        dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    }
    return false;
}

// "aarch64-linux-gnu-" -> "gcc-aarch64-linux-gnu", the Debian package of that
// cross gcc.
void require_cross_gcc(std::string_view prefix, std::string_view needed_for) {
    std::string gcc = std::string(prefix) + "gcc";
    if (in_path(gcc))
        return;
    std::string triplet(prefix.substr(0, prefix.size() - 1));
    throw Error("{} is not installed (PATH): {} needs it; install the cross compiler (Debian: "
                "apt-get install gcc-{})",
                gcc, needed_for, triplet);
}

} // namespace

KernelArch config_arch(std::string_view config_text, std::string_view what) {
    for (const auto &known : kKnownArchs)
        if (config_enabled(config_text, known.config_symbol))
            return known.arch;
    throw Error("{} is a kernel for an architecture kpatch++ does not support (its config sets "
                "neither CONFIG_X86_64 nor CONFIG_ARM64)",
                what);
}

std::string host_machine() {
    struct utsname host {};
    uname(&host);
    return host.machine;
}

std::string cross_prefix(const KernelArch &kernel, std::string_view host_machine) {
    return kernel.machine == host_machine ? "" : kernel.triplet + "-";
}

std::vector<std::string> cross_make_variables(std::string_view config_text, std::string_view what,
                                              std::string_view host_machine) {
    KernelArch arch = config_arch(config_text, what);
    std::string prefix = cross_prefix(arch, host_machine);
    if (prefix.empty())
        return {};
    std::string kernel =
        fmt::format("{} (a kernel for {} on this {} machine)", what, arch.machine, host_machine);
    require_cross_gcc(prefix, kernel);
    std::vector<std::string> variables = {"ARCH=" + arch.kbuild_arch, "CROSS_COMPILE=" + prefix};
    if (!arch.compat_vdso_prefix.empty() && config_enabled(config_text, "CONFIG_COMPAT_VDSO") &&
        config_enabled(config_text, "CONFIG_CC_IS_GCC")) {
        require_cross_gcc(arch.compat_vdso_prefix, kernel + "'s 32-bit vDSO (CONFIG_COMPAT_VDSO)");
        variables.push_back("CROSS_COMPILE_COMPAT=" + arch.compat_vdso_prefix);
    }
    return variables;
}

std::string kbuild_tool(const std::vector<std::string> &make_variables, std::string_view tool) {
    const std::string_view key = "CROSS_COMPILE=";
    std::string prefix;
    for (const auto &variable : make_variables)
        if (variable.starts_with(key))
            prefix = variable.substr(key.size());
    return prefix + std::string(tool);
}

} // namespace kpp::build
