// The distribution rules (kpatch-build/distro/): where each distribution keeps
// a kernel's source, config, debug info and Module.symvers, and which package
// versions must agree. A fake root directory and a fake package database
// stand in for the machine.
#include "fake_packages.h"
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/fedora_release.h"
#include "kpatch-build/distro/rules.h"
#include "kpatch-build/distro/ubuntu_release.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

#include <map>

using namespace kpp::build;
using namespace kpp::build::distro;
using kpp::build::test::error_of;
using kpp::build::test::FakePackages;
using kpp::build::test::TempTree;

namespace {

constexpr const char *kDebianRel = "6.1.0-56-cloud-amd64";

struct DebianMachine {
    TempTree root;
    std::shared_ptr<FakePackages> packages = std::make_shared<FakePackages>();
    DebianMachine() {
        for (const char *pkg :
             {"linux-headers-6.1.0-56-cloud-amd64", "linux-image-6.1.0-56-cloud-amd64",
              "linux-image-6.1.0-56-cloud-amd64-dbg", "linux-source-6.1"})
            packages->installed[pkg] = "6.1.192-2";
        root.write("usr/src/linux-headers-6.1.0-56-cloud-amd64/Module.symvers", "");
        root.write("usr/src/linux-headers-6.1.0-56-cloud-amd64/.config", "CONFIG_X=y\n");
        root.write("boot/config-6.1.0-56-cloud-amd64", "");
        root.write("usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64", "");
        root.write("usr/src/linux-source-6.1.tar.xz", "");
    }
    StockKernel locate() const { return debian(root.root(), packages)->locate(kDebianRel); }
};

} // namespace

TEST(KpatchBuildDistro, SplitsReleases) {
    ReleaseParts parts = split_release("6.1.0-56-cloud-amd64");
    EXPECT_EQ(parts.upstream, "6.1.0");
    EXPECT_EQ(parts.series, "6.1");
    EXPECT_EQ(parts.rest, "-56-cloud-amd64");
    EXPECT_THROW(split_release("cloud-amd64"), kpp::Error);
    EXPECT_THROW(split_release("6.1"), kpp::Error);
}

TEST(KpatchBuildDistro, DebianFindsEveryPiece) {
    DebianMachine m;
    StockKernel k = m.locate();
    EXPECT_EQ(k.distro, "Debian");
    EXPECT_EQ(k.version, "6.1.192-2");
    EXPECT_EQ(k.source, m.root / "usr/src/linux-source-6.1.tar.xz");
    EXPECT_EQ(k.source_kind, SourceKind::Tarball);
    EXPECT_EQ(k.vmlinux, m.root / "usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64");
    EXPECT_EQ(k.debug_modules, m.root / "usr/lib/debug/lib/modules/6.1.0-56-cloud-amd64");
    EXPECT_EQ(k.debug_module_suffix, ".ko");
    EXPECT_EQ(k.symvers, m.root / "usr/src/linux-headers-6.1.0-56-cloud-amd64/Module.symvers");
    // The headers' .config is the one the build really used (BUILD_SALT ...).
    EXPECT_EQ(k.config, m.root / "usr/src/linux-headers-6.1.0-56-cloud-amd64/.config");
    std::filesystem::remove(m.root / "usr/src/linux-headers-6.1.0-56-cloud-amd64/.config");
    EXPECT_EQ(m.locate().config, m.root / "boot/config-6.1.0-56-cloud-amd64");
}

TEST(KpatchBuildDistro, DebianSourceVersionMustMatchTheKernel) {
    DebianMachine m;
    m.packages->installed["linux-source-6.1"] = "6.1.170-1";
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("linux-source-6.1 is version 6.1.170-1"), std::string::npos) << error;
    EXPECT_NE(error.find("install linux-source-6.1 version 6.1.192-2"), std::string::npos) << error;
    m.packages->installed.erase("linux-source-6.1");
    error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("linux-source-6.1 is not installed"), std::string::npos) << error;
}

