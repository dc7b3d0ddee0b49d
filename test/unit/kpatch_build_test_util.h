// Temporary directory trees for kpatch-build's unit tests.
#pragma once

#include <filesystem>
#include <fstream>
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

} // namespace kpp::build::test
