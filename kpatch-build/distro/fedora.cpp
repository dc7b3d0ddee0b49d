// Fedora and RHEL-likes: kernel-debuginfo-REL (vmlinux and NAME.ko.debug
// files under /usr/lib/debug/lib/modules/REL), kernel-devel-REL
// (/usr/src/kernels/REL: Module.symvers, generated headers), the config in
// /lib/modules/REL/config, and the source RPM kernel-VERSION-RELEASE.src.rpm
// (`dnf download --source kernel-VERSION-RELEASE`).
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/fedora_release.h"
#include "kpatch-build/distro/rules.h"

#include "libkpp/error.h"

#include <cstdlib>

namespace kpp::build::distro {
namespace fs = std::filesystem;

FedoraRelease parse_fedora_release(const std::string &release) {
    split_release(release); // X.Y.Z first
    size_t dash = release.find('-');
    size_t dot = release.rfind('.');
    std::string arch = dot == std::string::npos ? "" : release.substr(dot + 1);
    bool known_arch = arch == "x86_64" || arch == "aarch64" || arch == "ppc64le" || arch == "s390x";
    if (dash == std::string::npos || !known_arch || dot <= dash + 1)
        throw Error("'{}' is not a Fedora/RHEL kernel release (VERSION-RELEASE.ARCH, e.g. "
                    "6.5.6-300.fc39.x86_64)",
                    release);
    return {release.substr(0, dash), release.substr(dash + 1, dot - dash - 1), arch};
}

namespace {

std::vector<fs::path> default_source_dirs() {
    std::vector<fs::path> dirs = {fs::current_path()};
    if (const char *home = std::getenv("HOME"); home && *home)
        dirs.push_back(fs::path(home) / "rpmbuild/SRPMS");
    return dirs;
}

class Fedora : public Distro {
  public:
    Fedora(fs::path root, std::shared_ptr<const PackageDatabase> packages,
           std::vector<fs::path> source_dirs)
        : root_(std::move(root)), packages_(std::move(packages)),
          source_dirs_(source_dirs.empty() ? default_source_dirs() : std::move(source_dirs)) {}

    std::string name() const override { return "Fedora/RHEL"; }

    StockKernel locate(const std::string &release) const override {
        FedoraRelease parts = parse_fedora_release(release);
        StockKernel k;
        k.distro = name();
        k.release = release;
        k.version = parts.evr();
        // rpm names carry the version: being installed is being the same build.
        InstalledPackage devel = require_package(*packages_, {"kernel-devel-" + release},
                                                 "Module.symvers and the generated headers");
        InstalledPackage debuginfo =
            require_package(*packages_, {"kernel-debuginfo-" + release},
                            "the symbols and DWARF of vmlinux and the modules");
        for (const auto &package : {devel, debuginfo})
            if (package.version != k.version)
                throw Error("{} reports version {}, expected {}", package.name, package.version,
                            k.version);

        k.headers = root_ / "usr/src/kernels" / release;
        k.symvers = k.headers / "Module.symvers";
        require_file(k.symvers, "Module.symvers", devel.name);
        k.config = build_config(k.headers, root_ / "lib/modules" / release / "config");
        require_file(k.config, "kernel config", "kernel-core-" + release);
        k.debug_modules = root_ / "usr/lib/debug/lib/modules" / release;
        k.vmlinux = k.debug_modules / "vmlinux";
        require_file(k.vmlinux, "vmlinux with debug info", debuginfo.name, kNoSystemMapFallback);
        k.debug_module_suffix = ".ko.debug";
        k.source_kind = SourceKind::SourceRpm;
        k.source = find_source_rpm(parts);
        return k;
    }

  private:
    fs::path find_source_rpm(const FedoraRelease &parts) const {
        std::string name = "kernel-" + parts.evr() + ".src.rpm";
        std::vector<std::string> searched;
        for (const auto &dir : source_dirs_) {
            if (fs::is_regular_file(dir / name))
                return dir / name;
            searched.push_back(dir.string());
        }
        throw Error("kernel source not found: {} in {} (download it: dnf download --source "
                    "kernel-{})",
                    name, fmt::join(searched, ", "), parts.evr());
    }

    fs::path root_;
    std::shared_ptr<const PackageDatabase> packages_;
    std::vector<fs::path> source_dirs_;
};

} // namespace

std::unique_ptr<Distro> fedora(fs::path root, std::shared_ptr<const PackageDatabase> packages,
                               std::vector<fs::path> source_dirs) {
    return std::make_unique<Fedora>(std::move(root), std::move(packages), std::move(source_dirs));
}

} // namespace kpp::build::distro
