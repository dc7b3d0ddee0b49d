#include "kpatch-build/distro/rules.h"

#include "libkpp/error.h"

#include <regex>

namespace kpp::build::distro {
namespace fs = std::filesystem;

void require_file(const fs::path &path, std::string_view what, std::string_view package,
                  std::string_view why) {
    if (fs::is_regular_file(path))
        return;
    throw Error("{} not found: {} (install {}){}{}", what, path.string(), package,
                why.empty() ? "" : "; ", why);
}

InstalledPackage require_package(const PackageDatabase &packages,
                                 const std::vector<std::string> &candidates,
                                 std::string_view purpose) {
    for (const auto &name : candidates)
        if (auto version = packages.installed_version(name))
            return {name, *version};
    throw Error("{} is not installed; kpatch-build needs it for {}", candidates.front(), purpose);
}

void require_same_version(const PackageDatabase &packages, const std::string &package,
                          const InstalledPackage &reference, std::string_view purpose) {
    auto version = packages.installed_version(package);
    if (!version)
        throw Error("{} is not installed; kpatch-build needs version {} (that of {}) for {}",
                    package, reference.version, reference.name, purpose);
    if (*version != reference.version)
        throw Error("{} is version {} but {} is {}: {} must come from the same kernel build; "
                    "install {} version {}",
                    package, *version, reference.name, reference.version, purpose, package,
                    reference.version);
}

fs::path build_config(const fs::path &headers, const fs::path &installed_config) {
    fs::path from_headers = headers / ".config";
    return fs::is_regular_file(from_headers) ? from_headers : installed_config;
}

ReleaseParts split_release(const std::string &release) {
    static const std::regex pattern(R"(^((\d+)\.(\d+))\.(\d+)(.*)$)");
    std::smatch m;
    if (!std::regex_match(release, m, pattern))
        throw Error("'{}' is not a kernel release (X.Y.Z...), as uname -r prints it", release);
    return {m[1].str() + "." + m[4].str(), m[1].str(), m[5].str()};
}

} // namespace kpp::build::distro
