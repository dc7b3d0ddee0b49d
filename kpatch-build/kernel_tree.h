// Where the kernel that the patch targets lives.
//
// Today only a built source tree (-s) is supported; the Debian no-source mode
// will be another way of producing the same KernelTree, so nothing else in
// kpatch-build looks for kernel files on its own.
#pragma once

#include "kpatch-build/options.h"

#include <filesystem>

namespace kpp::build {

struct KernelTree {
    std::filesystem::path source_dir; // configured and built: objects and .cmd files exist
    std::filesystem::path config;
    std::filesystem::path vmlinux;
    std::filesystem::path symvers; // Module.symvers
};

// Resolves the options to absolute paths and checks that the files exist.
// Throws kpp::Error naming the first missing one.
KernelTree find_kernel_tree(const Options &options);

} // namespace kpp::build
