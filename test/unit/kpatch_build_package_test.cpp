// kpatch-build --package: the patch package's name, control file, file
// layout and the .deb dpkg-deb makes of it (kpatch-build/packaging/).
#include "kpatch-build/options.h"
#include "kpatch-build/packaging/deb_package.h"
#include "kpatch-build/packaging/package_stage.h"
#include "kpatch-build/packaging/patch_package.h"
#include "kpatch-build/packaging/rpm_package.h"
#include "kpatch-build/util/command.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace kpp::build;
using namespace kpp::build::packaging;
namespace fs = std::filesystem;

namespace {

constexpr std::time_t kNewYear2026 = 1767225600; // Thu, 01 Jan 2026 00:00:00 UTC

PatchPackage meminfo_package() {
    return {"6.1.0-57-cloud-amd64", "livepatch_meminfo", "2", "amd64",
            "Patch Author <author@example.org>"};
}

// An ELF header of the given machine followed by some bytes: what
// module_machine() reads and the package copies.
std::string fake_module(uint16_t machine) {
    Elf64_Ehdr header{};
    std::memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_type = ET_REL;
    header.e_machine = machine;
    return std::string(reinterpret_cast<const char *>(&header), sizeof(header)) +
           std::string(3000, 'x');
}

std::vector<std::string> files_under(const fs::path &root) {
    std::vector<std::string> files;
    for (const auto &entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file())
            files.push_back(entry.path().lexically_relative(root).string());
    std::sort(files.begin(), files.end());
    return files;
}

fs::perms mode_of(const fs::path &path) {
    return fs::status(path).permissions() & fs::perms::mask;
}

} // namespace

