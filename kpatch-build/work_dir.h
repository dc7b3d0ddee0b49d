// kpatch-build's scratch directory: originals, patched objects, diff outputs,
// the module build, the backups of the tree's files and the log.
#pragma once

#include <filesystem>

namespace kpp::build {

class WorkDir {
  public:
    // Creates a fresh directory under $TMPDIR (default /tmp).
    WorkDir();
    ~WorkDir();
    WorkDir(const WorkDir &) = delete;
    WorkDir &operator=(const WorkDir &) = delete;

    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path log() const { return path_ / "build.log"; }
    std::filesystem::path operator/(const std::filesystem::path &sub) const { return path_ / sub; }

    // Keep the directory when this object goes (debug, failure, interrupt).
    void keep() { keep_ = true; }
    bool kept() const { return keep_; }

  private:
    std::filesystem::path path_;
    bool keep_ = false;
};

} // namespace kpp::build