TEST(KpatchBuildDistro, DebianUnsignedImageCountsAndMustMatchToo) {
    DebianMachine m;
    m.packages->installed.erase("linux-image-6.1.0-56-cloud-amd64");
    m.packages->installed["linux-image-6.1.0-56-cloud-amd64-unsigned"] = "6.1.191-1";
    // The image is what the machine boots: its version is the build, and
    // (without a package cache) the other pieces must be installed at it.
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("linux-headers-6.1.0-56-cloud-amd64 is version 6.1.192-2 but "
                         "linux-image-6.1.0-56-cloud-amd64-unsigned is 6.1.191-1"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("install linux-headers-6.1.0-56-cloud-amd64 version 6.1.191-1"),
              std::string::npos)
        << error;
    m.packages->installed.erase("linux-image-6.1.0-56-cloud-amd64-unsigned");
    EXPECT_NO_THROW(m.locate()); // building for another machine: no image needed
}

TEST(KpatchBuildDistro, DebianNamesThePackageOfAMissingPiece) {
    DebianMachine m;
    m.packages->installed.erase("linux-image-6.1.0-56-cloud-amd64-dbg");
    EXPECT_NE(
        error_of([&] { m.locate(); }).find("linux-image-6.1.0-56-cloud-amd64-dbg is not installed"),
        std::string::npos);
    m.packages->installed["linux-image-6.1.0-56-cloud-amd64-dbg"] = "6.1.192-2";
    std::filesystem::remove(m.root / "usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64");
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("install linux-image-6.1.0-56-cloud-amd64-dbg"), std::string::npos)
        << error;
    EXPECT_NE(error.find("System.map"), std::string::npos) << error;
    m.packages->installed.erase("linux-headers-6.1.0-56-cloud-amd64");
    EXPECT_NE(
        error_of([&] { m.locate(); }).find("linux-headers-6.1.0-56-cloud-amd64 is not installed"),
        std::string::npos);
}

TEST(KpatchBuildDistro, UbuntuReleaseAndAbi) {
    UbuntuRelease r = parse_ubuntu_release("5.15.0-91-generic");
    EXPECT_EQ(r.upstream, "5.15.0");
    EXPECT_EQ(r.abi, "91");
    EXPECT_EQ(r.flavour, "generic");
    EXPECT_EQ(parse_ubuntu_release("6.8.0-1009-aws").flavour, "aws");
    EXPECT_TRUE(ubuntu_version_has_abi(r, "5.15.0-91.101"));
    EXPECT_FALSE(ubuntu_version_has_abi(r, "5.15.0-92.102"));
    EXPECT_FALSE(ubuntu_version_has_abi(r, "5.15.0-910.1"));
    EXPECT_THROW(parse_ubuntu_release("5.15.0-generic"), kpp::Error);
    EXPECT_THROW(parse_ubuntu_release("5.15.0-91"), kpp::Error);
}

TEST(KpatchBuildDistro, UbuntuFindsEveryPiece) {
    TempTree root;
    auto packages = std::make_shared<FakePackages>();
    const std::string rel = "5.15.0-91-generic";
    for (const auto &pkg :
         {"linux-headers-" + rel, "linux-image-unsigned-" + rel,
          "linux-image-unsigned-" + rel + "-dbgsym", std::string("linux-source-5.15.0")})
        packages->installed[pkg] = "5.15.0-91.101";
    root.write("usr/src/linux-headers-" + rel + "/Module.symvers", "");
    root.write("boot/config-" + rel, "");
    root.write("usr/lib/debug/boot/vmlinux-" + rel, "");
    root.write("usr/src/linux-source-5.15.0/linux-source-5.15.0.tar.bz2", "");
    StockKernel k = ubuntu(root.root(), packages)->locate(rel);
    EXPECT_EQ(k.source, root / "usr/src/linux-source-5.15.0/linux-source-5.15.0.tar.bz2");
    EXPECT_EQ(k.config, root / ("boot/config-" + rel));
    EXPECT_EQ(k.vmlinux, root / ("usr/lib/debug/boot/vmlinux-" + rel));
    EXPECT_EQ(k.debug_modules, root / ("usr/lib/debug/lib/modules/" + rel));

    packages->installed["linux-headers-" + rel] = "5.15.0-92.102";
    EXPECT_NE(error_of([&] { ubuntu(root.root(), packages)->locate(rel); }).find("not ABI 91"),
              std::string::npos);
    packages->installed["linux-headers-" + rel] = "5.15.0-91.101";
    packages->installed.erase("linux-image-unsigned-" + rel + "-dbgsym");
    EXPECT_NE(error_of([&] {
                  ubuntu(root.root(), packages)->locate(rel);
              }).find("linux-image-" + rel + "-dbgsym is not installed"),
              std::string::npos);
}

