// Which objects a patch changes, worked out from the built tree.
#pragma once

#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/tree/patch_files.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

struct ObjectSelection {
    std::vector<std::string> objects; // relative to the tree, sorted, unique
    // A touched file no object could be traced to: every object is a
    // candidate (whole-tree fallback) and unchanged ones are dropped later.
    bool whole_tree = false;
    std::vector<std::string> explanations; // one line per touched file, for the log
    // Touched .c/.S files this configuration does not compile and nothing
    // includes, and files no compile unit reads (when the lookup knows every
    // unit: ObjectLookup::users_are_complete), each with the line that says
    // so (uncompiled_source.h).
    std::vector<std::string> uncompiled;
};

// What the kernel builds, asked by select_objects(). A built tree answers
// from its .cmd files; a distribution kernel from its debug info and a
// dependency scan (stock_kernel.h).
struct ObjectLookup {
    // Whether kbuild builds this object ("fs/proc/meminfo.o") for this config.
    std::function<bool(const std::string &object)> builds;
    // The objects that read a file (a header, an included .c); nullopt when
    // that cannot be decided. Only called for files that are not an object's
    // own source, since it may be slow.
    std::function<std::optional<std::vector<std::string>>(const std::string &path)> objects_using;
    // Optional: called once with every path objects_using() will be asked
    // about, so that a slow lookup can answer them in one batch.
    std::function<void(const std::vector<std::string> &paths)> prepare_objects_using;
    // Whether an empty objects_using() answer means that nothing this
    // configuration compiles reads the file (a distribution kernel's
    // preprocessed units), rather than that nothing built so far does (a
    // partly built tree).
    bool users_are_complete = false;
    std::function<std::vector<std::string>()> all_objects;
    // For a .c/.S file whose object is not built: the reason line when no
    // file includes it either (nothing compiled reads it), else nullopt.
    std::function<std::optional<std::string>(const std::string &source)> uncompiled;
};

// For a touched .c/.S file that kbuild builds, that object; for one it does
// not build and nothing includes, nothing (ObjectSelection::uncompiled);
// otherwise the objects reading the file. A file no object can be traced to (or one the
// lookup cannot decide about) makes every object a candidate.
ObjectSelection select_objects(const std::vector<TouchedFile> &touched, const ObjectLookup &lookup);

// The lookup of a built tree: an object is built if its .cmd file exists; the
// dependency index (every .cmd file scanned) is built on first need.
// `config_text`: the tree's .config, for the reason of an uncompiled file.
ObjectLookup built_tree_lookup(const std::filesystem::path &root, const std::string &config_text);

// select_objects() with a built tree's .cmd files, the index given by
// `load_index`.
ObjectSelection select_objects(const std::vector<TouchedFile> &touched,
                               const std::filesystem::path &root,
                               const std::function<const KbuildIndex &()> &load_index);

} // namespace kpp::build
