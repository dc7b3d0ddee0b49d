// The real source difference between two kernel source trees (two versions
// of a distribution's linux-source package, extracted).
//
// A distribution update is given as two source versions, not as a patch:
// the files that differ are found by comparing the trees, and the ones
// kpatch-build will rebuild are written out as one unified diff that the
// ordinary pipeline applies to the running release's prepared tree.
#pragma once

#include "kpatch-build/tree/patch_files.h"

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build::update {

// Every regular file (or symlink) that differs between the trees, relative
// to them, sorted: Modified (content or link target), Created (only in
// `newer`) or Deleted (only in `older`).
std::vector<TouchedFile> changed_files(const std::filesystem::path &older,
                                       const std::filesystem::path &newer);

// The unified diff of `files` between the trees ("a/PATH", "b/PATH";
// /dev/null for a created or deleted file's missing side), as `patch -p1`
// applies to `older`. Throws kpp::Error naming a file diff cannot compare.
std::string unified_diff(const std::filesystem::path &older, const std::filesystem::path &newer,
                         const std::vector<TouchedFile> &files);

} // namespace kpp::build::update
