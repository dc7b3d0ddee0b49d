#include "kpatch-build/packaging/package_stage.h"

#include "kpatch-build/packaging/deb_package.h"
#include "kpatch-build/packaging/rpm_package.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace kpp::build::packaging {
namespace fs = std::filesystem;

namespace {

constexpr fs::perms kFileMode =
    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
constexpr fs::perms kDirMode =
    kFileMode | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;

void set_mode(const fs::path &path, fs::perms mode) {
    fs::permissions(path, mode, fs::perm_options::replace);
}

// SOURCE_DATE_EPOCH (reproducible-builds.org) when set, so the same module
// makes the same package; otherwise now.
std::time_t package_date() {
    if (const char *epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
        char *end = nullptr;
        long long seconds = std::strtoll(epoch, &end, 10);
        if (*end == '\0' && seconds >= 0)
            return static_cast<std::time_t>(seconds);
        throw Error("SOURCE_DATE_EPOCH='{}' is not a number of seconds", epoch);
    }
    return std::time(nullptr);
}

bool on_path(const std::string &program) {
    const char *path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = std::min(dirs.find(':', start), dirs.size());
        fs::path dir = dirs.substr(start, end - start);
        if (::access((dir.empty() ? fs::path(".") : dir).append(program).c_str(), X_OK) == 0)
            return true;
        start = end + 1;
    }
    return false;
}

} // namespace

std::string kernel_release(const KernelTree &kernel) {
    if (kernel.stock)
        return kernel.stock->release;
    const fs::path file = kernel.source_dir / "include/config/kernel.release";
    std::string text = read_text_file(file);
    std::string release = text.substr(0, text.find('\n'));
    if (release.empty())
        throw Error("{} is empty: cannot name the patch package's kernel", file.string());
    return release;
}

void require_package_tools(const std::vector<std::string> &formats) {
    for (const auto &format : formats) {
        if (format == "deb" && !on_path("dpkg-deb"))
            throw Error("--package deb needs dpkg-deb, which is not installed (package dpkg)");
        if (format == "rpm" && !on_path("rpmbuild"))
            throw Error("--package rpm needs rpmbuild, which is not installed (Debian: apt "
                        "install rpm; Fedora/RHEL: dnf install rpm-build)");
    }
}

std::vector<fs::path> write_patch_packages(const Options &options, const KernelTree &kernel,
                                           const fs::path &module, const fs::path &work,
                                           const fs::path &log) {
    std::vector<fs::path> packages;
    if (options.packages.empty())
        return packages;
    PatchPackage package;
    package.release = kernel_release(kernel);
    package.module_name = options.name;
    package.version = options.package_version;
    package.maintainer = default_maintainer();
    const uint16_t machine = module_machine(module);
    const std::time_t date = package_date();
    for (const auto &format : options.packages) {
        if (format == "deb") {
            package.architecture = debian_architecture(machine);
            packages.push_back(build_deb(package, module, module.parent_path(), work, date, log));
        } else {
            package.architecture = rpm_architecture(machine);
            packages.push_back(build_rpm(package, module, module.parent_path(), work, date, log));
        }
    }
    return packages;
}

void make_package_dirs(const fs::path &staging, const fs::path &relative) {
    fs::path dir = staging;
    for (const auto &part : relative) {
        dir /= part;
        fs::create_directory(dir);
        set_mode(dir, kDirMode);
    }
}

void write_package_file(const fs::path &path, const std::string &text) {
    write_text_file_atomically(path, text);
    set_mode(path, kFileMode);
}

void stage_module(const PatchPackage &package, const fs::path &module, const fs::path &staging) {
    if (fs::exists(staging))
        throw Error("{} already exists: cannot stage the package there", staging.string());
    fs::create_directories(staging);
    set_mode(staging, kDirMode);
    const fs::path installed = module_install_path(package);
    make_package_dirs(staging, installed.parent_path());
    fs::copy_file(module, staging / installed);
    set_mode(staging / installed, kFileMode);
}

std::vector<fs::path> payload_files(const fs::path &staging, const fs::path &excluded) {
    std::vector<fs::path> files;
    for (const auto &entry : fs::recursive_directory_iterator(staging)) {
        fs::path relative = entry.path().lexically_relative(staging);
        if (entry.is_regular_file() && (excluded.empty() || *relative.begin() != excluded))
            files.push_back(relative);
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace kpp::build::packaging
