// kpatch-build -a REL for any Debian release the archive has: which build a
// release is, the package cache (download, unpack, publish, errors that
// leave it unchanged), listing and pruning the cache, and touched sources
// the configuration does not compile. A fake archive (C++) or fake apt-get
// and apt-cache programs on PATH stand in for the network; the packages are
// real .debs made with dpkg-deb.
#include "fake_packages.h"
#include "kpatch-build/distro/cache_admin.h"
#include "kpatch-build/distro/cache_use.h"
#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/package_archive.h"
#include "kpatch-build/distro/package_cache.h"
#include "kpatch-build/kbuild/changed_objects.h"
#include "kpatch-build/kbuild/uncompiled_source.h"
#include "kpatch-build/options.h"
#include "kpatch-build/util/disk_space.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sys/stat.h>

using namespace kpp::build;
using namespace kpp::build::distro;
using kpp::build::test::error_of;
using kpp::build::test::FakePackages;
using kpp::build::test::TempTree;
namespace fs = std::filesystem;

namespace {

constexpr const char *kRel = "6.1.0-53-cloud-amd64";
constexpr const char *kVersion = "6.1.187-1";
const std::string kHeaders = std::string("linux-headers-") + kRel;
const std::string kImage = std::string("linux-image-") + kRel;
const std::string kDbg = kImage + "-dbg";
const std::string kSource = "linux-source-6.1";

// A real .deb holding `files` (path -> contents), made with dpkg-deb -b.
fs::path make_deb(const fs::path &dir, const std::string &name, const std::string &version,
                  const std::map<std::string, std::string> &files) {
    TempTree tree;
    tree.write("DEBIAN/control", "Package: " + name + "\nVersion: " + version +
                                     "\nArchitecture: all\nMaintainer: t <t@t>\n"
                                     "Description: test\n");
    for (const auto &[path, text] : files)
        tree.write(path, text);
    fs::create_directories(dir);
    fs::path deb = dir / (name + "_" + version + "_all.deb");
    std::string command = "dpkg-deb --root-owner-group -b " + tree.root().string() + " " +
                          deb.string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return deb;
}

class FakeArchive : public PackageArchive {
  public:
    std::map<std::string, std::vector<ArchivePackage>> offers;
    std::map<std::string, fs::path> debs; // "name=version" -> the .deb apt would fetch
    std::string failure;                  // the reason apt-get download gives, if set
    bool offline = false;                 // any question to the archive fails the test
    mutable std::vector<std::string> downloads;
    mutable int questions = 0;

    void offer(const std::string &name, const std::string &version, const fs::path &deb,
               uint64_t unpacked = 4096) {
        offers[name].push_back({name, version, 1024, unpacked});
        debs[name + "=" + version] = deb;
    }
    std::vector<ArchivePackage> versions(const std::string &package) const override {
        EXPECT_FALSE(offline) << "asked the archive for " << package;
        ++questions;
        auto it = offers.find(package);
        return it == offers.end() ? std::vector<ArchivePackage>{} : it->second;
    }
    fs::path download(const ArchivePackage &package, const fs::path &dir,
                      const fs::path &) const override {
        EXPECT_FALSE(offline) << "downloaded " << package.name;
        downloads.push_back(package.name);
        if (!failure.empty())
            throw kpp::Error("apt-get download {}={} failed: {}", package.name, package.version,
                             failure);
        fs::path deb = debs.at(package.name + "=" + package.version);
        fs::copy_file(deb, dir / deb.filename());
        return dir / deb.filename();
    }
};

// A machine with nothing of kRel installed and an archive that has it all.
struct ReleaseMachine {
    TempTree root, cache, debs;
    std::shared_ptr<FakePackages> packages = std::make_shared<FakePackages>();
    std::shared_ptr<FakeArchive> archive = std::make_shared<FakeArchive>();

