#include "kpatch-build/distro/cache_admin.h"

#include "kpatch-build/distro/cache_use.h"
#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/util/disk_space.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

std::vector<fs::path> sorted_entries(const fs::path &dir) {
    std::vector<fs::path> entries;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        entries.push_back(entry.path());
    std::sort(entries.begin(), entries.end());
    return entries;
}

// CACHE/releases: REL symlinks to their REL.<id> directories; a directory no
// link points to is left over from a preparation that did not finish (or
// one running now: callers that remove leftovers hold the releases lock).
void read_releases(const fs::path &releases, CacheContents &contents) {
    std::set<fs::path> published;
    for (const auto &link : sorted_entries(releases)) {
        if (!fs::is_symlink(link) || link.filename().string().ends_with(".publish"))
            continue;
        std::error_code ec;
        fs::path dir = fs::canonical(link, ec);
        if (ec)
            continue;
        auto stamp = lines_of(read_text_file_or_empty(dir / "release.txt"));
        CachedRelease release;
        release.release = link.filename().string();
        release.version = stamp.size() > 1 ? stamp[1] : "?";
        release.dir = dir;
        release.packages = lines_of(read_text_file_or_empty(dir / "packages.txt"));
        release.bytes = disk_usage(dir);
        contents.releases.push_back(release);
        published.insert(dir);
    }
    for (const auto &entry : sorted_entries(releases)) {
        bool leftover_link = fs::is_symlink(entry) && !fs::exists(entry);
        bool leftover_dir = !fs::is_symlink(entry) && fs::is_directory(entry) &&
                            !published.contains(fs::canonical(entry));
        if (leftover_link || leftover_dir || entry.filename().string().ends_with(".publish")) {
            contents.leftovers.push_back(entry);
            contents.leftover_bytes += leftover_dir ? disk_usage(entry) : 0;
        }
    }
}

// CACHE/packages: NAME_VERSION directories (complete) and .NAME_VERSION.<pid>
// ones (unfinished fetches).
void read_packages(const fs::path &packages, CacheContents &contents) {
    for (const auto &entry : sorted_entries(packages)) {
        if (!fs::is_directory(entry) || fs::is_symlink(entry))
            continue;
        std::string name = entry.filename().string();
        if (name.starts_with(".")) {
            contents.leftovers.push_back(entry);
            contents.leftover_bytes += disk_usage(entry);
            continue;
        }
        CachedPackage package{name, entry, {}, disk_usage(entry)};
        for (const auto &release : contents.releases)
            if (std::find(release.packages.begin(), release.packages.end(), name) !=
                release.packages.end())
                package.used_by.push_back(release.release);
        contents.packages.push_back(package);
    }
}

std::string column(const std::string &text, size_t width) {
    return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
}

// Removes `dir` if no run uses it; `what` names it in the returned line.
std::string remove_unless_in_use(const fs::path &dir, const std::string &what, uint64_t bytes,
                                 const std::optional<fs::path> &link = std::nullopt) {
    auto lock = CacheUse::try_exclusive(dir);
    if (!lock)
        return fmt::format("kept {}: a running kpatch-build uses it", what);
    if (link)
        fs::remove(*link); // unpublished first: nobody finds it half removed
    fs::remove_all(dir);
    return fmt::format("removed {} ({})", what, human_size(bytes));
}

} // namespace

uint64_t CacheContents::total_bytes() const {
    uint64_t total = leftover_bytes;
    for (const auto &r : releases)
        total += r.bytes;
    for (const auto &p : packages)
        total += p.bytes;
    return total;
}

uint64_t disk_usage(const fs::path &path) {
    auto blocks = [](const fs::path &p) -> uint64_t {
        struct stat st;
        return ::lstat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
    };
    uint64_t total = blocks(path);
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(path, ec)))
        return total;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
         it.increment(ec))
        total += blocks(it->path());
    return total;
}

CacheContents read_cache(const fs::path &cache_dir) {
    CacheContents contents;
    read_releases(cache_dir / "releases", contents);
    read_packages(cache_dir / "packages", contents);
    return contents;
}

