// Which changed files of a distribution update kpatch-build rebuilds, and
// the account of the ones it settles without a build.
//
// Decided by what a file is to kbuild, never by its name: a C or assembly
// source (.c, .S) is rebuilt when this configuration compiles it (the
// compile-unit index of the release) or another file includes it; a header
// (.h) always goes into the rebuild (its users are found by the release's
// header scan, and the sources changed with it may need it to compile);
// kbuild's own files (Makefile*, Kbuild*, Kconfig*) are build rules; any
// other file is not compiled by itself.
#pragma once

#include "kpatch-build/update/update_report.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build::update {

enum class FileRole { Source, Header, BuildRule, Other };

FileRole role_of(const std::string &path);

// What the release's build says about a source file.
struct SourceFacts {
    // Whether the release compiled this object (CompileUnitIndex::contains).
    std::function<bool(const std::string &object)> compiled;
    // For a source the update creates: whether the newer tree's kbuild rule
    // for it is enabled in this configuration (a new compile unit).
    std::function<bool(const std::string &source)> compiled_in_newer;
    // For a source whose object is not compiled: the line saying that this
    // configuration does not compile it, or nullopt when a file includes it
    // (uncompiled_source_reason()). `in_newer`: ask the newer tree (a file
    // the update creates has its kbuild rule only there).
    std::function<std::optional<std::string>(const std::string &source, bool in_newer)>
        uncompiled_reason;
};

struct UpdatePlan {
    std::vector<TouchedFile> rebuild; // into the update's patch, in path order
    std::vector<FileAccount> settled; // accounted already (never Patched)
};

UpdatePlan plan_update(const std::vector<TouchedFile> &changed, const SourceFacts &facts);

} // namespace kpp::build::update