    ReleaseMachine() {
        archive->offer(kImage, kVersion,
                       make_deb(debs.root(), kImage, kVersion,
                                {{std::string("boot/vmlinuz-") + kRel, "bzImage"}}));
        archive->offer(kHeaders, kVersion,
                       make_deb(debs.root(), kHeaders, kVersion,
                                {{"usr/src/" + kHeaders + "/Module.symvers", "0x1\tf\tvmlinux\n"},
                                 {"usr/src/" + kHeaders + "/.config", "CONFIG_X=y\n"}}));
        archive->offer(kDbg, kVersion,
                       make_deb(debs.root(), kDbg, kVersion,
                                {{std::string("usr/lib/debug/boot/vmlinux-") + kRel, "ELF"}}));
        archive->offer(
            kSource, kVersion,
            make_deb(debs.root(), kSource, kVersion, {{"usr/src/linux-source-6.1.tar.xz", "tar"}}));
        // Another build of the source is in the archive too.
        archive->offer(kSource, "6.1.192-3",
                       make_deb(debs.root(), kSource, "6.1.192-3",
                                {{"usr/src/linux-source-6.1.tar.xz", "newer"}}));
    }
    std::shared_ptr<PackageCache> package_cache() const {
        return std::make_shared<PackageCache>(cache / "packages", archive);
    }
    StockKernel locate() const {
        return debian(root.root(), packages, package_cache())->locate(kRel);
    }
    fs::path entry(const std::string &name, const std::string &version = kVersion) const {
        return cache / "packages" / package_entry_name(name, version);
    }
    // Everything under CACHE/packages, to show a failure changed nothing.
    std::vector<std::string> cache_files() const {
        std::vector<std::string> files;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(cache / "packages", ec);
             !ec && it != fs::end(it); it.increment(ec))
            files.push_back(it->path().lexically_relative(cache.root()).string());
        std::sort(files.begin(), files.end());
        return files;
    }
};

} // namespace

TEST(KpatchBuildRelease, ParsesAptShow) {
    auto packages = parse_apt_show("Package: linux-source-6.1\nVersion: 6.1.192-3\n"
                                   "Installed-Size: 135987\nDepends: binutils, xz-utils\n"
                                   "Description: x\n long text\n .\nSize: 139246836\n\n"
                                   "Package: linux-source-6.1\nVersion: 6.1.187-1\nSize: 10\n\n"
                                   "Package: linux-source-6.1\nVersion: 6.1.192-3\nSize: 1\n");
    ASSERT_EQ(packages.size(), 2u) << "one version listed by two sources counts once";
    EXPECT_EQ(packages[0].version, "6.1.192-3");
    EXPECT_EQ(packages[0].download_bytes, 139246836u);
    EXPECT_EQ(packages[0].unpacked_bytes, 135987u * 1024);
    EXPECT_EQ(packages[1].version, "6.1.187-1");
    EXPECT_EQ(packages[1].unpacked_bytes, 0u);
    EXPECT_TRUE(parse_apt_show("").empty());
}

TEST(KpatchBuildRelease, EntryNamesKeepTheVersion) {
    EXPECT_EQ(package_entry_name("linux-source-6.1", "6.1.187-1"), "linux-source-6.1_6.1.187-1");
    EXPECT_EQ(package_entry_name("x", "1:2.0-1"), "x_1%3a2.0-1");
    TempTree cache;
    fs::create_directories(cache / "x_1%3a2.0-1");
    fs::create_directories(cache / "x_1.0");
    fs::create_directories(cache / ".x_3.0.77"); // an unfinished fetch is no version
    fs::create_directories(cache / "xy_5");
    PackageCache packages(cache.root(), nullptr);
    EXPECT_EQ(packages.cached_versions("x"), (std::vector<std::string>{"1.0", "1:2.0-1"}));
    EXPECT_EQ(packages.cached("x", "1:2.0-1"), cache / "x_1%3a2.0-1");
    EXPECT_EQ(packages.cached("x", "3.0"), std::nullopt);
}

