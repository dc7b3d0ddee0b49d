// Distribution packages unpacked in kpatch-build's cache, for the pieces of
// a kernel release that are not installed (its source, -dbg, headers).
//
//   CACHE/packages/NAME_VERSION/        the package's files (dpkg-deb -x), complete
//   CACHE/packages/.NAME_VERSION.<pid>/ a fetch in progress: the download and
//                                       the unpacked files, renamed to
//                                       NAME_VERSION when complete
//
// A fetch that fails (download refused, disk full, interrupted) removes its
// temporary directory; one that died leaves it behind, and the next fetch of
// that package (or a prune) removes it. So NAME_VERSION/ exists only when it
// is complete. Fetches hold the lock of CACHE/packages; a run that uses a
// package holds a shared lock on its directory (CacheUse) so that a prune
// leaves it alone.
#pragma once

#include "kpatch-build/distro/cache_use.h"
#include "kpatch-build/distro/package_archive.h"
#include "kpatch-build/progress.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build::distro {

struct PackageRef {
    std::string name;
    std::string version;
    std::string purpose; // for messages: "the symbols and DWARF of vmlinux and the modules"
};

// "linux-source-6.1_6.1.187-1"; an epoch's ':' becomes "%3a" as in apt's file names.
std::string package_entry_name(const std::string &name, const std::string &version);

class PackageCache {
  public:
    // `dir`: CACHE/packages. `archive` is asked only for packages not cached.
    // Downloads are announced as stages on `progress` (may be null).
    PackageCache(std::filesystem::path dir, std::shared_ptr<const PackageArchive> archive,
                 const Progress *progress = nullptr);

    const std::filesystem::path &dir() const { return dir_; }

    // The unpacked root of a complete entry.
    std::optional<std::filesystem::path> cached(const std::string &name,
                                                const std::string &version) const;
    // The versions of `name` unpacked here.
    std::vector<std::string> cached_versions(const std::string &name) const;
    // What the archive has of `name`.
    std::vector<ArchivePackage> archive_versions(const std::string &name) const;

    // The unpacked roots of `packages`, in order, downloading and unpacking
    // the ones not cached yet. Before the first download, every missing
    // package must be in the archive at its version and all of them must fit
    // (download and unpacked size) on the cache's filesystem; otherwise one
    // kpp::Error names what is missing for `release`. Each root is held in
    // use (a shared lock) until `uses` is destroyed.
    std::vector<std::filesystem::path> provide(const std::vector<PackageRef> &packages,
                                               const std::string &release,
                                               std::vector<std::shared_ptr<CacheUse>> &uses) const;

  private:
    std::filesystem::path fetch(const ArchivePackage &package) const;

    std::filesystem::path dir_;
    std::shared_ptr<const PackageArchive> archive_;
    const Progress *progress_;
};

} // namespace kpp::build::distro
