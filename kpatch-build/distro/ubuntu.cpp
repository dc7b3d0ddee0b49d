// Ubuntu: linux-image-REL (or linux-image-unsigned-REL), its -dbgsym package
// (from ddebs.ubuntu.com), linux-headers-REL and linux-source-X.Y.Z. The
// release carries the ABI number (5.15.0-91-generic: ABI 91, flavour
// generic) that the package version repeats (5.15.0-91.101).
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/rules.h"
#include "kpatch-build/distro/ubuntu_release.h"

#include "libkpp/error.h"

namespace kpp::build::distro {
namespace fs = std::filesystem;

UbuntuRelease parse_ubuntu_release(const std::string &release) {
    ReleaseParts parts = split_release(release);
    // rest: "-91-generic"
    size_t dash = parts.rest.find('-', 1);
    std::string abi = dash == std::string::npos ? "" : parts.rest.substr(1, dash - 1);
    if (parts.rest.size() < 2 || parts.rest[0] != '-' || abi.empty() ||
        abi.find_first_not_of("0123456789") != std::string::npos || dash + 1 >= parts.rest.size())
        throw Error("'{}' is not an Ubuntu kernel release (UPSTREAM-ABI-FLAVOUR, e.g. "
                    "5.15.0-91-generic)",
                    release);
    return {parts.upstream, abi, parts.rest.substr(dash + 1)};
}

bool ubuntu_version_has_abi(const UbuntuRelease &release, std::string_view package_version) {
    std::string prefix = release.upstream + "-" + release.abi + ".";
    return package_version.starts_with(prefix) && package_version.size() > prefix.size();
}

namespace {

class Ubuntu : public Distro {
  public:
    Ubuntu(fs::path root, std::shared_ptr<const PackageDatabase> packages)
        : root_(std::move(root)), packages_(std::move(packages)) {}

    std::string name() const override { return "Ubuntu"; }

    StockKernel locate(const std::string &release) const override {
        UbuntuRelease parts = parse_ubuntu_release(release);
        StockKernel k;
        k.distro = name();
        k.release = release;
        InstalledPackage headers =
            require_package(*packages_, {"linux-headers-" + release}, "Module.symvers");
        if (!ubuntu_version_has_abi(parts, headers.version))
            throw Error("linux-headers-{} is version {}, which is not ABI {} of {}", release,
                        headers.version, parts.abi, parts.upstream);
        k.version = headers.version;
        for (const auto &image : {"linux-image-" + release, "linux-image-unsigned-" + release})
            if (packages_->installed_version(image))
                require_same_version(*packages_, image, headers, "the kernel image");
        InstalledPackage dbgsym = require_package(
            *packages_,
            {"linux-image-" + release + "-dbgsym", "linux-image-unsigned-" + release + "-dbgsym"},
            "the symbols and DWARF of vmlinux and the modules (from ddebs.ubuntu.com)");
        require_same_version(*packages_, dbgsym.name, headers, "the debug symbols");
        std::string source_package = "linux-source-" + parts.upstream;
        require_same_version(*packages_, source_package, headers, "the kernel source");

        k.headers = root_ / "usr/src" / ("linux-headers-" + release);
        k.symvers = k.headers / "Module.symvers";
        require_file(k.symvers, "Module.symvers", "linux-headers-" + release);
        k.config = build_config(k.headers, root_ / "boot" / ("config-" + release));
        require_file(k.config, "kernel config", "linux-headers-" + release);
        k.vmlinux = root_ / "usr/lib/debug/boot" / ("vmlinux-" + release);
        require_file(k.vmlinux, "vmlinux with debug info", dbgsym.name, kNoSystemMapFallback);
        k.debug_modules = root_ / "usr/lib/debug/lib/modules" / release;
        k.debug_module_suffix = ".ko";
        k.source_kind = SourceKind::Tarball;
        k.source = root_ / "usr/src" / source_package / (source_package + ".tar.bz2");
        require_file(k.source, "kernel source", source_package);
        return k;
    }

  private:
    fs::path root_;
    std::shared_ptr<const PackageDatabase> packages_;
};

} // namespace

std::unique_ptr<Distro> ubuntu(fs::path root, std::shared_ptr<const PackageDatabase> packages) {
    return std::make_unique<Ubuntu>(std::move(root), std::move(packages));
}

} // namespace kpp::build::distro