// Nothing installed: the image's version in the archive says which build
// the release is; headers, -dbg and the source of that very version are
// downloaded and unpacked into the cache, not the newer source.
TEST(KpatchBuildRelease, FetchesEveryPieceOfAnArchivedRelease) {
    ReleaseMachine m;
    StockKernel k = m.locate();
    EXPECT_EQ(k.version, kVersion);
    EXPECT_EQ(m.archive->downloads, (std::vector<std::string>{kHeaders, kDbg, kSource}));
    EXPECT_EQ(k.symvers, m.entry(kHeaders) / "usr/src" / kHeaders / "Module.symvers");
    EXPECT_EQ(k.config, m.entry(kHeaders) / "usr/src" / kHeaders / ".config");
    EXPECT_EQ(k.vmlinux, m.entry(kDbg) / "usr/lib/debug/boot" / (std::string("vmlinux-") + kRel));
    EXPECT_EQ(k.debug_modules, m.entry(kDbg) / "usr/lib/debug/lib/modules" / kRel);
    EXPECT_EQ(k.source, m.entry(kSource) / "usr/src/linux-source-6.1.tar.xz");
    std::ifstream source(k.source);
    std::string text((std::istreambuf_iterator<char>(source)), {});
    EXPECT_EQ(text, "tar");
    EXPECT_EQ(k.cached_packages,
              (std::vector<fs::path>{m.entry(kHeaders), m.entry(kDbg), m.entry(kSource)}));
    EXPECT_EQ(k.cache_uses.size(), 3u);
    // Only complete entries: no temporary directory, no .deb left.
    std::vector<std::string> entries;
    for (const auto &entry : fs::directory_iterator(m.cache / "packages"))
        entries.push_back(entry.path().filename().string());
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{m.entry(kHeaders).filename().string(),
                                                 m.entry(kDbg).filename().string(),
                                                 m.entry(kSource).filename().string()}));
    for (const auto &file : m.cache_files())
        EXPECT_FALSE(file.ends_with(".deb")) << file;
}

// Once cached, the release needs no archive at all.
TEST(KpatchBuildRelease, WorksOfflineFromTheCache) {
    ReleaseMachine m;
    m.locate();
    m.archive->offline = true;
    m.archive->downloads.clear();
    StockKernel k = m.locate();
    EXPECT_EQ(k.version, kVersion);
    EXPECT_TRUE(m.archive->downloads.empty());
    EXPECT_EQ(m.archive->questions, 4) << "only the first locate asked the archive";
}

// Installed pieces of the right version are used where they are; only the
// others are fetched. The installed image decides the version.
TEST(KpatchBuildRelease, InstalledPiecesAreUsedAndTheImageDecides) {
    ReleaseMachine m;
    m.packages->installed[kImage] = kVersion;
    m.packages->installed[kDbg] = kVersion;
    m.root.write(std::string("usr/lib/debug/boot/vmlinux-") + kRel, "ELF");
    m.packages->installed[kSource] = "6.1.192-3"; // the newer source: not this build's
    m.packages->installed[kHeaders] = "6.1.180-1";
    StockKernel k = m.locate();
    EXPECT_EQ(k.version, kVersion);
    EXPECT_EQ(m.archive->downloads, (std::vector<std::string>{kHeaders, kSource}));
    EXPECT_EQ(k.vmlinux, m.root / "usr/lib/debug/boot" / (std::string("vmlinux-") + kRel));
    EXPECT_EQ(k.source, m.entry(kSource) / "usr/src/linux-source-6.1.tar.xz");
    EXPECT_EQ(m.archive->questions, 2) << "the installed image needs no version lookup";
}

TEST(KpatchBuildRelease, MissingDebugPackageIsOneLineAndFetchesNothing) {
    ReleaseMachine m;
    m.archive->offers.erase(kDbg);
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find(std::string("cannot patch ") + kRel +
                         ": the package archive no longer "
                         "has " +
                         kDbg + " 6.1.187-1"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("the archive has: none"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_TRUE(m.archive->downloads.empty()) << "nothing is downloaded before all are known";
    EXPECT_TRUE(m.cache_files().empty());
}

TEST(KpatchBuildRelease, SourceVersionGoneFromTheArchive) {
    ReleaseMachine m;
    m.archive->offers[kSource].erase(m.archive->offers[kSource].begin());
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("no longer has linux-source-6.1 6.1.187-1 (the kernel source; the archive "
                         "has: 6.1.192-3)"),
              std::string::npos)
        << error;
}

TEST(KpatchBuildRelease, UnknownReleaseIsOneLine) {
    ReleaseMachine m;
    m.archive->offers.erase(kImage);
    std::string error = error_of([&] { m.locate(); });
    EXPECT_EQ(error, std::string(kRel) +
                         " is neither installed nor in the package archive (apt-cache show " +
                         kImage +
                         "): not a Debian kernel release, or one the archive no longer has (run "
                         "apt-get update; old builds are on snapshot.debian.org)");
}

TEST(KpatchBuildRelease, SeveralBuildsOfOneReleaseAreNotGuessed) {
    ReleaseMachine m;
    m.archive->offers[kImage].push_back({kImage, "6.1.187-2", 1, 1});
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find("several builds (6.1.187-1, 6.1.187-2)"), std::string::npos) << error;
}

