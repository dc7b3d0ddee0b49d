// Ubuntu's release strings: UPSTREAM-ABI-FLAVOUR ("5.15.0-91-generic"),
// whose packages are versioned UPSTREAM-ABI.UPLOAD ("5.15.0-91.101").
#pragma once

#include <string>
#include <string_view>

namespace kpp::build::distro {

struct UbuntuRelease {
    std::string upstream; // "5.15.0"
    std::string abi;      // "91"
    std::string flavour;  // "generic"
};

// Throws kpp::Error for a release that does not follow the pattern.
UbuntuRelease parse_ubuntu_release(const std::string &release);

// Whether a package version belongs to this release's ABI.
bool ubuntu_version_has_abi(const UbuntuRelease &release, std::string_view package_version);

} // namespace kpp::build::distro
