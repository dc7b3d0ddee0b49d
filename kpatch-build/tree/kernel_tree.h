// Where the kernel that the patch targets lives.
//
// Either a built source tree (-s) or a distribution's kernel (no -s; see
// stock_kernel.h) whose prepared tree is cached: nothing else in kpatch-build
// looks for kernel files on its own.
#pragma once

#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/options.h"
#include "kpatch-build/progress.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

namespace distro {
class CacheUse;
}

// A distribution kernel's prepared tree has no objects: these say what its
// binaries are made of.
struct StockTree {
    std::string release;                 // 6.1.0-56-cloud-amd64
    std::string version;                 // the package version it was built from: 6.1.192-2
    std::filesystem::path source;        // its source tarball (linux-source-6.1.tar.xz)
    std::filesystem::path units;         // compile units -> binary (compile_units.h)
    std::filesystem::path header_deps;   // cached dependency scan (header_deps.h)
    std::filesystem::path debug_modules; // modules with symbols, by path
    std::string debug_module_suffix;     // ".ko" or ".ko.debug"
    // The cache entries this run reads, held in use until it ends (cache_use.h).
    std::vector<std::shared_ptr<distro::CacheUse>> cache_uses;
};

struct KernelTree {
    std::filesystem::path source_dir; // -s: configured and built; stock: prepared only
    std::filesystem::path config;
    std::filesystem::path vmlinux;
    std::filesystem::path symvers; // Module.symvers
    // Given to every make besides the recorded ARCH=... (KERNELRELEASE=REL).
    std::vector<std::string> make_variables;
    std::optional<StockTree> stock; // set without -s
    // How the compiler matched the kernel's (compiler_check.h); OtherRevision
    // means each original object must reproduce the kernel's code.
    CompilerVerdict compiler;
};

// With -s: resolves the options to absolute paths and checks that the files
// exist (throws kpp::Error naming the first missing one). Without: finds and
// prepares the distribution's kernel (find_stock_kernel_tree()).
KernelTree find_kernel_tree(const Options &options, const Progress &progress);

} // namespace kpp::build
