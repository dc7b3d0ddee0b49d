// Debian: linux-image-REL (or -unsigned), linux-image-REL-dbg,
// linux-headers-REL and linux-source-X.Y, all of one version (e.g. 6.1.192-2
// for 6.1.0-56-cloud-amd64: the release keeps SUBLEVEL 0 and the ABI number,
// the package version has the real sublevel).
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/rules.h"

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

class Debian : public Distro {
  public:
    Debian(fs::path root, std::shared_ptr<const PackageDatabase> packages)
        : root_(std::move(root)), packages_(std::move(packages)) {}

    std::string name() const override { return "Debian"; }

    StockKernel locate(const std::string &release) const override {
        ReleaseParts parts = split_release(release);
        StockKernel k;
        k.distro = name();
        k.release = release;
        InstalledPackage headers =
            require_package(*packages_, {"linux-headers-" + release}, "Module.symvers");
        k.version = headers.version;
        // The image need not be installed here (a module may be built for
        // another machine), but if it is, it must be the same build.
        for (const auto &image : {"linux-image-" + release, "linux-image-" + release + "-unsigned"})
            if (packages_->installed_version(image))
                require_same_version(*packages_, image, headers, "the kernel image");
        require_same_version(*packages_, "linux-image-" + release + "-dbg", headers,
                             "the symbols and DWARF of vmlinux and the modules");
        std::string source_package = "linux-source-" + parts.series;
        require_same_version(*packages_, source_package, headers, "the kernel source");

        k.headers = root_ / "usr/src" / ("linux-headers-" + release);
        k.symvers = k.headers / "Module.symvers";
        require_file(k.symvers, "Module.symvers", "linux-headers-" + release);
        k.config = build_config(k.headers, root_ / "boot" / ("config-" + release));
        require_file(k.config, "kernel config", "linux-headers-" + release);
        k.vmlinux = root_ / "usr/lib/debug/boot" / ("vmlinux-" + release);
        require_file(k.vmlinux, "vmlinux with debug info", "linux-image-" + release + "-dbg",
                     kNoSystemMapFallback);
        k.debug_modules = root_ / "usr/lib/debug/lib/modules" / release;
        k.debug_module_suffix = ".ko";
        k.source_kind = SourceKind::Tarball;
        k.source = root_ / "usr/src" / (source_package + ".tar.xz");
        require_file(k.source, "kernel source", source_package);
        return k;
    }

  private:
    fs::path root_;
    std::shared_ptr<const PackageDatabase> packages_;
};

} // namespace

std::unique_ptr<Distro> debian(fs::path root, std::shared_ptr<const PackageDatabase> packages) {
    return std::make_unique<Debian>(std::move(root), std::move(packages));
}

} // namespace kpp::build::distro
