// A cheap fingerprint of a whole tree (path, size, mtime of every file), to
// prove after a build that nothing outside the protected files changed — for
// example that kbuild did not decide to reconfigure or rebuild its tools.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kpp::build {

class TreeSnapshot {
  public:
    static TreeSnapshot take(const std::filesystem::path &root);
    // "changed: x" / "new: y" lines, then "removed: z" lines, each sorted by path.
    std::vector<std::string> differences_from(const TreeSnapshot &before) const;
    size_t size() const { return files_.size(); }

  private:
    struct FileState {
        uint64_t size = 0;
        int64_t mtime_ns = 0;
        bool operator==(const FileState &) const = default;
    };
    std::map<std::string, FileState> files_;
};

} // namespace kpp::build
