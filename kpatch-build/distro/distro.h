// Where a distribution keeps the pieces of one of its kernels.
//
// kpatch-build without -s patches a distribution's own kernel build. It needs
// the exact source that kernel was built from, the config it was built with,
// a vmlinux and modules with symbols and DWARF (the -dbg / dbgsym /
// debuginfo packages), the headers package (Module.symvers, the generated
// headers to check the prepared tree against) and the release string. Each
// distribution names and places these differently; a Distro knows one
// distribution's rules and nothing else does.
//
// Paths are looked up under a root directory ("/" in real runs, a fake tree
// in unit tests) and package versions are asked from a PackageDatabase (dpkg
// or rpm), so that the rules can be tested without the packages.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build::distro {

class CacheUse;
class PackageCache;

// The installed packages of the machine.
class PackageDatabase {
  public:
    virtual ~PackageDatabase() = default;
    // The installed version of `package`, nullopt when it is not installed.
    virtual std::optional<std::string> installed_version(const std::string &package) const = 0;
};

std::unique_ptr<PackageDatabase> dpkg_database();
// rpm names a package with its version ("kernel-debuginfo-6.5.6-300.fc39.x86_64"):
// installed_version() answers the version-release rpm reports for that name.
std::unique_ptr<PackageDatabase> rpm_database();

enum class SourceKind {
    Tarball,   // a tar archive with one top directory holding the tree
    SourceRpm, // a distribution source package that rpmbuild -bp unpacks and patches
};

// Everything kpatch-build needs about one installed kernel, as absolute paths.
struct StockKernel {
    std::string distro;  // "Debian"
    std::string release; // uname -r: "6.1.0-56-cloud-amd64"
    std::string version; // the package version all pieces share: "6.1.192-2"
    SourceKind source_kind = SourceKind::Tarball;
    std::filesystem::path source;        // the tarball or source RPM
    std::filesystem::path config;        // the config the kernel was built with
    std::filesystem::path vmlinux;       // with symbols and DWARF
    std::filesystem::path debug_modules; // NAME.ko files with symbols and DWARF, by path
    std::string debug_module_suffix;     // ".ko", or ".ko.debug" (Fedora)
    std::filesystem::path headers;       // include/generated/, Module.symvers
    std::filesystem::path symvers;
    // Pieces that are not installed come from kpatch-build's package cache
    // (package_cache.h): their unpacked roots, held in use for the run.
    std::vector<std::filesystem::path> cached_packages;
    std::vector<std::shared_ptr<CacheUse>> cache_uses;
};

class Distro {
  public:
    virtual ~Distro() = default;
    virtual std::string name() const = 0;
    // Throws kpp::Error naming the package to install (or the version to
    // install) for the first piece that is missing or does not match.
    virtual StockKernel locate(const std::string &release) const = 0;
    // The source tarball of another `version` of the release's source
    // package (kpatch-build --update-to): installed at that version, else
    // fetched into the package cache and held in use through `uses`. Throws
    // kpp::Error naming what is missing; distributions without a rule for it
    // say so.
    virtual std::filesystem::path
    source_of_version(const std::string &release, const std::string &version,
                      std::vector<std::shared_ptr<CacheUse>> &uses) const;
};

struct OsRelease {
    std::string id;                   // "debian"
    std::vector<std::string> id_like; // "rhel fedora"
    std::string pretty_name;
};

OsRelease parse_os_release(std::string_view text);

// From ROOT/etc/os-release (or ROOT/usr/lib/os-release). Throws kpp::Error
// for a distribution without rules, naming it. `packages` may be null: the
// distribution's own package manager is used then. With a `cache`, pieces
// that are not installed are fetched into it (Debian only so far);
// without, each is an error naming the package to install.
std::unique_ptr<Distro> detect(const std::filesystem::path &root,
                               std::shared_ptr<const PackageDatabase> packages = nullptr,
                               std::shared_ptr<const PackageCache> cache = nullptr);

// The rules of each distribution, for tests and for detect().
std::unique_ptr<Distro> debian(std::filesystem::path root,
                               std::shared_ptr<const PackageDatabase> packages,
                               std::shared_ptr<const PackageCache> cache = nullptr);
std::unique_ptr<Distro> ubuntu(std::filesystem::path root,
                               std::shared_ptr<const PackageDatabase> packages);
// source_dirs: where to look for kernel-VERSION-RELEASE.src.rpm (default:
// the current directory and ~/rpmbuild/SRPMS).
std::unique_ptr<Distro> fedora(std::filesystem::path root,
                               std::shared_ptr<const PackageDatabase> packages,
                               std::vector<std::filesystem::path> source_dirs = {});

// The release of the running kernel (uname -r).
std::string running_release();

} // namespace kpp::build::distro
