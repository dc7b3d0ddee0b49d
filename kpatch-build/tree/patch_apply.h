// Checking and applying the patches with GNU patch.
#pragma once

#include "kpatch-build/tree/patch_files.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

// From `patch` output, the file and hunk that failed:
// "fs/proc/meminfo.c: hunk #2 FAILED at 120". Empty if nothing recognisable.
std::string describe_patch_failure(std::string_view patch_output);

// Checks that the patches apply, in order, to `root`, without touching it:
// the touched files are copied to `scratch` and each patch is dry-run there,
// then applied there so that the next one sees its changes. Throws kpp::Error
// naming the patch, the file and the hunk.
void check_patches_apply(const std::vector<std::filesystem::path> &patches,
                         const std::vector<TouchedFile> &touched, const std::filesystem::path &root,
                         const std::filesystem::path &scratch);

// Applies the patches to `root` (the files must be protected already). Never
// leaves .orig or .rej files behind.
void apply_patches(const std::vector<std::filesystem::path> &patches,
                   const std::filesystem::path &root, const std::filesystem::path &log);

} // namespace kpp::build
