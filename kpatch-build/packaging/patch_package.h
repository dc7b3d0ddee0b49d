// What a patch package is called and where it puts the module: the naming
// every format shares (docs/kpatch-build.md, "Patch packages").
//
// One package per kernel release and patch, kpatch-patch-REL-NAME, after
// RHEL's kpatch-patch-* packages. Every patch package for REL also provides
// the virtual name kpatch-patch-REL and conflicts with it, so installing a
// newer cumulative patch for REL replaces the older one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace kpp::build::packaging {

struct PatchPackage {
    std::string release;      // the kernel release, 6.1.0-57-cloud-amd64
    std::string module_name;  // the module without .ko, livepatch_meminfo
    std::string version;      // the package version, 1 or 2.1
    std::string architecture; // as the format spells it: amd64/arm64 (.deb), x86_64/aarch64 (.rpm)
    std::string maintainer;   // "Name <address>"
};

// Throws kpp::Error naming what is wrong with a --package-version value: a
// version both dpkg and rpm order the same way, with no hyphen (the package
// is its own upstream) and starting with a digit.
void validate_package_version(const std::string &version);

// kpatch-patch-REL: the virtual package every patch for REL provides.
std::string release_slot_name(const std::string &release);

// kpatch-patch-REL-NAME, with the module name's underscores as hyphens and
// in lower case (package names allow neither underscores nor capitals).
std::string package_name(const PatchPackage &package);

// The kernel image package the patch is built for: linux-image-REL.
std::string kernel_image_package(const std::string &release);

// Where the module goes: the directory `kpatch install` uses for REL and
// `kpatch load --all` (kpatch.service) loads from at boot, relative to /.
std::filesystem::path module_install_path(const PatchPackage &package);

// Debian's name for an ELF machine (EM_*); throws kpp::Error for a machine
// kpatch++ does not build for.
std::string debian_architecture(uint16_t elf_machine);

// RPM's name for an ELF machine (x86_64, aarch64), as debian_architecture().
std::string rpm_architecture(uint16_t elf_machine);

// The ELF machine of a module file; throws kpp::Error naming a file that is
// not a 64-bit little-endian ELF object.
uint16_t module_machine(const std::filesystem::path &module);

// "Name <address>" from DEBFULLNAME/DEBEMAIL (the variables dch uses) or,
// without them, the user and host name.
std::string default_maintainer();

// One line on what the package holds, for the control file's synopsis.
std::string package_summary(const PatchPackage &package);

} // namespace kpp::build::packaging
