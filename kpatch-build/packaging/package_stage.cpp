#include "kpatch-build/packaging/package_stage.h"

#include "kpatch-build/packaging/deb_package.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

#include <cstdlib>
#include <ctime>

namespace kpp::build::packaging {
namespace fs = std::filesystem;

namespace {

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

std::vector<fs::path> write_patch_packages(const Options &options, const KernelTree &kernel,
                                           const fs::path &module, const fs::path &work,
                                           const fs::path &log) {
    std::vector<fs::path> packages;
    if (options.package.empty())
        return packages;
    PatchPackage package;
    package.release = kernel_release(kernel);
    package.module_name = options.name;
    package.version = options.package_version;
    package.architecture = debian_architecture(module_machine(module));
    package.maintainer = default_maintainer();
    packages.push_back(build_deb(package, module, module.parent_path(), work, package_date(), log));
    return packages;
}

} // namespace kpp::build::packaging
