// Whole-file text I/O for kpatch-build's small files (stamps, headers,
// kbuild lists).
#pragma once

#include <filesystem>
#include <string>

namespace kpp::build {

// The file's contents; throws kpp::Error naming it when it cannot be read.
std::string read_text_file(const std::filesystem::path &path);

// The file's contents, or "" when it cannot be read: for callers whose next
// check says what is wrong (a missing stamp is a stale cache).
std::string read_text_file_or_empty(const std::filesystem::path &path);

// Writes under a temporary name and renames, so a reader (a compiler, the
// next kpatch-build) never sees half a file. Throws kpp::Error on failure.
void write_text_file_atomically(const std::filesystem::path &path, const std::string &text);

} // namespace kpp::build
