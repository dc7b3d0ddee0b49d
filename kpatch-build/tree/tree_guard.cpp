#include "kpatch-build/tree/tree_guard.h"

#include "kpatch-build/util/run_marker.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// The highest ancestor of `relative` (below root) that does not exist yet:
// patch creates missing directories for new files, restore removes them.
fs::path first_missing_dir(const fs::path &root, const fs::path &relative) {
    fs::path dir;
    for (const auto &part : relative.parent_path()) {
        dir /= part;
        if (!fs::exists(root / dir))
            return dir;
    }
    return {};
}

void set_times(const fs::path &path, const struct timespec &atime, const struct timespec &mtime) {
    struct timespec times[2] = {atime, mtime};
    if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error("cannot reset the timestamps of {}: {}", path.string(), std::strerror(errno));
}

// Kbuild's compiler probes (try-run) work in ROOT/.tmp_<pid>/ and delete it
// at the end of make; a make stopped by a signal leaves it behind.
std::vector<std::string> kbuild_temporaries(const fs::path &root) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(root, ec))
        if (entry.path().filename().string().starts_with(".tmp_"))
            names.push_back(entry.path().filename().string());
    return names;
}

void remove_new_kbuild_temporaries(const fs::path &root, const std::vector<std::string> &before) {
    for (const auto &name : kbuild_temporaries(root))
        if (std::find(before.begin(), before.end(), name) == before.end())
            fs::remove_all(root / name);
}

// Both the guard's own restore and a later run's replay put a file back
// with this.
void restore_entry(const fs::path &root, const JournalEntry &entry) {
    fs::path file = root / entry.relative;
    if (!entry.existed) {
        fs::remove(file);
        if (!entry.created_dir.empty())
            fs::remove_all(root / entry.created_dir);
        return;
    }
    // Copy into a temporary name and rename: a crash half way leaves either
    // the old or the restored file, never a truncated one.
    fs::path temporary = file;
    temporary += ".kpatch-build-restore";
    fs::create_directories(file.parent_path());
    fs::copy_file(entry.backup, temporary, fs::copy_options::overwrite_existing);
    if (::chmod(temporary.c_str(), entry.mode & 07777) != 0)
        throw Error("cannot set the mode of {}: {}", temporary.string(), std::strerror(errno));
    set_times(temporary, entry.atime, entry.mtime);
    fs::rename(temporary, file);
}

// Restores newest first, so a directory created for a new file goes after
// its file and the first backup of a file is the one that stays.
std::vector<std::string> restore_entries(const fs::path &root,
                                         const std::vector<JournalEntry> &entries) {
    std::vector<std::string> problems;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        try {
            restore_entry(root, *it);
        } catch (const std::exception &e) {
            problems.push_back(fmt::format("{}: {}", (root / it->relative).string(), e.what()));
        }
    }
    return problems;
}

} // namespace

TreeGuard::TreeGuard(fs::path root, fs::path backup_dir, fs::path journals_dir)
    : root_(std::move(root)), backup_dir_(std::move(backup_dir)),
      journals_dir_(std::move(journals_dir)) {
    fs::create_directories(backup_dir_);
    old_temporaries_ = kbuild_temporaries(root_);
}

TreeGuard::~TreeGuard() {
    try {
        restore();
    } catch (...) {
        // restore() reports its own problems; a destructor must not throw.
    }
}

