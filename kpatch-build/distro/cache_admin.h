// Listing and pruning kpatch-build's cache of distribution kernels:
// prepared releases (CACHE/releases, release_cache.h) and the packages they
// were made from (CACHE/packages, package_cache.h). Other directories of the
// cache (the test kernels under CACHE/kernels) are not kpatch-build's and
// are neither listed nor touched.
//
//   kpatch-build --cache-list
//   kpatch-build --cache-prune REL...   those releases, and the packages only they used
//   kpatch-build --cache-prune unused   packages no prepared release uses
//   kpatch-build --cache-prune all      every release and package
//
// Every prune also removes what interrupted runs left (unfinished fetches,
// abandoned preparations). It holds the cache's locks (no preparation or
// fetch runs meanwhile) and skips entries a running kpatch-build uses
// (cache_use.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build::distro {

struct CachedRelease {
    std::string release;               // 6.1.0-53-cloud-amd64
    std::string version;               // 6.1.187-1
    std::filesystem::path dir;         // CACHE/releases/REL.<id>
    std::vector<std::string> packages; // entries of CACHE/packages it was made from
    uint64_t bytes = 0;
};

struct CachedPackage {
    std::string entry; // linux-source-6.1_6.1.187-1
    std::filesystem::path dir;
    std::vector<std::string> used_by; // releases
    uint64_t bytes = 0;
};

struct CacheContents {
    std::vector<CachedRelease> releases;
    std::vector<CachedPackage> packages;
    std::vector<std::filesystem::path> leftovers; // unfinished fetches, abandoned preparations
    uint64_t leftover_bytes = 0;
    uint64_t total_bytes() const;
};

// Disk usage of a file tree (allocated blocks, symlinks not followed).
uint64_t disk_usage(const std::filesystem::path &path);

// "1.5 GiB", "133.0 MiB", "12 KiB".
std::string human_size(uint64_t bytes);

CacheContents read_cache(const std::filesystem::path &cache_dir);

// The lines kpatch-build --cache-list prints.
std::vector<std::string> cache_listing(const std::filesystem::path &cache_dir);

// Removes `targets` (release names, "unused" or "all"); returns one line per
// entry removed or kept. Throws kpp::Error for a release not in the cache.
std::vector<std::string> prune_cache(const std::filesystem::path &cache_dir,
                                     const std::vector<std::string> &targets);

} // namespace kpp::build::distro
