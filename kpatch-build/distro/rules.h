// Rules the distributions share: a required file that a package provides,
// package versions that must agree, the default config.
#pragma once

#include "kpatch-build/distro/distro.h"

#include <string>
#include <string_view>
#include <vector>

namespace kpp::build::distro {

// Why a vmlinux with symbols is required: the diff places every local
// symbol the patch refers to (and the patched functions themselves, mostly
// static) by the file it belongs to, and System.map has neither file symbols
// nor sizes.
inline constexpr std::string_view kNoSystemMapFallback =
    "kpatch-build does not fall back to System.map: it has no file symbols and no sizes, so "
    "the livepatch positions of static functions cannot be told apart";

// The file must exist; otherwise kpp::Error "WHAT not found: PATH (install
// PACKAGE)" plus `why` when given.
void require_file(const std::filesystem::path &path, std::string_view what,
                  std::string_view package, std::string_view why = "");

// The version of the first installed package of `candidates`; throws
// "PACKAGE is not installed ..." naming the first candidate and `purpose`.
struct InstalledPackage {
    std::string name;
    std::string version;
};
InstalledPackage require_package(const PackageDatabase &packages,
                                 const std::vector<std::string> &candidates,
                                 std::string_view purpose);

// `package` must be installed at exactly `version` (that of `reference`);
// throws naming the version to install.
void require_same_version(const PackageDatabase &packages, const std::string &package,
                          const InstalledPackage &reference, std::string_view purpose);

// The config the kernel was really built with: the headers package's .config
// (the distribution's build adds settings such as CONFIG_BUILD_SALT at build
// time), else the one installed beside the image.
std::filesystem::path build_config(const std::filesystem::path &headers,
                                   const std::filesystem::path &installed_config);

// "6.1.0-56-cloud-amd64" -> {6, 1, 0} and the rest "-56-cloud-amd64";
// throws kpp::Error for a string that does not start with X.Y.Z.
struct ReleaseParts {
    std::string upstream; // "6.1.0"
    std::string series;   // "6.1"
    std::string rest;     // "-56-cloud-amd64"
};
ReleaseParts split_release(const std::string &release);

} // namespace kpp::build::distro