std::optional<JournalEntry> TreeGuard::describe_and_back_up(const fs::path &relative) {
    fs::path normal = relative.lexically_normal();
    if (normal.is_absolute() || normal.empty() || *normal.begin() == "..")
        throw Error("refusing to touch {}: it is outside the tree {}", relative.string(),
                    root_.string());
    if (known_.contains(normal))
        return std::nullopt;
    JournalEntry entry;
    entry.relative = normal;
    fs::path file = root_ / normal;
    struct stat st {};
    if (lstat(file.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            throw Error("refusing to touch {}: not a regular file", file.string());
        entry.existed = true;
        entry.mode = st.st_mode;
        entry.size = static_cast<uint64_t>(st.st_size);
        entry.atime = st.st_atim;
        entry.mtime = st.st_mtim;
        entry.backup = fs::absolute(backup_dir_ / normal);
        fs::create_directories(entry.backup.parent_path());
        fs::copy_file(file, entry.backup, fs::copy_options::overwrite_existing);
    } else {
        entry.created_dir = first_missing_dir(root_, normal);
    }
    known_.insert(normal);
    return entry;
}

// Backups first, then the journal lines naming them, each durable before
// the next step: a kill in between leaves a journal that tells the truth.
void TreeGuard::record(const std::vector<JournalEntry> &entries) {
    if (entries.empty())
        return;
    std::vector<fs::path> backups;
    for (const auto &entry : entries)
        if (entry.existed)
            backups.push_back(entry.backup);
    if (!backups.empty())
        sync_backups(backups, fs::absolute(backup_dir_));
    if (!journal_) {
        JournalHeader header;
        header.tree = root_;
        header.backup_dir = fs::absolute(backup_dir_);
        header.temporaries_before = old_temporaries_;
        journal_.emplace(header, journals_dir_);
        // Protected before a restore and protected still: their backups stand.
        journal_->append(entries_);
    }
    journal_->append(entries);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
    restored_ = false;
}

void TreeGuard::protect(const fs::path &relative) {
    protect_all({relative.string()});
}

void TreeGuard::protect_all(const std::vector<std::string> &relative_paths) {
    std::vector<JournalEntry> entries;
    try {
        for (const auto &path : relative_paths)
            if (auto entry = describe_and_back_up(path))
                entries.push_back(std::move(*entry));
        record(entries);
    } catch (...) {
        // Nothing of this batch was touched: forget it, as if never protected.
        for (const auto &entry : entries)
            known_.erase(entry.relative);
        throw;
    }
}

std::vector<std::string> TreeGuard::restore() {
    if (restored_)
        return {};
    std::vector<std::string> problems = restore_entries(root_, entries_);
    try {
        remove_new_kbuild_temporaries(root_, old_temporaries_);
    } catch (const std::exception &e) {
        problems.push_back(fmt::format("{}/.tmp_*: {}", root_.string(), e.what()));
    }
    for (const auto &problem : problems)
        log::error("could not restore {} (the original is in {})", problem, backup_dir_.string());
    if (problems.empty() && journal_) {
        try {
            journal_->remove();
            journal_.reset();
        } catch (const std::exception &e) {
            problems.push_back(e.what());
            log::error("{}", e.what());
        }
    }
    restored_ = problems.empty();
    return problems;
}

namespace {

std::vector<JournalContents> read_journals(const fs::path &root, const fs::path &journals_dir) {
    std::vector<JournalContents> journals;
    for (const auto &file : leftover_journals(root, journals_dir))
        journals.push_back(read_journal(file));
    std::sort(journals.begin(), journals.end(), [](const auto &a, const auto &b) {
        return a.header.created_ns > b.header.created_ns;
    });
    return journals;
}

// Every backup must be there, whole, before anything is restored: half a
// replay would leave a tree that is neither the user's nor the patched one.
void require_backups(const fs::path &root, const JournalContents &journal) {
    size_t missing = 0;
    std::string example;
    for (const auto &entry : journal.entries) {
        std::error_code ec;
        if (!entry.existed || (fs::is_regular_file(entry.backup, ec) &&
                               fs::file_size(entry.backup, ec) == entry.size))
            continue;
        if (missing++ == 0)
            example = entry.backup.string();
    }
    if (missing == 0)
        return;
    throw Error("the kernel tree {} was left patched by a kpatch-build (pid {}) that was killed "
                "before it could restore it, and {} of the backups it needs are gone (e.g. {}; "
                "a reboot empties /tmp): put the files listed in {} back from a clean copy of "
                "the sources (or rebuild the tree), then delete that journal",
                root.string(), journal.header.pid, missing, example, journal.file.string());
}

} // namespace

size_t replay_tree_journals(const fs::path &root, const fs::path &journals_dir) {
    std::vector<JournalContents> journals = read_journals(root, journals_dir);
    if (journals.empty())
        return 0;
    std::vector<JournalContents> replayed;
    for (auto &journal : journals) {
        // A tree removed and made anew at the same path no longer has the
        // files the journal describes.
        if (same_tree(journal.header, root)) {
            replayed.push_back(std::move(journal));
            continue;
        }
        log::warn("dropping {}: it describes an earlier tree at {} that has since been replaced",
                  journal.file.string(), root.string());
        fs::remove(journal.file);
    }
    size_t stopped = 0;
    for (const auto &journal : replayed) {
        stopped += stop_commands_of_run(journal.header.run_id);
        require_backups(root, journal);
    }
    std::set<fs::path> restored;
    std::vector<std::string> problems;
    for (const auto &journal : replayed) {
        auto failed = restore_entries(root, journal.entries);
        problems.insert(problems.end(), failed.begin(), failed.end());
        remove_new_kbuild_temporaries(root, journal.header.temporaries_before);
        for (const auto &entry : journal.entries)
            restored.insert(entry.relative);
    }
    if (!problems.empty())
        throw Error("could not put back {} file(s) of {} that a killed kpatch-build left "
                    "changed, e.g. {}; fix that and run again (the journal {} stays)",
                    problems.size(), root.string(), problems.front(),
                    replayed.front().file.string());
    for (const auto &journal : replayed)
        fs::remove(journal.file);
    std::error_code ec;
    fs::remove(journal_dir_of(root, journals_dir), ec); // empty now
    std::set<std::string> backup_dirs;
    for (const auto &journal : replayed)
        backup_dirs.insert(journal.header.backup_dir.string());
    if (!replayed.empty())
        log::warn("{}: a kpatch-build (pid {}) was killed before it could restore the tree; "
                  "restored {} file(s) from its journal{} (its backups in {} are no longer "
                  "needed)",
                  root.string(), replayed.front().header.pid, restored.size(),
                  stopped ? fmt::format(", after stopping {} of its commands", stopped) : "",
                  fmt::join(backup_dirs, " and "));
    return restored.size();
}

} // namespace kpp::build
