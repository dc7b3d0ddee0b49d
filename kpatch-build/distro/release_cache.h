// Prepared source trees of distribution kernels, one per release, cached.
//
// Preparing a tree (extract the source, install the build's config, `make
// olddefconfig prepare modules_prepare`, Module.symvers from the headers
// package) takes about half a minute; every later patch for that release
// reuses it and compiles only the objects it touches. The tree is prepared
// with the objects' KCFLAGS (object_kcflags()), so that a later object build
// finds kbuild's prepare outputs up to date instead of rebuilding them and
// having them restored afterwards. Layout:
//
//   CACHE/releases/REL            symlink to the current REL.<id> (atomic publish)
//   CACHE/releases/REL.<id>/tree/ the prepared kernel tree
//   CACHE/releases/REL.<id>/units.tsv       compile units -> vmlinux or module
//   CACHE/releases/REL.<id>/header-deps.txt header dependency scan (on first need)
//   CACHE/releases/REL.<id>/release.txt     release and package version (written last)
//   CACHE/releases/REL.<id>/packages.txt    the cached packages it was made from
//                                           (package_cache.h), for pruning
//   CACHE/releases/REL.<id>/prepare.log     every command's output
//
// The tree keeps its real path for life: kbuild records absolute paths of
// its tools (objtool), so a moved tree would rebuild them. Publishing is a
// rename of the symlink, done after release.txt is written; a preparation
// that died half way leaves a REL.<id> directory nothing points to, which
// the next preparation removes.
#pragma once

#include "kpatch-build/distro/cache_use.h"
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/progress.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

// KPP_CACHE_DIR, else $XDG_CACHE_HOME/kpatchpp, else ~/.cache/kpatchpp.
std::filesystem::path default_cache_dir();

struct PreparedRelease {
    std::filesystem::path dir;  // the real REL.<id> directory
    std::filesystem::path tree; // dir/tree
    std::filesystem::path units;
    std::filesystem::path header_deps;
    // Given to every make in the tree: ARCH=, CROSS_COMPILE=... for a kernel
    // of another architecture (cross_build.h), and KERNELRELEASE=REL: the distribution
    // builds with the Makefile's real SUBLEVEL (LINUX_VERSION_CODE 6.1.192)
    // and overrides the release string (6.1.0-56-cloud-amd64); a localversion
    // file or SUBLEVEL=0 would get the string right but change
    // LINUX_VERSION_CODE.
    std::vector<std::string> make_variables;
    // A shared lock on `dir` for as long as the caller keeps it (cache_use.h).
    std::shared_ptr<distro::CacheUse> use;
};

// "-j2" and the kernel's compiler come from the caller's environment ($CC).
PreparedRelease prepared_release(const distro::StockKernel &kernel,
                                 const std::filesystem::path &cache_dir, unsigned jobs,
                                 const Progress &progress);

// The generated headers that must be byte-identical in the prepared tree and
// the headers package (release string, version code, the whole config).
const std::vector<std::string> &generated_headers_to_compare();

// How the prepared tree's `header` (text `ours`) differs from the headers
// package's (`theirs`): nullopt when they are the same but for
// CONFIG_CC_VERSION_TEXT, which the compiler check judges (a cross
// compiler's text is not the kernel's); else the header and the CONFIG_
// settings whose lines differ, "include/generated/autoconf.h
// (CONFIG_CC_CAN_LINK)".
std::optional<std::string> generated_header_difference(const std::string &header,
                                                       const std::string &ours,
                                                       const std::string &theirs);

// "release\nversion\nformat N\n" as release.txt holds it.
std::string release_stamp(const distro::StockKernel &kernel);

} // namespace kpp::build
