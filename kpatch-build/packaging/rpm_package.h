// The patch as an RPM package, as RHEL ships kpatch-patch-* (patch_package.h
// says what it is called and where the module goes): its spec file, built
// with rpmbuild from the payload tree the .deb is made of too.
//
// The dependencies are RPM's spelling of the .deb's: the exact kernel is
// kernel-uname-r = REL (what RHEL and Fedora kernel packages provide) or
// kernel-REL (what the kernel's own `make binrpm-pkg` provides); a release
// with more than one '-' (6.1.0-57-cloud-amd64) is no valid RPM version, so
// there only kernel-REL names it (rpm_kernel_requirement()). A newer
// version of the same patch upgrades the installed one by name (rpm -U,
// dnf upgrade); a patch of another name for REL conflicts with the
// installed one through kpatch-patch-REL, which each provides and conflicts
// with (RPM matches Obsoletes against package names only, so no Obsoletes
// could name every other patch): dnf install --allowerasing, or rpm -e
// then -i, replaces it.
#pragma once

#include "kpatch-build/packaging/patch_package.h"

#include <ctime>
#include <filesystem>
#include <string>

namespace kpp::build::packaging {

// What the package requires of the kernel, as above.
std::string rpm_kernel_requirement(const std::string &release);

// NAME-VERSION-1.ARCH.rpm, as rpmbuild names it (the RPM release is 1).
std::string rpm_file_name(const PatchPackage &package);

// The spec: the header, %install copying `staging` into the build root,
// %files and a one-entry %changelog dated `date`.
std::string rpm_spec(const PatchPackage &package, const std::filesystem::path &staging,
                     std::time_t date);

// Stages the payload in `work`, writes the spec there and builds
// OUT/rpm_file_name() with rpmbuild; returns its path. Throws kpp::Error
// (CommandFailed) with the log's path.
std::filesystem::path build_rpm(const PatchPackage &package, const std::filesystem::path &module,
                                const std::filesystem::path &output_dir,
                                const std::filesystem::path &work, std::time_t date,
                                const std::filesystem::path &log);

} // namespace kpp::build::packaging
