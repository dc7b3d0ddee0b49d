#include "kpatch-build/update/source_diff.h"

#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

#include <sys/wait.h>

namespace kpp::build::update {
namespace fs = std::filesystem;

namespace {

// What a tree entry is, enough to tell whether it changed.
struct Entry {
    fs::path file;
    bool symlink = false;
};

std::map<std::string, Entry> entries_of(const fs::path &root) {
    std::map<std::string, Entry> entries;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        const bool symlink = it->is_symlink();
        if (!symlink && !it->is_regular_file())
            continue;
        entries[it->path().lexically_relative(root).generic_string()] = {it->path(), symlink};
    }
    return entries;
}

bool same_contents(const fs::path &a, const fs::path &b) {
    if (fs::file_size(a) != fs::file_size(b))
        return false;
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    return std::equal(std::istreambuf_iterator<char>(fa), std::istreambuf_iterator<char>(),
                      std::istreambuf_iterator<char>(fb));
}

bool same_entry(const Entry &a, const Entry &b) {
    if (a.symlink || b.symlink)
        return a.symlink == b.symlink && fs::read_symlink(a.file) == fs::read_symlink(b.file);
    return same_contents(a.file, b.file);
}

} // namespace

std::vector<TouchedFile> changed_files(const fs::path &older, const fs::path &newer) {
    for (const auto &root : {older, newer})
        if (!fs::is_directory(root))
            throw Error("{} is not a directory", root.string());
    auto old_entries = entries_of(older), new_entries = entries_of(newer);
    std::vector<TouchedFile> changed;
    for (const auto &[path, entry] : old_entries) {
        auto twin = new_entries.find(path);
        if (twin == new_entries.end())
            changed.push_back({path, FileChange::Deleted});
        else if (!same_entry(entry, twin->second))
            changed.push_back({path, FileChange::Modified});
    }
    for (const auto &[path, entry] : new_entries)
        if (!old_entries.contains(path))
            changed.push_back({path, FileChange::Created});
    std::sort(changed.begin(), changed.end(),
              [](const TouchedFile &a, const TouchedFile &b) { return a.path < b.path; });
    return changed;
}

std::string unified_diff(const fs::path &older, const fs::path &newer,
                         const std::vector<TouchedFile> &files) {
    std::string patch;
    for (const auto &file : files) {
        const bool created = file.change == FileChange::Created;
        const bool deleted = file.change == FileChange::Deleted;
        // diff -N reads a missing side as empty; the labels say which is missing.
        std::vector<std::string> argv = {"diff",
                                         "-u",
                                         "-N",
                                         "--label",
                                         created ? "/dev/null" : "a/" + file.path,
                                         "--label",
                                         deleted ? "/dev/null" : "b/" + file.path,
                                         (older / file.path).string(),
                                         (newer / file.path).string()};
        std::string output;
        int status = run_capturing(argv, output);
        // diff: 0 same, 1 different, 2 trouble.
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || output.starts_with("Binary files"))
            throw Error("{}: diff cannot compare its two versions: {}", file.path,
                        last_lines(output, 2));
        patch += output;
    }
    return patch;
}

} // namespace kpp::build::update