TEST(KpatchBuildRelease, FailedDownloadLeavesTheCacheUnchanged) {
    ReleaseMachine m;
    m.locate(); // everything of kVersion cached
    auto before = m.cache_files();
    // Another release whose -dbg download fails half way through the list.
    const std::string other = "linux-image-6.1.0-54-cloud-amd64";
    m.archive->offer(other, "6.1.190-1", m.archive->debs.at(kImage + "=" + kVersion));
    m.archive->offer("linux-headers-6.1.0-54-cloud-amd64", "6.1.190-1",
                     m.archive->debs.at(kHeaders + "=" + kVersion));
    m.archive->offer(other + "-dbg", "6.1.190-1", m.archive->debs.at(kDbg + "=" + kVersion));
    m.archive->offer(kSource, "6.1.190-1", m.archive->debs.at(kSource + "=" + kVersion));
    m.archive->failure = "Failed to fetch http://deb.debian.org/x.deb  404  Not Found";
    std::string error = error_of([&] {
        debian(m.root.root(), m.packages, m.package_cache())->locate("6.1.0-54-cloud-amd64");
    });
    EXPECT_EQ(error, "apt-get download linux-headers-6.1.0-54-cloud-amd64=6.1.190-1 failed: "
                     "Failed to fetch http://deb.debian.org/x.deb  404  Not Found");
    EXPECT_EQ(m.cache_files(), before);
}

TEST(KpatchBuildRelease, NotEnoughSpaceIsSaidBeforeDownloading) {
    ReleaseMachine m;
    m.archive->offers[kDbg].front().unpacked_bytes = uint64_t{1} << 60;
    std::string error = error_of([&] { m.locate(); });
    EXPECT_NE(error.find(std::string("not enough space for the packages of ") + kRel),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("set KPP_CACHE_DIR to a larger filesystem"), std::string::npos) << error;
    EXPECT_TRUE(m.archive->downloads.empty());
    EXPECT_TRUE(m.cache_files().empty());
}

TEST(KpatchBuildRelease, WithoutACacheEachMissingPieceIsNamed) {
    ReleaseMachine m;
    m.packages->installed[kImage] = kVersion;
    std::string error = error_of([&] { debian(m.root.root(), m.packages)->locate(kRel); });
    EXPECT_NE(error.find(kHeaders + " is not installed; kpatch-build needs version 6.1.187-1"),
              std::string::npos)
        << error;
}

// The real apt front end, with fake apt-cache and apt-get programs on PATH.
class FakeApt : public ::testing::Test {
  protected:
    TempTree bin, cache, debs;
    std::string saved_path = std::getenv("PATH");
    void SetUp() override { setenv("PATH", (bin.root().string() + ":" + saved_path).c_str(), 1); }
    void TearDown() override { setenv("PATH", saved_path.c_str(), 1); }
    void program(const std::string &name, const std::string &script) {
        bin.write(name, "#!/bin/sh\n" + script);
        chmod((bin / name).c_str(), 0755);
    }
};

TEST_F(FakeApt, AskAndDownload) {
    fs::path deb = make_deb(debs.root(), kSource, kVersion, {{"usr/src/a", "A"}});
    program("apt-cache", "[ \"$2\" = linux-source-6.1 ] || { echo 'E: No packages found'; exit "
                         "100; }\nprintf 'Package: linux-source-6.1\\nVersion: 6.1.187-1\\n"
                         "Size: 3\\nInstalled-Size: 1\\n\\n'\n");
    program("apt-get",
            "[ \"$3\" = linux-source-6.1=6.1.187-1 ] || exit 1\ncp " + deb.string() + " .\n");
    auto apt = apt_archive();
    EXPECT_TRUE(apt->versions("linux-source-6.2").empty());
    ASSERT_EQ(apt->versions(kSource).size(), 1u);
    PackageCache packages(cache / "packages", std::move(apt));
    std::vector<std::shared_ptr<CacheUse>> uses;
    auto roots = packages.provide({{kSource, kVersion, "the source"}}, kRel, uses);
    ASSERT_EQ(roots.size(), 1u);
    std::ifstream in(roots[0] / "usr/src/a");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "A");
}

