// kpatch-build --package: the built module as packages a fleet installs
// with its package manager (deb_package.h).
#pragma once

#include "kpatch-build/options.h"
#include "kpatch-build/tree/kernel_tree.h"

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build::packaging {

// The release the tree builds: a distribution kernel's, or a built tree's
// include/config/kernel.release. Throws kpp::Error when that file is missing.
std::string kernel_release(const KernelTree &kernel);

// Writes the packages options.package asks for next to `module`, staging
// them in `work`; returns their paths.
std::vector<std::filesystem::path> write_patch_packages(const Options &options,
                                                        const KernelTree &kernel,
                                                        const std::filesystem::path &module,
                                                        const std::filesystem::path &work,
                                                        const std::filesystem::path &log);

} // namespace kpp::build::packaging