TEST(PatchPackage, NamesFollowTheReleaseAndTheModule) {
    auto package = meminfo_package();
    EXPECT_EQ(package_name(package), "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo");
    EXPECT_EQ(release_slot_name(package.release), "kpatch-patch-6.1.0-57-cloud-amd64");
    EXPECT_EQ(kernel_image_package(package.release), "linux-image-6.1.0-57-cloud-amd64");
    EXPECT_EQ(deb_file_name(package),
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo_2_amd64.deb");
    EXPECT_EQ(module_install_path(package),
              "var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko");
}

TEST(PatchPackage, NamesAreLowerCaseWithoutUnderscores) {
    PatchPackage package{"6.1.192-Custom", "Fix_CVE_1", "1", "arm64", "A <a@example.org>"};
    EXPECT_EQ(package_name(package), "kpatch-patch-6.1.192-custom-fix-cve-1");
    // The module keeps its own name: kpatch finds it by that.
    EXPECT_EQ(module_install_path(package), "var/lib/kpatch/6.1.192-Custom/Fix_CVE_1.ko");
}

TEST(PatchPackage, ArchitectureFromTheElfMachine) {
    EXPECT_EQ(debian_architecture(EM_X86_64), "amd64");
    EXPECT_EQ(debian_architecture(EM_AARCH64), "arm64");
    EXPECT_THROW(debian_architecture(EM_386), kpp::Error);
}

TEST(PatchPackage, ModuleMachineReadsTheElfHeader) {
    test::TempTree tree;
    tree.write("arm.ko", fake_module(EM_AARCH64));
    tree.write("text.ko", std::string(100, 'a'));
    EXPECT_EQ(module_machine(tree / "arm.ko"), EM_AARCH64);
    try {
        module_machine(tree / "text.ko");
        FAIL() << "a text file read as a module";
    } catch (const kpp::Error &e) {
        EXPECT_NE(std::string(e.what()).find("text.ko is not a 64-bit little-endian ELF module"),
                  std::string::npos)
            << e.what();
    }
}

TEST(PatchPackage, MaintainerFromTheDchVariables) {
    setenv("DEBFULLNAME", "Patch Author", 1);
    setenv("DEBEMAIL", "author@example.org", 1);
    EXPECT_EQ(default_maintainer(), "Patch Author <author@example.org>");
    unsetenv("DEBFULLNAME");
    setenv("DEBEMAIL", "Other Author <other@example.org>", 1);
    EXPECT_EQ(default_maintainer(), "Other Author <other@example.org>");
    setenv("DEBEMAIL", "other@example.org", 1);
    EXPECT_TRUE(default_maintainer().ends_with(" <other@example.org>")) << default_maintainer();
    unsetenv("DEBEMAIL");
    EXPECT_NE(default_maintainer().find('@'), std::string::npos) << default_maintainer();
}

TEST(PatchPackage, VersionsDpkgAndRpmOrderAlike) {
    for (const char *good : {"1", "2.1", "1+fix2", "10.0.3"})
        EXPECT_NO_THROW(validate_package_version(good)) << good;
    for (const char *bad : {"", "a1", "1-2", "1:2", "1_2", "1 2"})
        EXPECT_THROW(validate_package_version(bad), kpp::Error) << bad;
}

TEST(DebPackage, ControlFile) {
    EXPECT_EQ(deb_control(meminfo_package(), 12),
              "Package: kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo\n"
              "Version: 2\n"
              "Architecture: amd64\n"
              "Maintainer: Patch Author <author@example.org>\n"
              "Installed-Size: 12\n"
              "Depends: linux-image-6.1.0-57-cloud-amd64, kpatchpp\n"
              "Provides: kpatch-patch-6.1.0-57-cloud-amd64\n"
              "Conflicts: kpatch-patch-6.1.0-57-cloud-amd64\n"
              "Replaces: kpatch-patch-6.1.0-57-cloud-amd64\n"
              "Section: kernel\n"
              "Priority: optional\n"
              "Description: live patch livepatch_meminfo for Linux 6.1.0-57-cloud-amd64\n"
              " The live patch module livepatch_meminfo.ko,\n"
              " built by kpatch-build (kpatch++) for Linux 6.1.0-57-cloud-amd64.\n"
              " It is installed in /var/lib/kpatch/6.1.0-57-cloud-amd64/,\n"
              " where kpatch.service loads it at boot when that kernel runs.\n"
              " To load it now: kpatch load livepatch_meminfo\n"
              " .\n"
              " Every patch package for this kernel provides, conflicts with and\n"
              " replaces kpatch-patch-6.1.0-57-cloud-amd64, so that a newer\n"
              " cumulative patch replaces this one.\n");
}

TEST(DebPackage, ChangelogEntryIsDatedInUtc) {
    EXPECT_EQ(deb_changelog(meminfo_package(), kNewYear2026),
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo (2) unstable; urgency=medium\n"
              "\n"
              "  * Live patch built by kpatch-build.\n"
              "    Module: livepatch_meminfo.ko\n"
              "    Kernel: Linux 6.1.0-57-cloud-amd64\n"
              "\n"
              " -- Patch Author <author@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n");
}

TEST(DebPackage, CopyrightNamesTheKernelLicense) {
    std::string text = deb_copyright(meminfo_package(), kNewYear2026);
    EXPECT_TRUE(text.starts_with(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"));
    EXPECT_TRUE(text.ends_with("\nFiles: *\n"
                               "Copyright: 1991-2026 Linus Torvalds, the Linux kernel authors "
                               "and the\n authors of the patch\n"
                               "License: GPL-2\n"
                               " On Debian systems, the complete text of the GNU General Public "
                               "License\n"
                               " version 2 can be found in /usr/share/common-licenses/GPL-2.\n"))
        << text;
}

TEST(DebPackage, StagedTreeLayoutModesAndSums) {
    test::TempTree tree;
    tree.write("livepatch_meminfo.ko", fake_module(EM_X86_64));
    const fs::path staging = tree / "stage";
    stage_deb_tree(meminfo_package(), tree / "livepatch_meminfo.ko", staging, kNewYear2026,
                   tree / "log");
    const std::string doc = "usr/share/doc/kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo/";
    EXPECT_EQ(files_under(staging),
              (std::vector<std::string>{
                  "DEBIAN/control", "DEBIAN/md5sums", doc + "changelog.gz", doc + "copyright",
                  "var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko"}));
    EXPECT_EQ(tree.read("stage/var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko"),
              fake_module(EM_X86_64));
    const auto file_mode = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                           fs::perms::others_read;
    const auto dir_mode =
        file_mode | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
    EXPECT_EQ(mode_of(staging / "var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko"),
              file_mode);
    EXPECT_EQ(mode_of(staging / "var/lib/kpatch/6.1.0-57-cloud-amd64"), dir_mode);
    EXPECT_EQ(mode_of(staging / "DEBIAN"), dir_mode);
    // 3064-byte module -> 3 KiB, plus 1 KiB each for the two small documents.
    EXPECT_NE(tree.read("stage/DEBIAN/control").find("\nInstalled-Size: 5\n"), std::string::npos);
    // Every payload file, hashed as dpkg --verify expects, DEBIAN/ not.
    std::string sums = tree.read("stage/DEBIAN/md5sums");
    std::string module_sum = capture_output(
        {"md5sum",
         (staging / "var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko").string()});
    EXPECT_NE(sums.find(module_sum.substr(0, 32) +
                        "  var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko\n"),
              std::string::npos)
        << sums;
    EXPECT_EQ(std::count(sums.begin(), sums.end(), '\n'), 3) << sums;
    EXPECT_EQ(sums.find("DEBIAN"), std::string::npos);
    EXPECT_EQ(capture_output({"gzip", "-dc", (staging / (doc + "changelog.gz")).string()}),
              deb_changelog(meminfo_package(), kNewYear2026));
}

TEST(DebPackage, StagingRefusesAnExistingDirectory) {
    test::TempTree tree;
    tree.write("m.ko", fake_module(EM_X86_64));
    tree.write("stage/old", "x");
    EXPECT_THROW(stage_deb_tree(meminfo_package(), tree / "m.ko", tree / "stage", kNewYear2026,
                                tree / "log"),
                 kpp::Error);
}

TEST(DebPackage, DpkgDebBuildsThePackage) {
    test::TempTree tree;
    tree.write("livepatch_meminfo.ko", fake_module(EM_X86_64));
    fs::create_directories(tree / "out");
    fs::path deb = build_deb(meminfo_package(), tree / "livepatch_meminfo.ko", tree / "out",
                             tree.root(), kNewYear2026, tree / "log");
    EXPECT_EQ(deb, tree / "out/kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo_2_amd64.deb");
    EXPECT_EQ(capture_output({"dpkg-deb", "--field", deb.string(), "Package", "Depends", "Provides",
                              "Conflicts", "Replaces"}),
              "Package: kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo\n"
              "Depends: linux-image-6.1.0-57-cloud-amd64, kpatchpp\n"
              "Provides: kpatch-patch-6.1.0-57-cloud-amd64\n"
              "Conflicts: kpatch-patch-6.1.0-57-cloud-amd64\n"
              "Replaces: kpatch-patch-6.1.0-57-cloud-amd64\n");
    std::string listing = capture_output({"dpkg-deb", "--contents", deb.string()});
    EXPECT_NE(listing.find("-rw-r--r-- root/root      3064 "), std::string::npos) << listing;
    EXPECT_NE(listing.find(" ./var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko\n"),
              std::string::npos)
        << listing;
}

TEST(PackageStage, ReleaseOfABuiltTree) {
    test::TempTree tree;
    tree.write("include/config/kernel.release", "6.1.192-kpp\n");
    KernelTree kernel;
    kernel.source_dir = tree.root();
    EXPECT_EQ(kernel_release(kernel), "6.1.192-kpp");
    kernel.stock = StockTree{};
    kernel.stock->release = "6.1.0-57-cloud-amd64";
    EXPECT_EQ(kernel_release(kernel), "6.1.0-57-cloud-amd64");
    kernel.stock.reset();
    kernel.source_dir = tree / "missing";
    EXPECT_THROW(kernel_release(kernel), kpp::Error);
}

TEST(PackageOptions, FormatAndVersion) {
    auto options = parse_command_line({"--package", "deb", "fix.patch"}).options;
    EXPECT_EQ(options.packages, std::vector<std::string>{"deb"});
    options = parse_command_line(
                  {"--package", "rpm", "--package", "deb", "--package", "rpm", "fix.patch"})
                  .options;
    EXPECT_EQ(options.packages, (std::vector<std::string>{"rpm", "deb"})) << "each format once";
    EXPECT_EQ(options.patches, std::vector<std::string>{"fix.patch"});
    EXPECT_EQ(options.package_version, "1");
    options =
        parse_command_line({"--package", "deb", "--package-version", "3.1", "fix.patch"}).options;
    EXPECT_EQ(options.package_version, "3.1");
    EXPECT_THROW(parse_command_line({"--package", "zip", "fix.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"--package-version", "2", "fix.patch"}), kpp::Error);
    EXPECT_THROW(parse_command_line({"--package", "deb", "--package-version", "2-1", "fix.patch"}),
                 kpp::Error);
}

TEST(PackageStage, MissingPackagingToolIsOneLine) {
    const char *path = std::getenv("PATH");
    const std::string saved = path ? path : "";
    setenv("PATH", "/nonexistent", 1);
    std::string error = test::error_of([] {
        require_package_tools(std::vector<std::string>{"deb", "rpm"});
    });
    std::string rpm_error = test::error_of([] { require_package_tools({"rpm"}); });
    setenv("PATH", saved.c_str(), 1);
    EXPECT_EQ(error, "--package deb needs dpkg-deb, which is not installed (package dpkg)");
    EXPECT_EQ(rpm_error, "--package rpm needs rpmbuild, which is not installed (Debian: apt "
                         "install rpm; Fedora/RHEL: dnf install rpm-build)");
    EXPECT_EQ(test::error_of([] {
                  require_package_tools({"deb", "rpm"});
              }),
              "")
        << "both are installed here (scripts/setup.sh)";
}

namespace {

PatchPackage meminfo_rpm_package() {
    PatchPackage package = meminfo_package();
    package.architecture = "x86_64";
    return package;
}

// The lines of `text` that are not rpmlib() features: those depend on the
// rpm version and the payload, ours do not.
std::string without_rpmlib(const std::string &text) {
    std::string kept, line;
    std::istringstream in(text);
    while (std::getline(in, line))
        if (!line.starts_with("rpmlib("))
            kept += line + "\n";
    return kept;
}

std::string rpm_query(const fs::path &rpm, const std::vector<std::string> &what) {
    std::vector<std::string> argv = {"rpm", "-qp"};
    argv.insert(argv.end(), what.begin(), what.end());
    argv.push_back(rpm.string());
    return capture_output(argv);
}

std::string read_bytes(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs argv; its exit status and output.
std::pair<int, std::string> run(const std::vector<std::string> &argv) {
    std::string output;
    int status = run_capturing(argv, output);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

} // namespace

TEST(RpmPackage, KernelRequirement) {
    // RHEL's and kbuild's releases are RPM versions: either provider fits.
    EXPECT_EQ(rpm_kernel_requirement("5.14.0-70.13.1.el9_0.x86_64"),
              "(kernel-uname-r = 5.14.0-70.13.1.el9_0.x86_64 or "
              "kernel-5.14.0-70.13.1.el9_0.x86_64)");
    EXPECT_EQ(rpm_kernel_requirement("6.1.192"), "(kernel-uname-r = 6.1.192 or kernel-6.1.192)");
    // Debian's are not (two '-'): the package name carries it.
    EXPECT_EQ(rpm_kernel_requirement("6.1.0-57-cloud-amd64"), "kernel-6.1.0-57-cloud-amd64");
    EXPECT_EQ(rpm_kernel_requirement("1:2.3"), "kernel-1:2.3");
}

TEST(RpmPackage, SpecFile) {
    EXPECT_EQ(rpm_file_name(meminfo_rpm_package()),
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo-2-1.x86_64.rpm");
    PatchPackage package = meminfo_rpm_package();
    package.maintainer = "Patch 100% Author <author@example.org>";
    EXPECT_EQ(
        rpm_spec(package, "/w/payload", kNewYear2026),
        "Name: kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo\n"
        "Version: 2\n"
        "Release: 1\n"
        "Summary: live patch livepatch_meminfo for Linux 6.1.0-57-cloud-amd64\n"
        "License: GPL-2.0-only\n"
        "Requires: kpatchpp\n"
        "Requires: kernel-6.1.0-57-cloud-amd64\n"
        "Provides: kpatch-patch-6.1.0-57-cloud-amd64 = 2-1\n"
        "Conflicts: kpatch-patch-6.1.0-57-cloud-amd64\n"
        "\n"
        "%description\n"
        "The live patch module livepatch_meminfo.ko, built by kpatch-build (kpatch++) for\n"
        "Linux 6.1.0-57-cloud-amd64. It is installed in /var/lib/kpatch/6.1.0-57-cloud-amd64/,\n"
        "where kpatch.service loads it at boot when that kernel runs.\n"
        "To load it now: kpatch load livepatch_meminfo\n"
        "\n"
        "Every patch package for this kernel provides and conflicts with\n"
        "kpatch-patch-6.1.0-57-cloud-amd64: one patch per kernel at a time.\n"
        "\n"
        "%install\n"
        "cp -a '/w/payload/.' %{buildroot}/\n"
        "\n"
        "%files\n"
        "%defattr(-,root,root,-)\n"
        "%dir /var/lib/kpatch/6.1.0-57-cloud-amd64\n"
        "/var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko\n"
        "\n"
        "%changelog\n"
        "* Thu Jan 01 2026 Patch 100%% Author <author@example.org> - 2-1\n"
        "- Live patch built by kpatch-build: livepatch_meminfo.ko for Linux "
        "6.1.0-57-cloud-amd64.\n");
}

TEST(RpmPackage, RpmbuildBuildsThePackage) {
    test::TempTree tree;
    tree.write("livepatch_meminfo.ko", fake_module(EM_X86_64));
    fs::create_directories(tree / "out");
    fs::path rpm = build_rpm(meminfo_rpm_package(), tree / "livepatch_meminfo.ko", tree / "out",
                             tree.root(), kNewYear2026, tree / "log");
    EXPECT_EQ(rpm, tree / "out/kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo-2-1.x86_64.rpm");
    EXPECT_EQ(rpm_query(rpm, {"--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n"}),
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo 2 1 x86_64\n");
    EXPECT_EQ(rpm_query(rpm, {"-l"}),
              "/var/lib/kpatch/6.1.0-57-cloud-amd64\n"
              "/var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko\n");
    EXPECT_EQ(rpm_query(rpm, {"--qf", "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} "
                                      "%{FILESIZES} %{FILENAMES}\n]"}),
              "drwxr-xr-x root:root 0 /var/lib/kpatch/6.1.0-57-cloud-amd64\n"
              "-rw-r--r-- root:root 3064 "
              "/var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko\n");
    EXPECT_EQ(without_rpmlib(rpm_query(rpm, {"--requires"})), "kernel-6.1.0-57-cloud-amd64\n"
                                                              "kpatchpp\n");
    EXPECT_EQ(rpm_query(rpm, {"--provides"}),
              "kpatch-patch-6.1.0-57-cloud-amd64 = 2-1\n"
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo = 2-1\n"
              "kpatch-patch-6.1.0-57-cloud-amd64-livepatch-meminfo(x86-64) = 2-1\n");
    EXPECT_EQ(rpm_query(rpm, {"--conflicts"}), "kpatch-patch-6.1.0-57-cloud-amd64\n");
    // The module goes in byte for byte (no strip: a signature would break).
    fs::create_directories(tree / "extract");
    EXPECT_EQ(capture_output({"sh", "-c",
                              "cd '" + (tree / "extract").string() + "' && rpm2cpio '" +
                                  rpm.string() + "' | cpio -id --quiet && echo done"}),
              "done\n");
    EXPECT_EQ(tree.read("extract/var/lib/kpatch/6.1.0-57-cloud-amd64/livepatch_meminfo.ko"),
              fake_module(EM_X86_64));
}

// As the .deb test does in its debootstrap root: the patch installs into a
// root where its exact kernel is, `kpatch list` shows it for its release, a
// newer version upgrades it, and another patch for the release conflicts.
TEST(RpmPackage, InstallsIntoAScratchRootWithItsKernel) {
    test::TempTree tree;
    // A release RPM can compare (kbuild's, RHEL's): the rich dependency.
    const std::string release = "6.1.192-kpp";
    tree.write("livepatch_meminfo.ko", fake_module(EM_X86_64));
    fs::create_directories(tree / "out");
    PatchPackage package = meminfo_rpm_package();
    package.release = release;
    const fs::path rpm = build_rpm(package, tree / "livepatch_meminfo.ko", tree / "out",
                                   tree / "v2", kNewYear2026, tree / "log");
    package.version = "3";
    const fs::path newer = build_rpm(package, tree / "livepatch_meminfo.ko", tree / "out",
                                     tree / "v3", kNewYear2026, tree / "log");
    package.module_name = "livepatch_other";
    const fs::path other = build_rpm(package, tree / "livepatch_meminfo.ko", tree / "out",
                                     tree / "other", kNewYear2026, tree / "log");
    // Stand-ins for the kernel package (as RHEL's kernel-core provides
    // kernel-uname-r) and for kpatchpp.
    tree.write("stub/stub.spec", "Name: kernel-core\nVersion: 6.1\nRelease: 1\n"
                                 "Summary: stand-in\nLicense: GPL-2.0-only\nBuildArch: noarch\n"
                                 "Provides: kernel-uname-r = " +
                                     release +
                                     "\nProvides: kpatchpp\n%description\nstand-in\n"
                                     "%files\n");
    capture_output({"rpmbuild", "-bb", "--define", "_topdir " + (tree / "stub").string(),
                    "--define", "_rpmdir " + (tree / "stub").string(), "--define",
                    "_build_name_fmt stub.rpm", (tree / "stub/stub.spec").string()});
    const std::string root = (tree / "root").string();
    fs::create_directories(root);
    auto rpm_in_root = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"rpm", "--root", root});
        return run(args);
    };
    const std::string name = "kpatch-patch-6.1.192-kpp-livepatch-meminfo";

    auto [status, output] = rpm_in_root({"-i", rpm.string()});
    EXPECT_EQ(status, 1) << output;
    EXPECT_NE(output.find("(kernel-uname-r = 6.1.192-kpp or kernel-6.1.192-kpp) is needed by "
                          "kpatch-patch-6.1.192-kpp-livepatch-meminfo-2-1"),
              std::string::npos)
        << output;
    ASSERT_EQ(rpm_in_root({"-i", (tree / "stub/stub.rpm").string()}).first, 0);
    std::tie(status, output) = rpm_in_root({"-i", rpm.string()});
    ASSERT_EQ(status, 0) << output;
    const fs::path module = fs::path(root) / "var/lib/kpatch" / release / "livepatch_meminfo.ko";
    EXPECT_EQ(read_bytes(module), fake_module(EM_X86_64));
    EXPECT_EQ(mode_of(module), fs::perms(0644));
    const std::string list =
        capture_output({"env", "KPATCH_PREFIX=" + root, KPP_KPATCH_BIN, "list"});
    EXPECT_NE(list.find("\nInstalled patch modules:\n  " + release + ":\n    livepatch_meminfo (" +
                        module.string() + ")\n"),
              std::string::npos)
        << list;

    std::tie(status, output) = rpm_in_root({"-i", other.string()});
    EXPECT_EQ(status, 1) << output;
    EXPECT_NE(output.find("kpatch-patch-6.1.192-kpp conflicts with (installed) "
                          "kpatch-patch-6.1.192-kpp-livepatch-meminfo-2-1"),
              std::string::npos)
        << output;
    std::tie(status, output) = rpm_in_root({"-U", newer.string()});
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(rpm_in_root({"-q", "--qf", "%{VERSION}\n", name}).second, "3\n") << "2 is gone";
    std::tie(status, output) = rpm_in_root({"-e", name});
    EXPECT_EQ(status, 0) << output;
    EXPECT_FALSE(fs::exists(fs::path(root) / "var/lib/kpatch" / release))
        << "the package owns its release directory";
}
