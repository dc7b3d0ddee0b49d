// Telling a full disk from other failures. When a filesystem kpatch-build
// writes to runs out of space, the error that surfaces is whatever failed
// first — a copy reporting "Input/output error" (libstdc++'s copy_file over
// sendfile), gcc unable to write its temporary file, a truncated object —
// none of which says what to do. After any failure, the places it writes
// are checked, and a full one replaces the message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

// A place kpatch-build writes to, and how the user names it ("TMPDIR").
struct WritePlace {
    std::filesystem::path path;
    std::string role;
};

// Below this many free bytes a filesystem counts as full: a failed write
// usually leaves a little room behind (partial files removed again).
constexpr uint64_t kFullBelowBytes = 4u << 20;

// Free bytes for an unprivileged writer on the filesystem holding `path`
// (nullopt if it cannot be asked).
std::optional<uint64_t> free_bytes(const std::filesystem::path &path);

// "1.5 GiB", "133.0 MiB", "12 KiB": sizes in messages and listings.
std::string human_size(uint64_t bytes);

// The one-line explanation for the first place whose filesystem is full,
// or nullopt if none is.
std::optional<std::string> describe_full_place(const std::vector<WritePlace> &places);

} // namespace kpp::build
