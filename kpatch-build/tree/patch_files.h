// Which source files a unified diff touches.
//
// kpatch-build needs this before anything is applied: to back the files up,
// to check the patches against a scratch copy, and to work out which objects
// must be rebuilt. Parsing follows the hunk line counts so that a removed line
// which itself starts with "-- " is not mistaken for a file header.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

enum class FileChange { Modified, Created, Deleted };

struct TouchedFile {
    std::string path; // relative to the tree, leading component stripped (-p1)
    FileChange change = FileChange::Modified;
};

// Parses the text of one patch. Throws kpp::Error when the text holds no file
// header at all or a hunk header is malformed.
std::vector<TouchedFile> parse_patch_text(std::string_view text, std::string_view patch_name);

// Reads and parses a patch file.
std::vector<TouchedFile> parse_patch_file(const std::filesystem::path &patch);

// The union over several patches, first occurrence first; a file created by
// one patch and modified by a later one stays "Created" (it was absent before).
std::vector<TouchedFile> merge_touched_files(const std::vector<std::vector<TouchedFile>> &lists);

} // namespace kpp::build
