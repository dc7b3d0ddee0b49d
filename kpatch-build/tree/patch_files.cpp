#include "kpatch-build/tree/patch_files.h"

#include "libkpp/error.h"

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace kpp::build {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// "a/fs/proc/meminfo.c\t2024-01-01 ..." -> "fs/proc/meminfo.c" (what -p1 uses).
// Returns nullopt for /dev/null, which marks a created or deleted file.
std::optional<std::string> header_path(std::string_view field) {
    size_t tab = field.find('\t');
    if (tab != std::string_view::npos)
        field = field.substr(0, tab);
    while (!field.empty() && field.back() == ' ')
        field.remove_suffix(1);
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
        field = field.substr(1, field.size() - 2);
    if (field == "/dev/null")
        return std::nullopt;
    size_t slash = field.find('/');
    if (slash == std::string_view::npos)
        return std::string(field); // nothing to strip; patch -p1 would fail later, loudly
    return std::string(field.substr(slash + 1));
}

// "@@ -12,7 +12,8 @@ ..." -> {7, 8}; a missing count means 1.
struct HunkSize {
    long old_lines = 0;
    long new_lines = 0;
};

long parse_range_count(std::string_view range) {
    size_t comma = range.find(',');
    if (comma == std::string_view::npos)
        return 1;
    long count = 0;
    std::string_view digits = range.substr(comma + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (ec != std::errc())
        return -1;
    return count;
}

std::optional<HunkSize> parse_hunk_header(std::string_view line) {
    // "@@ -A[,B] +C[,D] @@"
    if (line.substr(0, 4) != "@@ -")
        return std::nullopt;
    size_t old_end = line.find(' ', 4);
    if (old_end == std::string_view::npos || line.substr(old_end, 2) != " +")
        return std::nullopt;
    size_t new_end = line.find(' ', old_end + 2);
    if (new_end == std::string_view::npos)
        return std::nullopt;
    HunkSize size;
    size.old_lines = parse_range_count(line.substr(4, old_end - 4));
    size.new_lines = parse_range_count(line.substr(old_end + 2, new_end - old_end - 2));
    if (size.old_lines < 0 || size.new_lines < 0)
        return std::nullopt;
    return size;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

class PatchParser {
  public:
    explicit PatchParser(std::string_view patch_name) : patch_name_(patch_name) {}

    std::vector<TouchedFile> parse(std::string_view text) {
        auto lines = split_lines(text);
        for (size_t i = 0; i < lines.size(); ++i)
            i = parse_line(lines, i);
        if (files_.empty())
            throw Error("{}: not a patch: no '--- a/FILE' / '+++ b/FILE' header found",
                        patch_name_);
        return std::move(files_);
    }

  private:
    // Returns the index of the last line consumed.
    size_t parse_line(const std::vector<std::string_view> &lines, size_t i) {
        std::string_view line = lines[i];
        if (starts_with(line, "--- ") && i + 1 < lines.size() &&
            starts_with(lines[i + 1], "+++ ")) {
            add_from_headers(line.substr(4), lines[i + 1].substr(4));
            return i + 1;
        }
        // Pure renames and copies in git diffs carry no ---/+++ lines.
        if (starts_with(line, "rename from ") || starts_with(line, "copy from "))
            add(std::string(line.substr(line.find(" from ") + 6)), FileChange::Modified);
        else if (starts_with(line, "rename to ") || starts_with(line, "copy to "))
            add(std::string(line.substr(line.find(" to ") + 4)), FileChange::Created);
        else if (starts_with(line, "@@ "))
            return skip_hunk(lines, i);
        return i;
    }

    void add_from_headers(std::string_view old_field, std::string_view new_field) {
        auto old_path = header_path(old_field);
        auto new_path = header_path(new_field);
        if (!old_path && !new_path)
            throw Error("{}: file header with /dev/null on both sides", patch_name_);
        if (!old_path)
            add(*new_path, FileChange::Created);
        else if (!new_path)
            add(*old_path, FileChange::Deleted);
        else {
            add(*old_path, FileChange::Modified);
            if (*new_path != *old_path)
                add(*new_path, FileChange::Modified);
        }
    }

    size_t skip_hunk(const std::vector<std::string_view> &lines, size_t i) {
        auto size = parse_hunk_header(lines[i]);
        if (!size)
            throw Error("{}: line {}: malformed hunk header '{}'", patch_name_, i + 1, lines[i]);
        long old_left = size->old_lines, new_left = size->new_lines;
        while ((old_left > 0 || new_left > 0) && i + 1 < lines.size()) {
            std::string_view body = lines[++i];
            char kind = body.empty() ? ' ' : body.front();
            if (kind == ' ') {
                --old_left;
                --new_left;
            } else if (kind == '-') {
                --old_left;
            } else if (kind == '+') {
                --new_left;
            } else if (kind != '\\') {
                throw Error("{}: line {}: hunk ends early (expected {} more old and {} more new "
                            "lines)",
                            patch_name_, i + 1, old_left, new_left);
            }
        }
        return i;
    }

    void add(std::string path, FileChange change) {
        for (auto &file : files_)
            if (file.path == path)
                return;
        files_.push_back({std::move(path), change});
    }

    std::string patch_name_;
    std::vector<TouchedFile> files_;
};

} // namespace

std::vector<TouchedFile> parse_patch_text(std::string_view text, std::string_view patch_name) {
    return PatchParser(patch_name).parse(text);
}

std::vector<TouchedFile> parse_patch_file(const std::filesystem::path &patch) {
    std::ifstream in(patch, std::ios::binary);
    if (!in)
        throw Error("cannot read patch {}", patch.string());
    std::stringstream text;
    text << in.rdbuf();
    return parse_patch_text(text.str(), patch.string());
}

std::vector<TouchedFile> merge_touched_files(const std::vector<std::vector<TouchedFile>> &lists) {
    std::vector<TouchedFile> merged;
    std::unordered_map<std::string, size_t> index;
    for (const auto &list : lists) {
        for (const auto &file : list) {
            if (index.contains(file.path))
                continue;
            index.emplace(file.path, merged.size());
            merged.push_back(file);
        }
    }
    return merged;
}

} // namespace kpp::build