TEST_F(FakeApt, DownloadFailureNamesAptsReason) {
    program("apt-cache",
            "printf 'Package: linux-source-6.1\\nVersion: 6.1.187-1\\nSize: 3\\n\\n'\n");
    program("apt-get", "echo 'Err:1 http://deb.debian.org x'\necho 'E: Failed to fetch "
                       "http://deb.debian.org/x.deb  Temporary failure resolving' >&2\n"
                       "echo 'E: Some files failed to download' >&2\nexit 100\n");
    PackageCache packages(cache / "packages", apt_archive());
    std::vector<std::shared_ptr<CacheUse>> uses;
    std::string error = error_of([&] {
        packages.provide({{kSource, kVersion, "the source"}}, kRel, uses);
    });
    EXPECT_EQ(error, "apt-get download linux-source-6.1=6.1.187-1 failed: Some files failed to "
                     "download");
    EXPECT_TRUE(fs::is_empty(cache / "packages")) << "the temporary directory is gone";
}

TEST_F(FakeApt, ArchiveThatCannotBeAsked) {
    program("apt-cache", "echo 'E: Could not open lock file' >&2\nexit 100\n");
    std::string error = error_of([&] { apt_archive()->versions(kSource); });
    EXPECT_EQ(error, "apt-cache show linux-source-6.1 failed: E: Could not open lock file");
}

namespace {

// CACHE with two prepared releases sharing the source package, an
// unfinished fetch, an abandoned preparation and the test kernels' folder.
struct CacheLayout {
    TempTree cache;
    CacheLayout() {
        release("6.1.0-53-cloud-amd64", "6.1.187-1", 11,
                {"linux-image-6.1.0-53-cloud-amd64-dbg_6.1.187-1", "linux-source-6.1_6.1.187-1"});
        release("6.1.0-53-amd64", "6.1.187-1", 12,
                {"linux-image-6.1.0-53-amd64-dbg_6.1.187-1", "linux-source-6.1_6.1.187-1"});
        for (const char *entry :
             {"linux-image-6.1.0-53-cloud-amd64-dbg_6.1.187-1", "linux-source-6.1_6.1.187-1",
              "linux-image-6.1.0-53-amd64-dbg_6.1.187-1", "linux-source-6.1_6.1.170-3"})
            cache.write(std::string("packages/") + entry + "/usr/file", std::string(10000, 'x'));
        cache.write("packages/.linux-source-6.1_6.1.190-1.999/fetch.log", "half");
        cache.write("releases/6.1.0-54-cloud-amd64.998/tree/Makefile", "abandoned");
        cache.write("kernels/abc/linux/Makefile", "not kpatch-build's");
    }
    void release(const std::string &rel, const std::string &version, int id,
                 const std::vector<std::string> &packages) {
        std::string dir = "releases/" + rel + "." + std::to_string(id);
        cache.write(dir + "/release.txt", rel + "\n" + version + "\nformat 3\n");
        std::string list;
        for (const auto &p : packages)
            list += p + "\n";
        cache.write(dir + "/packages.txt", list);
        cache.write(dir + "/tree/Makefile", std::string(20000, 'm'));
        fs::create_directory_symlink(rel + "." + std::to_string(id), cache / ("releases/" + rel));
    }
    bool has(const std::string &rel) const { return fs::exists(cache / rel); }
};

} // namespace