TEST(KpatchBuildDistro, FedoraReleaseParts) {
    FedoraRelease r = parse_fedora_release("6.5.6-300.fc39.x86_64");
    EXPECT_EQ(r.version, "6.5.6");
    EXPECT_EQ(r.release, "300.fc39");
    EXPECT_EQ(r.arch, "x86_64");
    EXPECT_EQ(r.evr(), "6.5.6-300.fc39");
    EXPECT_EQ(parse_fedora_release("5.14.0-362.8.1.el9_3.aarch64").release, "362.8.1.el9_3");
    EXPECT_THROW(parse_fedora_release("6.5.6-300.fc39"), kpp::Error);
    EXPECT_THROW(parse_fedora_release("6.5.6.x86_64"), kpp::Error);
}

TEST(KpatchBuildDistro, FedoraFindsEveryPiece) {
    TempTree root, srpms;
    auto packages = std::make_shared<FakePackages>();
    const std::string rel = "6.5.6-300.fc39.x86_64";
    packages->installed["kernel-devel-" + rel] = "6.5.6-300.fc39";
    packages->installed["kernel-debuginfo-" + rel] = "6.5.6-300.fc39";
    root.write("usr/src/kernels/" + rel + "/Module.symvers", "");
    root.write("lib/modules/" + rel + "/config", "");
    root.write("usr/lib/debug/lib/modules/" + rel + "/vmlinux", "");
    auto distro = fedora(root.root(), packages, {srpms.root()});
    std::string error = error_of([&] { distro->locate(rel); });
    EXPECT_NE(error.find("dnf download --source kernel-6.5.6-300.fc39"), std::string::npos)
        << error;
    srpms.write("kernel-6.5.6-300.fc39.src.rpm", "");
    StockKernel k = distro->locate(rel);
    EXPECT_EQ(k.source, srpms / "kernel-6.5.6-300.fc39.src.rpm");
    EXPECT_EQ(k.source_kind, SourceKind::SourceRpm);
    EXPECT_EQ(k.config, root / ("lib/modules/" + rel + "/config"));
    EXPECT_EQ(k.vmlinux, root / ("usr/lib/debug/lib/modules/" + rel + "/vmlinux"));
    EXPECT_EQ(k.debug_module_suffix, ".ko.debug");
    EXPECT_EQ(k.symvers, root / ("usr/src/kernels/" + rel + "/Module.symvers"));
    packages->installed.erase("kernel-debuginfo-" + rel);
    EXPECT_NE(error_of([&] {
                  distro->locate(rel);
              }).find("kernel-debuginfo-" + rel + " is not installed"),
              std::string::npos);
}

TEST(KpatchBuildDistro, DetectsFromOsRelease) {
    auto packages = std::make_shared<FakePackages>();
    TempTree root;
    root.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n");
    EXPECT_EQ(detect(root.root(), packages)->name(), "Debian");
    root.write("etc/os-release", "ID=ubuntu\nID_LIKE=debian\n");
    EXPECT_EQ(detect(root.root(), packages)->name(), "Ubuntu");
    root.write("etc/os-release", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n");
    EXPECT_EQ(detect(root.root(), packages)->name(), "Fedora/RHEL");
    root.write("etc/os-release", "ID=fedora\n");
    EXPECT_EQ(detect(root.root(), packages)->name(), "Fedora/RHEL");
    root.write("etc/os-release", "ID=arch\nPRETTY_NAME=\"Arch Linux\"\n");
    EXPECT_NE(error_of([&] { detect(root.root(), packages); }).find("Arch Linux"),
              std::string::npos);
    std::filesystem::remove(root / "etc/os-release");
    root.write("usr/lib/os-release", "ID=debian\n");
    EXPECT_EQ(detect(root.root(), packages)->name(), "Debian");
}
