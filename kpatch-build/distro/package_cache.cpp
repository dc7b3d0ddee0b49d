#include "kpatch-build/distro/package_cache.h"

#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/disk_space.h"
#include "kpatch-build/util/interrupt.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <unistd.h>

namespace kpp::build::distro {
namespace fs = std::filesystem;

namespace {

std::string versions_text(const std::vector<ArchivePackage> &versions) {
    std::vector<std::string> list;
    for (const auto &v : versions)
        list.push_back(v.version);
    return list.empty() ? "none" : fmt::format("{}", fmt::join(list, ", "));
}

// Removes a temporary directory and whatever is left in it on every exit.
class TemporaryDir {
  public:
    explicit TemporaryDir(fs::path path) : path_(std::move(path)) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TemporaryDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TemporaryDir(const TemporaryDir &) = delete;
    TemporaryDir &operator=(const TemporaryDir &) = delete;
    const fs::path &path() const { return path_; }

  private:
    fs::path path_;
};

// Leftovers of fetches that died: .NAME_VERSION.<pid> of a process that is
// gone (a live one is still fetching under the lock we hold, so none is).
void remove_leftovers(const fs::path &dir, const std::string &entry) {
    for (const auto &file : fs::directory_iterator(dir))
        if (file.path().filename().string().starts_with("." + entry + ".")) {
            log::info("removing the unfinished fetch {}", file.path().string());
            fs::remove_all(file.path());
        }
}

// The inverse of package_entry_name() for the version part.
std::string version_of_entry(std::string_view text) {
    std::string version;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 3) == "%3a") {
            version += ':';
            i += 2;
        } else {
            version += text[i];
        }
    }
    return version;
}

} // namespace

std::string package_entry_name(const std::string &name, const std::string &version) {
    std::string entry = name + "_";
    for (char c : version)
        entry += c == ':' ? std::string("%3a") : std::string(1, c);
    return entry;
}

PackageCache::PackageCache(fs::path dir, std::shared_ptr<const PackageArchive> archive,
                           const Progress *progress)
    : dir_(std::move(dir)), archive_(std::move(archive)), progress_(progress) {}

std::optional<fs::path> PackageCache::cached(const std::string &name,
                                             const std::string &version) const {
    fs::path entry = dir_ / package_entry_name(name, version);
    if (fs::is_directory(entry))
        return entry;
    return std::nullopt;
}

std::vector<std::string> PackageCache::cached_versions(const std::string &name) const {
    std::vector<std::string> versions;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir_, ec)) {
        std::string file = entry.path().filename().string();
        if (!entry.is_directory() || !file.starts_with(name + "_"))
            continue;
        versions.push_back(version_of_entry(file.substr(name.size() + 1)));
    }
    std::sort(versions.begin(), versions.end());
    return versions;
}

std::vector<ArchivePackage> PackageCache::archive_versions(const std::string &name) const {
    return archive_->versions(name);
}

std::vector<fs::path> PackageCache::provide(const std::vector<PackageRef> &packages,
                                            const std::string &release,
                                            std::vector<std::shared_ptr<CacheUse>> &uses) const {
    std::vector<ArchivePackage> missing;
    std::vector<std::string> absent;
    for (const auto &ref : packages) {
        if (cached(ref.name, ref.version))
            continue;
        auto offered = archive_->versions(ref.name);
        auto it = std::find_if(offered.begin(), offered.end(),
                               [&](const ArchivePackage &p) { return p.version == ref.version; });
        if (it == offered.end())
            absent.push_back(fmt::format("{} {} ({}; the archive has: {})", ref.name, ref.version,
                                         ref.purpose, versions_text(offered)));
        else
            missing.push_back(*it);
    }
    if (!absent.empty())
        throw Error("cannot patch {}: the package archive no longer has {} and it is not "
                    "installed or cached; run apt-get update, or add an archive that has it "
                    "(snapshot.debian.org)",
                    release, fmt::join(absent, ", "));
    if (!missing.empty()) {
        fs::create_directories(dir_);
        TreeLock lock(dir_); // one fetch at a time; a waiter finds the entry fetched
        uint64_t needed = 0;
        for (const auto &package : missing)
            if (!cached(package.name, package.version))
                needed += package.download_bytes + package.unpacked_bytes;
        auto free = free_bytes(dir_);
        if (free && needed + kFullBelowBytes > *free)
            throw Error("not enough space for the packages of {} in {}: they need {} (download "
                        "and unpacked), {} is free; free some space (kpatch-build "
                        "--cache-prune) or set KPP_CACHE_DIR to a larger filesystem",
                        release, dir_.string(), human_size(needed), human_size(*free));
        for (const auto &package : missing)
            if (!cached(package.name, package.version))
                fetch(package);
    }
    std::vector<fs::path> roots;
    for (const auto &ref : packages) {
        fs::path root = *cached(ref.name, ref.version);
        uses.push_back(CacheUse::shared(root));
        if (!fs::is_directory(root)) // pruned while we waited for the lock
            throw Error("{} was removed while kpatch-build was about to use it; run again",
                        root.string());
        roots.push_back(root);
    }
    return roots;
}

fs::path PackageCache::fetch(const ArchivePackage &package) const {
    std::string entry = package_entry_name(package.name, package.version);
    remove_leftovers(dir_, entry);
    TemporaryDir temporary(dir_ / fmt::format(".{}.{}", entry, getpid()));
    fs::path log = temporary.path() / "fetch.log";
    fs::path root = temporary.path() / "root";
    try {
        if (progress_)
            progress_->stage(fmt::format("downloading {} {} ({} MiB)", package.name,
                                         package.version, package.download_bytes >> 20));
        fs::path deb = archive_->download(package, temporary.path(), log);
        if (progress_)
            progress_->stage(
                fmt::format("unpacking {} into {}", deb.filename().string(), dir_.string()));
        try {
            run_logged({"dpkg-deb", "-x", deb.string(), root.string()}, log);
        } catch (const CommandFailed &e) {
            throw Error("cannot unpack {} into {}: {}", deb.filename().string(), dir_.string(),
                        e.what());
        }
        fs::remove(deb);
        interrupt::throw_if_requested();
    } catch (const Interrupted &) {
        throw;
    } catch (const std::exception &e) {
        // A full disk shows up as whatever failed first; say what it is.
        if (auto full = describe_full_place({{dir_, "the kpatch-build cache"}}))
            throw Error("{} (while fetching {} {}; the cache is unchanged)", *full, package.name,
                        package.version);
        throw;
    }
    // Publishing is one rename: the entry exists only when complete. The
    // temporary directory (the log) goes when `temporary` does.
    fs::path final_path = dir_ / entry;
    fs::rename(root, final_path);
    return final_path;
}

} // namespace kpp::build::distro