TEST(KpatchBuildCache, ListsReleasesAndPackagesWithSizes) {
    CacheLayout l;
    CacheContents contents = read_cache(l.cache.root());
    ASSERT_EQ(contents.releases.size(), 2u);
    EXPECT_EQ(contents.releases[0].release, "6.1.0-53-amd64");
    EXPECT_EQ(contents.releases[1].release, "6.1.0-53-cloud-amd64");
    EXPECT_EQ(contents.releases[1].version, "6.1.187-1");
    EXPECT_GE(contents.releases[1].bytes, 20000u);
    ASSERT_EQ(contents.packages.size(), 4u);
    EXPECT_EQ(contents.packages[2].entry, "linux-source-6.1_6.1.170-3");
    EXPECT_TRUE(contents.packages[2].used_by.empty());
    EXPECT_EQ(contents.packages[3].entry, "linux-source-6.1_6.1.187-1");
    EXPECT_EQ(contents.packages[3].used_by,
              (std::vector<std::string>{"6.1.0-53-amd64", "6.1.0-53-cloud-amd64"}));
    EXPECT_GE(contents.packages[3].bytes, 10000u);
    EXPECT_EQ(contents.leftovers.size(), 2u);
    auto lines = cache_listing(l.cache.root());
    ASSERT_EQ(lines.size(), 11u);
    EXPECT_EQ(lines[0], "kpatch-build cache " + l.cache.root().string());
    EXPECT_TRUE(lines[3].starts_with("  6.1.0-53-cloud-amd64        6.1.187-1     ")) << lines[3];
    EXPECT_TRUE(lines[7].ends_with("(no prepared release)")) << lines[7];
    EXPECT_TRUE(lines[9].starts_with("  left over from interrupted runs: 2 (")) << lines[9];
    EXPECT_TRUE(lines[10].starts_with("  total ")) << lines[10];
    EXPECT_EQ(human_size(1536u << 20), "1.5 GiB");
    EXPECT_EQ(human_size(3u << 20), "3.0 MiB");
    EXPECT_EQ(human_size(4096), "4 KiB");
}

TEST(KpatchBuildCache, PruningAReleaseKeepsWhatOthersUse) {
    CacheLayout l;
    auto lines = prune_cache(l.cache.root(), {"6.1.0-53-cloud-amd64"});
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(lines[0].starts_with("removed release 6.1.0-53-cloud-amd64 (6.1.187-1) ("))
        << lines[0];
    EXPECT_TRUE(
        lines[1].starts_with("removed package linux-image-6.1.0-53-cloud-amd64-dbg_6.1.187-1"))
        << lines[1];
    EXPECT_EQ(lines[2], "removed 2 directories left over from interrupted runs");
    EXPECT_FALSE(l.has("releases/6.1.0-53-cloud-amd64"));
    EXPECT_FALSE(l.has("releases/6.1.0-53-cloud-amd64.11"));
    EXPECT_TRUE(l.has("releases/6.1.0-53-amd64.12/tree/Makefile"));
    EXPECT_TRUE(l.has("packages/linux-source-6.1_6.1.187-1")) << "the other release uses it";
    EXPECT_TRUE(l.has("packages/linux-source-6.1_6.1.170-3")) << "only 'unused' takes unused ones";
    EXPECT_FALSE(l.has("packages/.linux-source-6.1_6.1.190-1.999"));
    EXPECT_FALSE(l.has("releases/6.1.0-54-cloud-amd64.998"));
    EXPECT_TRUE(l.has("kernels/abc/linux/Makefile"));

    lines = prune_cache(l.cache.root(), {"unused"});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].starts_with("removed package linux-source-6.1_6.1.170-3 (")) << lines[0];
    EXPECT_FALSE(l.has("packages/linux-source-6.1_6.1.170-3"));
    EXPECT_TRUE(l.has("packages/linux-source-6.1_6.1.187-1"));
}

TEST(KpatchBuildCache, PruneAllSkipsWhatARunUses) {
    CacheLayout l;
    auto in_use = CacheUse::shared(l.cache / "releases/6.1.0-53-amd64.12");
    auto lines = prune_cache(l.cache.root(), {"all"});
    EXPECT_EQ(lines[0], "kept release 6.1.0-53-amd64 (6.1.187-1): a running kpatch-build uses it");
    EXPECT_TRUE(l.has("releases/6.1.0-53-amd64"));
    EXPECT_TRUE(l.has("packages/linux-source-6.1_6.1.187-1")) << "the kept release uses it";
    EXPECT_TRUE(l.has("packages/linux-image-6.1.0-53-amd64-dbg_6.1.187-1"));
    EXPECT_FALSE(l.has("releases/6.1.0-53-cloud-amd64.11"));
    EXPECT_FALSE(l.has("packages/linux-image-6.1.0-53-cloud-amd64-dbg_6.1.187-1"));
    EXPECT_FALSE(l.has("packages/linux-source-6.1_6.1.170-3"));
    EXPECT_TRUE(l.has("kernels/abc/linux/Makefile"));
    in_use.reset();
    prune_cache(l.cache.root(), {"all"});
    EXPECT_TRUE(fs::is_empty(l.cache / "releases"));
    EXPECT_TRUE(fs::is_empty(l.cache / "packages"));
    EXPECT_EQ(cache_listing(l.cache.root()).back(), "  (empty)");
}

