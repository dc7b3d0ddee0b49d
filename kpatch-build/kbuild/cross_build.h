// Building for a kernel of another architecture than this machine's
// (`kpatch-build -a 6.1.0-57-cloud-arm64` on x86_64).
//
// The architecture comes from the kernel's .config (CONFIG_ARM64, ...),
// never from the release's name. Every make in the kernel tree then gets
// ARCH= and CROSS_COMPILE= (kbuild builds its host tools, fixdep and
// modpost, for this machine with HOSTCC either way), and arm64 kernels with
// the 32-bit compat vDSO also CROSS_COMPILE_COMPAT=, whose compiler the
// tree's preparation runs (without it Kconfig drops COMPAT_VDSO and the
// configuration would no longer be the kernel's).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

// What kbuild and the GNU toolchain call one architecture.
struct KernelArch {
    std::string machine;     // `uname -m` on it: "aarch64"
    std::string kbuild_arch; // ARCH=: "arm64"
    std::string triplet;     // the GNU target of its cross tools: "aarch64-linux-gnu"
    // CROSS_COMPILE_COMPAT= for a compat vDSO built with gcc (arm64): the
    // arm compiler's prefix; "" where there is none.
    std::string compat_vdso_prefix;
};

// The architecture a kernel .config is for; throws kpp::Error naming
// `what` (the config file or release) when kpatch++ does not support it.
KernelArch config_arch(std::string_view config_text, std::string_view what);

// `uname -m` of this machine.
std::string host_machine();

// "aarch64-linux-gnu-" for a kernel of another architecture than
// `host_machine`, "" for the machine's own.
std::string cross_prefix(const KernelArch &kernel, std::string_view host_machine);

// ARCH=, CROSS_COMPILE= (and CROSS_COMPILE_COMPAT= when the config builds
// arm64's compat vDSO with gcc) for a kernel of another architecture; none
// for the machine's own. Throws kpp::Error naming the missing compiler and
// its Debian package when a cross compiler the build needs is not in PATH.
std::vector<std::string> cross_make_variables(std::string_view config_text, std::string_view what,
                                              std::string_view host_machine);

// A binutils program as kbuild runs it for these make variables:
// $(CROSS_COMPILE)ld ("aarch64-linux-gnu-ld" with CROSS_COMPILE=aarch64-linux-gnu-).
std::string kbuild_tool(const std::vector<std::string> &make_variables, std::string_view tool);

} // namespace kpp::build
