#include "kpatch-build/packaging/deb_package.h"

#include "kpatch-build/packaging/package_stage.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <vector>

namespace kpp::build::packaging {
namespace fs = std::filesystem;

namespace {

fs::path doc_dir(const PatchPackage &package) {
    return fs::path("usr/share/doc") / package_name(package);
}

uint64_t installed_size_kib(const fs::path &staging, const std::vector<fs::path> &files) {
    uint64_t kib = 0;
    for (const auto &file : files)
        kib += (fs::file_size(staging / file) + 1023) / 1024;
    return kib;
}

// DEBIAN/md5sums: "HASH  PATH" per file, as dpkg --verify reads it.
std::string md5sums(const fs::path &staging, const std::vector<fs::path> &files) {
    std::string text;
    for (const auto &file : files) {
        std::string line = capture_output({"md5sum", "--", (staging / file).string()});
        text += fmt::format("{}  {}\n", line.substr(0, line.find(' ')), file.string());
    }
    return text;
}

} // namespace

std::string deb_file_name(const PatchPackage &package) {
    return fmt::format("{}_{}_{}.deb", package_name(package), package.version,
                       package.architecture);
}

std::string deb_control(const PatchPackage &package, uint64_t installed_size_kib) {
    const std::string slot = release_slot_name(package.release);
    return fmt::format(
        "Package: {name}\n"
        "Version: {version}\n"
        "Architecture: {arch}\n"
        "Maintainer: {maintainer}\n"
        "Installed-Size: {size}\n"
        "Depends: {image}, kpatchpp\n"
        "Provides: {slot}\n"
        "Conflicts: {slot}\n"
        "Replaces: {slot}\n"
        "Section: kernel\n"
        "Priority: optional\n"
        "Description: {summary}\n"
        " The live patch module {module}.ko,\n"
        " built by kpatch-build (kpatch++) for Linux {release}.\n"
        " It is installed in /{dir}/,\n"
        " where kpatch.service loads it at boot when that kernel runs.\n"
        " To load it now: kpatch load {module}\n"
        " .\n"
        " Every patch package for this kernel provides, conflicts with and\n"
        " replaces {slot}, so that a newer\n"
        " cumulative patch replaces this one.\n",
        fmt::arg("name", package_name(package)), fmt::arg("version", package.version),
        fmt::arg("arch", package.architecture), fmt::arg("maintainer", package.maintainer),
        fmt::arg("size", installed_size_kib),
        fmt::arg("image", kernel_image_package(package.release)), fmt::arg("slot", slot),
        fmt::arg("summary", package_summary(package)), fmt::arg("module", package.module_name),
        fmt::arg("release", package.release),
        fmt::arg("dir", module_install_path(package).parent_path().string()));
}

std::string deb_changelog(const PatchPackage &package, std::time_t date) {
    // RFC 5322 date, in UTC so the text does not depend on the build host.
    return fmt::format("{} ({}) unstable; urgency=medium\n\n"
                       "  * Live patch built by kpatch-build.\n"
                       "    Module: {}.ko\n"
                       "    Kernel: Linux {}\n\n"
                       " -- {}  {:%a, %d %b %Y %H:%M:%S} +0000\n",
                       package_name(package), package.version, package.module_name, package.release,
                       package.maintainer, fmt::gmtime(date));
}

std::string deb_copyright(const PatchPackage &package, std::time_t date) {
    return fmt::format(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: {}\n"
        "Comment: A live patch module built by kpatch-build from the Linux kernel\n"
        " sources of release {} and a patch to them.\n"
        "\n"
        "Files: *\n"
        "Copyright: 1991-{:%Y} Linus Torvalds, the Linux kernel authors and the\n"
        " authors of the patch\n"
        "License: GPL-2\n"
        " On Debian systems, the complete text of the GNU General Public License\n"
        " version 2 can be found in /usr/share/common-licenses/GPL-2.\n",
        package_name(package), package.release, fmt::gmtime(date));
}

void stage_deb_tree(const PatchPackage &package, const fs::path &module, const fs::path &staging,
                    std::time_t date, const fs::path &log) {
    stage_module(package, module, staging);
    make_package_dirs(staging, doc_dir(package));
    write_package_file(staging / doc_dir(package) / "copyright", deb_copyright(package, date));
    const fs::path changelog = staging / doc_dir(package) / "changelog";
    write_package_file(changelog, deb_changelog(package, date));
    run_logged({"gzip", "-9n", changelog.string()}, log); // Debian policy 12.7

    make_package_dirs(staging, "DEBIAN");
    auto files = payload_files(staging, "DEBIAN");
    write_package_file(staging / "DEBIAN/control",
                       deb_control(package, installed_size_kib(staging, files)));
    write_package_file(staging / "DEBIAN/md5sums", md5sums(staging, files));
}

fs::path build_deb(const PatchPackage &package, const fs::path &module, const fs::path &output_dir,
                   const fs::path &work, std::time_t date, const fs::path &log) {
    const fs::path staging = work / ("deb-" + package_name(package));
    fs::remove_all(staging);
    stage_deb_tree(package, module, staging, date, log);
    const fs::path deb = output_dir / deb_file_name(package);
    run_logged({"dpkg-deb", "--root-owner-group", "--build", staging.string(), deb.string()}, log);
    return deb;
}

} // namespace kpp::build::packaging
