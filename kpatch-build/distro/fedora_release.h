// Fedora and RHEL release strings: VERSION-RELEASE.ARCH, as rpm names the
// kernel package ("6.5.6-300.fc39.x86_64", "5.14.0-362.8.1.el9_3.x86_64").
#pragma once

#include <string>

namespace kpp::build::distro {

struct FedoraRelease {
    std::string version; // "6.5.6"
    std::string release; // "300.fc39"
    std::string arch;    // "x86_64"
    std::string evr() const { return version + "-" + release; }
};

// Throws kpp::Error for a release without a known architecture suffix.
FedoraRelease parse_fedora_release(const std::string &release);

} // namespace kpp::build::distro
