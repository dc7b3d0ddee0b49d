#include "kpatch-build/packaging/patch_package.h"

#include "libkpp/error.h"

#include <elf.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace kpp::build::packaging {
namespace fs = std::filesystem;

namespace {

std::string env_or_empty(const char *name) {
    const char *value = std::getenv(name);
    return value ? value : "";
}

} // namespace

void validate_package_version(const std::string &version) {
    if (version.empty() || !std::isdigit(static_cast<unsigned char>(version.front())))
        throw Error("--package-version '{}' must start with a digit (e.g. 1 or 2.1)", version);
    // dpkg and rpm both allow these and sort them alike; '-' would split the
    // version into upstream and revision, ':' start an epoch.
    auto allowed = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+';
    };
    if (!std::all_of(version.begin(), version.end(), allowed))
        throw Error("--package-version '{}' may hold only letters, digits, '.' and '+'", version);
}

std::string release_slot_name(const std::string &release) {
    std::string name = "kpatch-patch-" + release;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return c == '_' ? '-' : std::tolower(c); });
    return name;
}

std::string package_name(const PatchPackage &package) {
    return release_slot_name(package.release + "-" + package.module_name);
}

std::string kernel_image_package(const std::string &release) {
    return "linux-image-" + release;
}

fs::path module_install_path(const PatchPackage &package) {
    return fs::path("var/lib/kpatch") / package.release / (package.module_name + ".ko");
}

namespace {

[[noreturn]] void no_architecture(uint16_t elf_machine) {
    throw Error("no package architecture for ELF machine {}: patch packages are made for "
                "x86_64 and aarch64 modules",
                elf_machine);
}

} // namespace

std::string debian_architecture(uint16_t elf_machine) {
    switch (elf_machine) {
    case EM_X86_64:
        return "amd64";
    case EM_AARCH64:
        return "arm64";
    default:
        no_architecture(elf_machine);
    }
}

std::string rpm_architecture(uint16_t elf_machine) {
    switch (elf_machine) {
    case EM_X86_64:
        return "x86_64";
    case EM_AARCH64:
        return "aarch64";
    default:
        no_architecture(elf_machine);
    }
}

uint16_t module_machine(const fs::path &module) {
    Elf64_Ehdr header{};
    std::ifstream in(module, std::ios::binary);
    if (!in.read(reinterpret_cast<char *>(&header), sizeof(header)) ||
        std::string_view(reinterpret_cast<const char *>(header.e_ident), SELFMAG) != ELFMAG ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB)
        throw Error("{} is not a 64-bit little-endian ELF module: cannot package it",
                    module.string());
    return header.e_machine;
}

std::string default_maintainer() {
    std::string name = env_or_empty("DEBFULLNAME"), address = env_or_empty("DEBEMAIL");
    if (!name.empty() && !address.empty())
        return name + " <" + address + ">";
    if (address.find('<') != std::string::npos) // DEBEMAIL may hold "Name <address>"
        return address;
    const passwd *user = getpwuid(getuid());
    std::string login = user ? user->pw_name : "kpatch-build";
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        std::snprintf(host, sizeof(host), "localhost");
    if (address.empty())
        address = login + "@" + host;
    return (name.empty() ? login : name) + " <" + address + ">";
}

std::string package_summary(const PatchPackage &package) {
    return "live patch " + package.module_name + " for Linux " + package.release;
}

} // namespace kpp::build::packaging
