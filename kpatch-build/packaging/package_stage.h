// kpatch-build --package: the built module as packages a fleet installs
// with its package manager (deb_package.h, rpm_package.h), and the payload
// tree both formats are built from.
#pragma once

#include "kpatch-build/options.h"
#include "kpatch-build/packaging/patch_package.h"
#include "kpatch-build/tree/kernel_tree.h"

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build::packaging {

// The release the tree builds: a distribution kernel's, or a built tree's
// include/config/kernel.release. Throws kpp::Error when that file is missing.
std::string kernel_release(const KernelTree &kernel);

// Throws kpp::Error in one line naming the program a requested format needs
// (dpkg-deb, rpmbuild) and the package that has it, when it is not on PATH:
// checked before any build starts.
void require_package_tools(const std::vector<std::string> &formats);

// Writes the packages options.packages asks for next to `module`, staging
// them in `work`; returns their paths.
std::vector<std::filesystem::path> write_patch_packages(const Options &options,
                                                        const KernelTree &kernel,
                                                        const std::filesystem::path &module,
                                                        const std::filesystem::path &work,
                                                        const std::filesystem::path &log);

// The payload: files laid out under `staging` as they go under /, files
// 0644 and directories 0755 whatever the umask (Debian policy 10.9; the
// .rpm keeps the same modes).

// Creates `staging`, which must not exist yet (kpp::Error otherwise), and
// puts the module at module_install_path() in it.
void stage_module(const PatchPackage &package, const std::filesystem::path &module,
                  const std::filesystem::path &staging);

// Creates each directory of `relative` under `staging`, 0755.
void make_package_dirs(const std::filesystem::path &staging, const std::filesystem::path &relative);

// Writes a payload or control file, 0644.
void write_package_file(const std::filesystem::path &path, const std::string &text);

// The regular files under `staging`, relative to it and sorted, without
// those under the top-level directory `excluded` (DEBIAN).
std::vector<std::filesystem::path> payload_files(const std::filesystem::path &staging,
                                                 const std::filesystem::path &excluded = {});

} // namespace kpp::build::packaging
