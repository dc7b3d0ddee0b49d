// The original objects of a prepared stock tree, kept between runs.
//
// A prepared release tree is pristine at the start of every run (each run
// restores it), so an original object built there is the same on every
// run with the same compiler and KCFLAGS. The first run that builds one
// keeps a copy beside the tree; later runs copy it instead of building it,
// and only the patched objects are compiled (the warm fast path). The
// release directory is replaced when the package version changes, and the
// cache with it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

class OriginalObjects {
  public:
    // Under RELEASE_DIR/originals/, one directory per compiler and KCFLAGS.
    OriginalObjects(const std::filesystem::path &prepared_tree, const std::string &compiler,
                    const std::string &kcflags);

    // Copies every object to DEST/object if all are kept; false (nothing
    // copied) otherwise.
    bool copy_all(const std::vector<std::string> &objects, const std::filesystem::path &dest) const;

    // Keeps ROOT/object for each object (written under a temporary name and
    // renamed, so a reader never sees half an object).
    void keep(const std::filesystem::path &root, const std::vector<std::string> &objects) const;

    const std::filesystem::path &dir() const { return dir_; }

  private:
    std::filesystem::path dir_;
};

} // namespace kpp::build
