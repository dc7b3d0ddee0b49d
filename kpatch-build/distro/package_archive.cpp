#include "kpatch-build/distro/package_archive.h"

#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

uint64_t number(std::string_view text) {
    uint64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

std::string last_line(std::string_view text) {
    std::string last;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            last = line;
    return last;
}

class Apt : public PackageArchive {
  public:
    std::vector<ArchivePackage> versions(const std::string &package) const override {
        std::string output;
        int status = run_capturing({"apt-cache", "show", package}, output);
        if (status == 0)
            return parse_apt_show(output);
        // apt-cache says "E: No packages found" (status 100) for a name it
        // does not know: the archive has no such package.
        if (output.find("No packages found") != std::string::npos ||
            output.find("Unable to locate") != std::string::npos)
            return {};
        throw Error("apt-cache show {} failed: {}", package, last_line(output));
    }

    fs::path download(const ArchivePackage &package, const fs::path &dir,
                      const fs::path &log) const override {
        std::string wanted = package.name + "=" + package.version;
        try {
            // apt-get download writes into the current directory.
            run_logged({"env", "-C", dir.string(), "apt-get", "-q", "download", wanted}, log);
        } catch (const CommandFailed &) {
            throw Error("apt-get download {} failed: {}", wanted, apt_error(log));
        }
        for (const auto &entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".deb" &&
                entry.path().filename().string().starts_with(package.name + "_"))
                return entry.path();
        throw Error("apt-get download {} left no {}_*.deb in {}", wanted, package.name,
                    dir.string());
    }

  private:
    // The "E: ..." line apt printed last, else its last line.
    static std::string apt_error(const fs::path &log) {
        std::ifstream in(log);
        std::string line, error, last;
        while (std::getline(in, line)) {
            if (line.starts_with("E: "))
                error = line.substr(3);
            if (!line.empty())
                last = line;
        }
        return error.empty() ? last : error;
    }
};

} // namespace

std::unique_ptr<PackageArchive> apt_archive() {
    return std::make_unique<Apt>();
}

std::vector<ArchivePackage> parse_apt_show(std::string_view text) {
    std::vector<ArchivePackage> packages;
    ArchivePackage current;
    auto finish = [&] {
        bool known = std::any_of(packages.begin(), packages.end(), [&](const ArchivePackage &p) {
            return p.name == current.name && p.version == current.version;
        });
        if (!current.name.empty() && !current.version.empty() && !known)
            packages.push_back(current);
        current = {};
    };
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) {
            finish();
            continue;
        }
        size_t colon = line.find(": ");
        if (line[0] == ' ' || colon == std::string::npos)
            continue;
        std::string_view key(line.data(), colon), value(line.data() + colon + 2);
        if (key == "Package")
            current.name = value;
        else if (key == "Version")
            current.version = value;
        else if (key == "Size")
            current.download_bytes = number(value);
        else if (key == "Installed-Size")
            current.unpacked_bytes = number(value) * 1024;
    }
    finish();
    return packages;
}

} // namespace kpp::build::distro
