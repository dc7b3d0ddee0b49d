// The distribution's package archive, for kernel packages that are not
// installed: which versions it has, how large they are, and downloading one.
//
// kpatch-build never installs anything: a release other than the installed
// one gets its packages downloaded (apt-get download) into kpatch-build's
// cache and unpacked there (package_cache.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build::distro {

// One version of a package the archive offers.
struct ArchivePackage {
    std::string name;
    std::string version;
    uint64_t download_bytes = 0; // Size
    uint64_t unpacked_bytes = 0; // Installed-Size (KiB in the archive, bytes here)
};

class PackageArchive {
  public:
    virtual ~PackageArchive() = default;
    // Every version of `package` the archive has, once each (empty: none).
    // Throws kpp::Error when the archive cannot be asked at all.
    virtual std::vector<ArchivePackage> versions(const std::string &package) const = 0;
    // Downloads package=version into `dir` and returns the .deb's path.
    // Throws kpp::Error with the package manager's own reason on failure.
    virtual std::filesystem::path download(const ArchivePackage &package,
                                           const std::filesystem::path &dir,
                                           const std::filesystem::path &log) const = 0;
};

// apt-cache show / apt-get download.
std::unique_ptr<PackageArchive> apt_archive();

// The paragraphs of `apt-cache show PACKAGE` output (several sources may list
// one version: each version once, in the order given).
std::vector<ArchivePackage> parse_apt_show(std::string_view text);

} // namespace kpp::build::distro
