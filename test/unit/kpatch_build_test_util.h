// Temporary directory trees and error capture for kpatch-build's unit tests.
#pragma once

#include "libkpp/error.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <unistd.h>

namespace kpp::build::test {

class TempTree {
  public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "kpb-test.XXXXXX").string();
        root_ = mkdtemp(pattern.data());
    }
    ~TempTree() { std::filesystem::remove_all(root_); }
    TempTree(const TempTree &) = delete;
    TempTree &operator=(const TempTree &) = delete;

    const std::filesystem::path &root() const { return root_; }
    std::filesystem::path operator/(const std::string &rel) const { return root_ / rel; }

    void write(const std::string &rel, const std::string &text) const {
        std::filesystem::create_directories((root_ / rel).parent_path());
        std::ofstream(root_ / rel, std::ios::binary | std::ios::trunc) << text;
    }
    std::string read(const std::string &rel) const {
        std::ifstream in(root_ / rel, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

  private:
    std::filesystem::path root_;
};

// The message of the kpp::Error fn throws, or "" when it throws none.
inline std::string error_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const kpp::Error &e) {
        return e.what();
    }
    return "";
}

} // namespace kpp::build::test