std::vector<std::string> cache_listing(const fs::path &cache_dir) {
    CacheContents contents = read_cache(cache_dir);
    std::vector<std::string> lines{fmt::format("kpatch-build cache {}", cache_dir.string())};
    if (contents.releases.empty() && contents.packages.empty() && contents.leftovers.empty()) {
        lines.push_back("  (empty)");
        return lines;
    }
    if (!contents.releases.empty())
        lines.push_back("  " + column("release", 28) + column("version", 14) + "size");
    for (const auto &r : contents.releases)
        lines.push_back("  " + column(r.release, 28) + column(r.version, 14) + human_size(r.bytes));
    if (!contents.packages.empty())
        lines.push_back("  " + column("package", 52) + column("size", 12) + "used by");
    for (const auto &p : contents.packages)
        lines.push_back("  " + column(p.entry, 52) + column(human_size(p.bytes), 12) +
                        (p.used_by.empty() ? std::string("(no prepared release)")
                                           : fmt::format("{}", fmt::join(p.used_by, " "))));
    if (!contents.leftovers.empty())
        lines.push_back(fmt::format("  left over from interrupted runs: {} ({})",
                                    contents.leftovers.size(),
                                    human_size(contents.leftover_bytes)));
    lines.push_back(fmt::format("  total {}", human_size(contents.total_bytes())));
    return lines;
}

std::vector<std::string> prune_cache(const fs::path &cache_dir,
                                     const std::vector<std::string> &targets) {
    fs::path releases = cache_dir / "releases", packages = cache_dir / "packages";
    fs::create_directories(releases);
    fs::create_directories(packages);
    // No preparation (releases lock) or fetch (packages lock) runs meanwhile,
    // so every unpublished directory is a leftover.
    TreeLock releases_lock(releases);
    TreeLock packages_lock(packages);
    CacheContents contents = read_cache(cache_dir);
    bool all = std::find(targets.begin(), targets.end(), "all") != targets.end();
    std::set<std::string> named;
    for (const auto &target : targets) {
        if (target == "all" || target == "unused")
            continue;
        bool known = std::any_of(contents.releases.begin(), contents.releases.end(),
                                 [&](const CachedRelease &r) { return r.release == target; });
        if (!known)
            throw Error("{} is not in the cache {} (kpatch-build --cache-list shows what is)",
                        target, cache_dir.string());
        named.insert(target);
    }

    std::vector<std::string> lines;
    std::set<std::string> still_used;
    for (const auto &r : contents.releases) {
        bool removed = false;
        if (all || named.contains(r.release)) {
            lines.push_back(
                remove_unless_in_use(r.dir, fmt::format("release {} ({})", r.release, r.version),
                                     r.bytes, releases / r.release));
            removed = !fs::exists(r.dir);
        }
        if (!removed)
            still_used.insert(r.packages.begin(), r.packages.end());
    }
    // A package goes with the last release that used it; "unused" and "all"
    // also take the ones no release uses (a preparation that failed).
    bool unused = all || std::find(targets.begin(), targets.end(), "unused") != targets.end();
    for (const auto &p : contents.packages) {
        if (still_used.contains(p.entry))
            continue;
        bool freed_by_prune =
            std::any_of(p.used_by.begin(), p.used_by.end(),
                        [&](const std::string &r) { return !fs::exists(releases / r); });
        if (unused || freed_by_prune)
            lines.push_back(
                remove_unless_in_use(p.dir, fmt::format("package {}", p.entry), p.bytes));
    }
    // An unpublished release directory may still serve a run that started
    // before a newer build of its release was prepared: skipped while in use.
    size_t removed_leftovers = 0;
    for (const auto &leftover : contents.leftovers) {
        bool is_dir = fs::is_directory(fs::symlink_status(leftover));
        auto lock = is_dir ? CacheUse::try_exclusive(leftover) : nullptr;
        if (is_dir && !lock)
            continue;
        std::error_code ec;
        fs::remove_all(leftover, ec);
        removed_leftovers += !ec;
    }
    if (removed_leftovers)
        lines.push_back(fmt::format("removed {} left over from interrupted runs",
                                    removed_leftovers == 1
                                        ? std::string("1 directory")
                                        : fmt::format("{} directories", removed_leftovers)));
    if (lines.empty())
        lines.push_back("nothing to remove");
    return lines;
}

} // namespace kpp::build::distro
