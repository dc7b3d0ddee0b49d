// Which objects a patch changes, worked out from the built tree.
#pragma once

#include "kpatch-build/kbuild_cmd.h"
#include "kpatch-build/patch_files.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kpp::build {

struct ObjectSelection {
    std::vector<std::string> objects; // relative to the tree, sorted, unique
    // A touched file no object could be traced to: every object is a
    // candidate (whole-tree fallback) and unchanged ones are dropped later.
    bool whole_tree = false;
    std::vector<std::string> explanations; // one line per touched file, for the log
};

// For a touched .c/.S file with its own .cmd file, that object; otherwise the
// objects whose kbuild dependency list names the file (headers, included .c
// files). The index is built lazily — scanning every .cmd file is the slow
// part — through `load_index`.
ObjectSelection select_objects(const std::vector<TouchedFile> &touched,
                               const std::filesystem::path &root,
                               const std::function<const KbuildIndex &()> &load_index);

} // namespace kpp::build