TEST(KpatchBuildCache, PruningAnUnknownReleaseIsAnError) {
    CacheLayout l;
    EXPECT_EQ(error_of([&] { prune_cache(l.cache.root(), {"6.1.0-99-cloud-amd64"}); }),
              "6.1.0-99-cloud-amd64 is not in the cache " + l.cache.root().string() +
                  " (kpatch-build --cache-list shows what is)");
    EXPECT_TRUE(l.has("releases/6.1.0-53-cloud-amd64.11")) << "nothing removed";
}

TEST(KpatchBuildCache, Options) {
    auto list = parse_command_line({"--cache-list"});
    EXPECT_EQ(list.action, Action::ListCache);
    auto prune = parse_command_line({"--cache-prune", "6.1.0-53-cloud-amd64", "unused"});
    EXPECT_EQ(prune.action, Action::PruneCache);
    EXPECT_EQ(prune.options.cache_prune,
              (std::vector<std::string>{"6.1.0-53-cloud-amd64", "unused"}));
    EXPECT_THROW(parse_command_line({"--cache-list", "--cache-prune", "all"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"--cache-list", "x.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"--cache-prune"}), kpp::Error);
}

TEST(KpatchBuildUncompiled, FindsIncludersAndTheKbuildRule) {
    TempTree tree;
    tree.write("drivers/input/joydev.c", "int x;\n");
    tree.write("drivers/input/Makefile", "obj-$(CONFIG_INPUT) += input-core.o\n"
                                         "obj-$(CONFIG_INPUT_JOYDEV)\t+= \\\n\tevdev.o joydev.o\n");
    tree.write("drivers/input/other.c", "/* see joydev.c */\n#include \"notjoydev.c.h\"\n");
    tree.write(".git/x.c", "#include \"joydev.c\"\n");
    EXPECT_TRUE(files_including(tree.root(), "drivers/input/joydev.c").empty());
    EXPECT_EQ(kbuild_rule_for(tree.root(), "drivers/input/joydev.c"),
              "obj-$(CONFIG_INPUT_JOYDEV) += evdev.o joydev.o");
    EXPECT_EQ(config_symbol_of("obj-$(CONFIG_INPUT_JOYDEV) += joydev.o"), "CONFIG_INPUT_JOYDEV");
    EXPECT_EQ(uncompiled_source_reason(tree.root(), "drivers/input/joydev.c",
                                       "# CONFIG_INPUT_JOYDEV is not set\n"),
              "drivers/input/joydev.c is not compiled in this kernel's configuration (kbuild: "
              "obj-$(CONFIG_INPUT_JOYDEV) += evdev.o joydev.o; CONFIG_INPUT_JOYDEV is not set) "
              "and no file includes it: the patch to it changes nothing");
    tree.write("lib/wrapper.c", "  #  include \"../drivers/input/joydev.c\"\n");
    EXPECT_EQ(files_including(tree.root(), "drivers/input/joydev.c"),
              std::vector<std::string>{"lib/wrapper.c"});
    EXPECT_EQ(uncompiled_source_reason(tree.root(), "drivers/input/joydev.c", ""), std::nullopt);
}

TEST(KpatchBuildUncompiled, SelectionNamesTheFileAndAsksNothingElse) {
    ObjectLookup lookup;
    lookup.builds = [](const std::string &object) { return object == "fs/proc/meminfo.o"; };
    lookup.objects_using = [](const std::string &path) -> std::optional<std::vector<std::string>> {
        ADD_FAILURE() << "no header scan for " << path;
        return std::nullopt;
    };
    lookup.all_objects = [] {
        ADD_FAILURE() << "no whole-tree fallback";
        return std::vector<std::string>{};
    };
    lookup.uncompiled = [](const std::string &source) -> std::optional<std::string> {
        return source + " is not compiled";
    };
    auto selection = select_objects({{"drivers/input/joydev.c"}, {"fs/proc/meminfo.c"}}, lookup);
    EXPECT_EQ(selection.objects, std::vector<std::string>{"fs/proc/meminfo.o"});
    EXPECT_EQ(selection.uncompiled,
              std::vector<std::string>{"drivers/input/joydev.c is not compiled"});
    EXPECT_FALSE(selection.whole_tree);
}
