// The patch as a Debian package (patch_package.h says what it is called and
// where the module goes): its control file, documentation and file layout,
// put together with dpkg-deb.
#pragma once

#include "kpatch-build/packaging/patch_package.h"

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>

namespace kpp::build::packaging {

// NAME_VERSION_ARCH.deb, as dpkg-name would call it.
std::string deb_file_name(const PatchPackage &package);

// DEBIAN/control. Installed-Size is in KiB.
std::string deb_control(const PatchPackage &package, uint64_t installed_size_kib);

// usr/share/doc/PKG/changelog (gzipped in the package): one entry dated `date`.
std::string deb_changelog(const PatchPackage &package, std::time_t date);

// usr/share/doc/PKG/copyright: the module is built from the kernel, GPL-2;
// the notice's years run to `date`'s.
std::string deb_copyright(const PatchPackage &package, std::time_t date);

// Writes the package tree under `staging` (module, documentation,
// DEBIAN/control and DEBIAN/md5sums). `staging` must not exist yet.
void stage_deb_tree(const PatchPackage &package, const std::filesystem::path &module,
                    const std::filesystem::path &staging, std::time_t date,
                    const std::filesystem::path &log);

// Stages the tree in `work` and builds OUT/deb_file_name() with dpkg-deb;
// returns its path. Throws kpp::Error (CommandFailed) with the log's path.
std::filesystem::path build_deb(const PatchPackage &package, const std::filesystem::path &module,
                                const std::filesystem::path &output_dir,
                                const std::filesystem::path &work, std::time_t date,
                                const std::filesystem::path &log);

} // namespace kpp::build::packaging
