#include "kpatch-build/distro/distro.h"
#include "kpatch-build/util/command.h"

#include "libkpp/error.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/utsname.h>

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

std::string unquote(std::string value) {
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
        return value.substr(1, value.size() - 2);
    return value;
}

class Dpkg : public PackageDatabase {
  public:
    std::optional<std::string> installed_version(const std::string &package) const override {
        std::string output;
        if (run_capturing({"dpkg-query", "-W", "-f=${Status}\t${Version}", package}, output) != 0)
            return std::nullopt;
        size_t tab = output.find('\t');
        if (tab == std::string::npos ||
            output.substr(0, tab).find("ok installed") == std::string::npos)
            return std::nullopt;
        return output.substr(tab + 1);
    }
};

class Rpm : public PackageDatabase {
  public:
    std::optional<std::string> installed_version(const std::string &package) const override {
        std::string output;
        if (run_capturing({"rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", package}, output) != 0)
            return std::nullopt;
        return output;
    }
};

bool is_like(const OsRelease &os, std::initializer_list<std::string_view> names) {
    for (auto name : names)
        if (os.id == name ||
            std::find(os.id_like.begin(), os.id_like.end(), name) != os.id_like.end())
            return true;
    return false;
}

} // namespace

std::unique_ptr<PackageDatabase> dpkg_database() {
    return std::make_unique<Dpkg>();
}
std::unique_ptr<PackageDatabase> rpm_database() {
    return std::make_unique<Rpm>();
}

OsRelease parse_os_release(std::string_view text) {
    OsRelease os;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        size_t eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos)
            continue;
        std::string key = line.substr(0, eq), value = unquote(line.substr(eq + 1));
        if (key == "ID")
            os.id = value;
        else if (key == "PRETTY_NAME")
            os.pretty_name = value;
        else if (key == "ID_LIKE") {
            std::istringstream words(value);
            for (std::string word; words >> word;)
                os.id_like.push_back(word);
        }
    }
    return os;
}

std::unique_ptr<Distro> detect(const fs::path &root,
                               std::shared_ptr<const PackageDatabase> packages,
                               std::shared_ptr<const PackageCache> cache) {
    fs::path file = root / "etc/os-release";
    if (!fs::exists(file))
        file = root / "usr/lib/os-release";
    std::ifstream in(file);
    if (!in)
        throw Error("cannot read {}: without it kpatch-build cannot tell the distribution; use -s "
                    "with a built kernel tree",
                    file.string());
    std::stringstream text;
    text << in.rdbuf();
    OsRelease os = parse_os_release(text.str());
    // Ubuntu says ID_LIKE=debian but has its own rules: ask for it first.
    if (os.id == "ubuntu")
        return ubuntu(root, packages ? packages : dpkg_database());
    if (os.id == "debian")
        return debian(root, packages ? packages : dpkg_database(), std::move(cache));
    if (is_like(os, {"fedora", "rhel", "centos"}))
        return fedora(root, packages ? packages : rpm_database());
    throw Error("kpatch-build without -s knows Debian, Ubuntu and Fedora/RHEL, not '{}' ({}); "
                "use -s with a built kernel tree",
                os.pretty_name.empty() ? os.id : os.pretty_name, file.string());
}

fs::path Distro::source_of_version(const std::string &, const std::string &version,
                                   std::vector<std::shared_ptr<CacheUse>> &) const {
    throw Error("kpatch-build --update-to {}: taking another source version of a {} kernel is "
                "implemented for Debian only",
                version, name());
}

std::string running_release() {
    struct utsname name {};
    if (uname(&name) != 0)
        throw Error("uname failed; pass the kernel release with -a");
    return name.release;
}

} // namespace kpp::build::distro
