// A package database for kpatch-build's distro tests: the installed packages
// and their versions are whatever the test puts in `installed`.
#pragma once

#include "kpatch-build/distro/distro.h"

#include <map>
#include <optional>
#include <string>

namespace kpp::build::test {

class FakePackages : public distro::PackageDatabase {
  public:
    std::map<std::string, std::string> installed;
    std::optional<std::string> installed_version(const std::string &package) const override {
        auto it = installed.find(package);
        return it == installed.end() ? std::nullopt : std::optional(it->second);
    }
};

} // namespace kpp::build::test
