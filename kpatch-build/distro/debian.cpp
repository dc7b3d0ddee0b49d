// Debian: linux-image-REL (or -unsigned), linux-image-REL-dbg,
// linux-headers-REL and linux-source-X.Y, all of one version (e.g. 6.1.187-1
// for 6.1.0-53-cloud-amd64: the release keeps SUBLEVEL 0 and the ABI number,
// the package version has the real sublevel). The image's version says
// which build REL is; each other piece is used where it is installed at that
// version, else from kpatch-build's package cache (downloaded from the
// archive on first need, package_cache.h).
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/package_cache.h"
#include "kpatch-build/distro/rules.h"
#include "libkpp/error.h"

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

class Debian : public Distro {
  public:
    Debian(fs::path root, std::shared_ptr<const PackageDatabase> packages,
           std::shared_ptr<const PackageCache> cache)
        : root_(std::move(root)), packages_(std::move(packages)), cache_(std::move(cache)) {}

    std::string name() const override { return "Debian"; }

    StockKernel locate(const std::string &release) const override {
        ReleaseParts parts = split_release(release);
        StockKernel k;
        k.distro = name();
        k.release = release;
        InstalledPackage build = build_of(release);
        k.version = build.version;
        std::string headers = "linux-headers-" + release, dbg = "linux-image-" + release + "-dbg",
                    source = "linux-source-" + parts.series;
        auto roots = roots_of({{headers, k.version, "Module.symvers"},
                               {dbg, k.version, "the symbols and DWARF of vmlinux and the modules"},
                               {source, k.version, "the kernel source"}},
                              build, k);

        k.headers = roots[0] / "usr/src" / headers;
        k.symvers = k.headers / "Module.symvers";
        require_file(k.symvers, "Module.symvers", headers);
        k.config = build_config(k.headers, root_ / "boot" / ("config-" + release));
        require_file(k.config, "kernel config", headers);
        k.vmlinux = roots[1] / "usr/lib/debug/boot" / ("vmlinux-" + release);
        require_file(k.vmlinux, "vmlinux with debug info", dbg, kNoSystemMapFallback);
        k.debug_modules = roots[1] / "usr/lib/debug/lib/modules" / release;
        k.debug_module_suffix = ".ko";
        k.source_kind = SourceKind::Tarball;
        k.source = roots[2] / "usr/src" / (source + ".tar.xz");
        require_file(k.source, "kernel source", source);
        return k;
    }

    fs::path source_of_version(const std::string &release, const std::string &version,
                               std::vector<std::shared_ptr<CacheUse>> &uses) const override {
        std::string source = "linux-source-" + split_release(release).series;
        fs::path root = root_;
        if (packages_->installed_version(source) != version) {
            if (!cache_)
                throw Error("{} {} is not installed and kpatch-build has no package cache here",
                            source, version);
            root = cache_->provide({{source, version, "the update's kernel source"}}, release, uses)
                       .front();
        }
        fs::path tarball = root / "usr/src" / (source + ".tar.xz");
        require_file(tarball, "kernel source", source);
        return tarball;
    }

  private:
    // Which package version REL is: the installed image's (what the machine
    // boots), else the installed headers' or -dbg's (building for another
    // machine), else the one version cached, else the archive's image.
    InstalledPackage build_of(const std::string &release) const {
        std::string image = "linux-image-" + release;
        std::vector<std::string> images = {image, image + "-unsigned"};
        for (const auto &name : {images[0], images[1], "linux-headers-" + release, image + "-dbg"})
            if (auto version = packages_->installed_version(name))
                return {name, *version};
        if (!cache_)
            return require_package(*packages_, {"linux-headers-" + release}, "Module.symvers");
        if (auto cached = cache_->cached_versions(image + "-dbg"); cached.size() == 1)
            return {"the cached " + image + "-dbg", cached.front()};
        for (const auto &name : images) {
            auto offered = cache_->archive_versions(name);
            if (offered.size() == 1)
                return {name, offered.front().version};
            if (offered.size() > 1) {
                std::vector<std::string> versions;
                for (const auto &p : offered)
                    versions.push_back(p.version);
                throw Error("the package archive has {} as several builds ({}): install the one "
                            "the machine runs, or its linux-headers-{}, so that kpatch-build "
                            "knows which",
                            name, fmt::join(versions, ", "), release);
            }
        }
        throw Error("{} is neither installed nor in the package archive (apt-cache show {}): not "
                    "a Debian kernel release, or one the archive no longer has (run apt-get "
                    "update; old builds are on snapshot.debian.org)",
                    release, image);
    }

    // Where each piece's files are: "/" (root_) when installed at the
    // build's version, else its unpacked copy in the cache.
    std::vector<fs::path> roots_of(const std::vector<PackageRef> &pieces,
                                   const InstalledPackage &build, StockKernel &k) const {
        std::vector<fs::path> roots(pieces.size(), root_);
        std::vector<PackageRef> missing;
        std::vector<size_t> at;
        for (size_t i = 0; i < pieces.size(); ++i) {
            if (packages_->installed_version(pieces[i].name) == pieces[i].version)
                continue;
            if (!cache_)
                require_same_version(*packages_, pieces[i].name, build, pieces[i].purpose);
            missing.push_back(pieces[i]);
            at.push_back(i);
        }
        if (missing.empty())
            return roots;
        auto cached = cache_->provide(missing, k.release, k.cache_uses);
        for (size_t i = 0; i < at.size(); ++i)
            roots[at[i]] = cached[i];
        k.cached_packages = cached;
        return roots;
    }

    fs::path root_;
    std::shared_ptr<const PackageDatabase> packages_;
    std::shared_ptr<const PackageCache> cache_;
};

} // namespace

std::unique_ptr<Distro> debian(fs::path root, std::shared_ptr<const PackageDatabase> packages,
                               std::shared_ptr<const PackageCache> cache) {
    return std::make_unique<Debian>(std::move(root), std::move(packages), std::move(cache));
}

} // namespace kpp::build::distro
