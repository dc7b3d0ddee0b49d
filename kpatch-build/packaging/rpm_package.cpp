#include "kpatch-build/packaging/rpm_package.h"

#include "kpatch-build/packaging/package_stage.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <algorithm>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace kpp::build::packaging {
namespace fs = std::filesystem;

namespace {

constexpr const char *kRpmRelease = "1";

// rpm expands macros in every part of the spec: a '%' in a maintainer's
// name must stay a '%'.
std::string escape_macros(const std::string &text) {
    std::string escaped;
    for (char c : text) {
        escaped += c;
        if (c == '%')
            escaped += '%';
    }
    return escaped;
}

} // namespace

std::string rpm_kernel_requirement(const std::string &release) {
    // An RPM version is [EPOCH:]VERSION[-RELEASE]: one '-' at most, and a
    // ':' would read as an epoch.
    const bool valid_version = std::count(release.begin(), release.end(), '-') <= 1 &&
                               release.find(':') == std::string::npos;
    if (!valid_version)
        return "kernel-" + release;
    return fmt::format("(kernel-uname-r = {0} or kernel-{0})", release);
}

std::string rpm_file_name(const PatchPackage &package) {
    return fmt::format("{}-{}-{}.{}.rpm", package_name(package), package.version, kRpmRelease,
                       package.architecture);
}

std::string rpm_spec(const PatchPackage &package, const fs::path &staging, std::time_t date) {
    const std::string slot = release_slot_name(package.release);
    const fs::path installed = fs::path("/") / module_install_path(package);
    return fmt::format("Name: {name}\n"
                       "Version: {version}\n"
                       "Release: {rpm_release}\n"
                       "Summary: {summary}\n"
                       "License: GPL-2.0-only\n"
                       "Requires: kpatchpp\n"
                       "Requires: {kernel}\n"
                       "Provides: {slot} = {version}-{rpm_release}\n"
                       "Conflicts: {slot}\n"
                       "\n"
                       "%description\n"
                       "The live patch module {module}.ko, built by kpatch-build (kpatch++) for\n"
                       "Linux {release}. It is installed in {dir}/,\n"
                       "where kpatch.service loads it at boot when that kernel runs.\n"
                       "To load it now: kpatch load {module}\n"
                       "\n"
                       "Every patch package for this kernel provides and conflicts with\n"
                       "{slot}: one patch per kernel at a time.\n"
                       "\n"
                       "%install\n"
                       "cp -a '{staging}/.' %{{buildroot}}/\n"
                       "\n"
                       "%files\n"
                       "%defattr(-,root,root,-)\n"
                       "%dir {dir}\n"
                       "{installed}\n"
                       "\n"
                       "%changelog\n"
                       "* {date:%a %b %d %Y} {maintainer} - {version}-{rpm_release}\n"
                       "- Live patch built by kpatch-build: {module}.ko for Linux {release}.\n",
                       fmt::arg("name", package_name(package)),
                       fmt::arg("version", package.version), fmt::arg("rpm_release", kRpmRelease),
                       fmt::arg("summary", escape_macros(package_summary(package))),
                       fmt::arg("release", package.release), fmt::arg("slot", slot),
                       fmt::arg("kernel", rpm_kernel_requirement(package.release)),
                       fmt::arg("module", package.module_name),
                       fmt::arg("dir", installed.parent_path().string()),
                       fmt::arg("installed", installed.string()),
                       fmt::arg("staging", staging.string()), fmt::arg("date", fmt::gmtime(date)),
                       fmt::arg("maintainer", escape_macros(package.maintainer)));
}

fs::path build_rpm(const PatchPackage &package, const fs::path &module, const fs::path &output_dir,
                   const fs::path &work, std::time_t date, const fs::path &log) {
    const fs::path top = fs::absolute(work / ("rpm-" + package_name(package)));
    fs::remove_all(top);
    const fs::path staging = top / "payload";
    stage_module(package, module, staging);
    const fs::path spec = top / (package_name(package) + ".spec");
    write_package_file(spec, rpm_spec(package, staging, date));
    const fs::path rpm = fs::absolute(output_dir) / rpm_file_name(package);
    run_logged({"rpmbuild", "-bb", "--target", package.architecture,
                // Everything under the work directory, nothing from ~/rpmbuild.
                "--define", "_topdir " + (top / "rpmbuild").string(), "--define",
                "_tmppath " + (top / "tmp").string(), "--define",
                "_rpmdir " + rpm.parent_path().string(), "--define",
                "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
                // The module goes in as built: stripping would break its
                // signature; no debuginfo or build-id links for a .ko.
                "--define", "__os_install_post %{nil}", "--define", "debug_package %{nil}",
                "--define", "_build_id_links none",
                // gzip, which every rpm reads (zstd needs rpm 4.14).
                "--define", "_binary_payload w9.gzdio", spec.string()},
               log);
    if (!fs::is_regular_file(rpm))
        throw Error("rpmbuild did not write {} (see {})", rpm.string(), log.string());
    return rpm;
}

} // namespace kpp::build::packaging
