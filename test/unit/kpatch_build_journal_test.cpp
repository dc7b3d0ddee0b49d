// The tree guard's on-disk journal: a guard whose process is killed outright
// leaves a journal, and the next TreeLock of the tree replays it.
#include "kpatch-build/tree/tree_guard.h"
#include "kpatch-build/tree/tree_journal.h"
#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/util/run_marker.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <csignal>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kpp::build;
using kpp::build::test::error_of;
using kpp::build::test::TempTree;
namespace fs = std::filesystem;

namespace {

struct FileState {
    std::string bytes;
    int64_t mtime_ns = 0; // not atime: reading the file for the check changes it
    mode_t mode = 0;
    bool operator==(const FileState &) const = default;
};

FileState state_of(const TempTree &tree, const std::string &rel) {
    struct stat st {};
    EXPECT_EQ(stat((tree / rel).c_str(), &st), 0) << rel;
    return {tree.read(rel), st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, st.st_mode};
}

void set_times(const fs::path &path, time_t seconds, long nanoseconds) {
    struct timespec times[2] = {{seconds - 50, nanoseconds}, {seconds, nanoseconds}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

// A small built tree: sources and objects with old, distinct timestamps.
void fill_tree(const TempTree &tree) {
    tree.write("Makefile", "all:\n");
    tree.write("fs/proc/meminfo.c", "original source\n");
    tree.write("fs/proc/meminfo.o", std::string("\x7f"
                                                "ELF original object",
                                                20));
    tree.write("scripts/tool.sh", "#!/bin/sh\n");
    tree.write(".tmp_old/keep", "there before the run");
    fs::permissions(tree / "scripts/tool.sh", fs::perms(0750));
    set_times(tree / "fs/proc/meminfo.c", 1'600'000'000, 123'456'789);
    set_times(tree / "fs/proc/meminfo.o", 1'600'000'100, 5);
    set_times(tree / "scripts/tool.sh", 1'500'000'000, 0);
}

// Where the process dies, as a kpatch-build killed by the OOM killer
// would: no destructor runs.
void killed_here() {
    raise(SIGKILL);
}

// Runs `body`, which calls killed_here(), in a child process.
void run_and_kill(const std::function<void()> &body) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        try {
            body();
        } catch (...) {
            _exit(3);
        }
        _exit(4);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

// What a kpatch-build does to the tree between its protect and its restore.
void patch_and_rebuild(const TempTree &tree, const fs::path &backup, const fs::path &journals) {
    TreeGuard guard(tree.root(), backup, journals);
    guard.protect_all({"fs/proc/meminfo.c", "fs/proc/meminfo.o", "fs/proc/.meminfo.o.cmd",
                       "scripts/tool.sh", "fs/new/dir/created.c"});
    tree.write("fs/proc/meminfo.c", "patched source\n");
    fs::remove(tree / "fs/proc/meminfo.o");
    tree.write("fs/proc/meminfo.o", "patched object");
    tree.write("fs/proc/.meminfo.o.cmd", "cmd_fs/proc/meminfo.o := gcc ...");
    fs::permissions(tree / "scripts/tool.sh", fs::perms(0600));
    tree.write("scripts/tool.sh", "rewritten\n");
    tree.write("fs/new/dir/created.c", "a file the patch created");
    tree.write(".tmp_4242/probe.o", "left by a killed cc-option probe");
    killed_here();
}

std::vector<std::string> journal_lines(const fs::path &file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

} // namespace

TEST(KpatchBuildJournal, ReplayAfterSigkillRestoresBytesModesAndTimestamps) {
    TempTree tree, work;
    fill_tree(tree);
    const std::vector<std::string> files = {"Makefile", "fs/proc/meminfo.c", "fs/proc/meminfo.o",
                                            "scripts/tool.sh", ".tmp_old/keep"};
    std::vector<FileState> before;
    for (const auto &file : files)
        before.push_back(state_of(tree, file));

    run_and_kill([&] { patch_and_rebuild(tree, work / "backup", work / "journals"); });
    ASSERT_EQ(tree.read("fs/proc/meminfo.c"), "patched source\n") << "the kill left it patched";
    auto journals = leftover_journals(tree.root(), work / "journals");
    ASSERT_EQ(journals.size(), 1u);
    EXPECT_EQ(journal_lines(journals[0]).size(), 6u) << "a header and five files";

    { TreeLock lock(tree.root(), std::chrono::seconds(5), work / "journals"); }
    for (size_t i = 0; i < files.size(); i++)
        EXPECT_EQ(state_of(tree, files[i]), before[i]) << files[i];
    EXPECT_FALSE(fs::exists(tree / "fs/proc/.meminfo.o.cmd"));
    EXPECT_FALSE(fs::exists(tree / "fs/new")) << "directories made for new files go too";
    EXPECT_FALSE(fs::exists(tree / ".tmp_4242")) << "the killed make's probe directory";
    EXPECT_FALSE(fs::exists(tree / "fs/proc/meminfo.c.kpatch-build-restore"));
    EXPECT_FALSE(fs::exists(journal_dir_of(tree.root(), work / "journals")))
        << "the journal is gone once replayed";
    EXPECT_EQ(replay_tree_journals(tree.root(), work / "journals"), 0u) << "nothing left to do";
}

TEST(KpatchBuildJournal, GuardKeepsItsJournalUntilItsRestoreSucceeds) {
    TempTree tree, work;
    fill_tree(tree);
    TreeGuard guard(tree.root(), work / "backup", work / "journals");
    EXPECT_TRUE(leftover_journals(tree.root(), work / "journals").empty())
        << "no journal before anything is protected";
    guard.protect("fs/proc/meminfo.c");
    guard.protect_all({"fs/proc/meminfo.c", "fs/proc/new.c"});
    auto journals = leftover_journals(tree.root(), work / "journals");
    ASSERT_EQ(journals.size(), 1u);
    JournalContents contents = read_journal(journals[0]);
    EXPECT_EQ(contents.header.tree, tree.root());
    EXPECT_EQ(contents.header.pid, getpid());
    ASSERT_EQ(contents.entries.size(), 2u) << "a file protected twice is recorded once";
    EXPECT_EQ(contents.entries[0].relative, "fs/proc/meminfo.c");
    EXPECT_TRUE(contents.entries[0].existed);
    EXPECT_EQ(contents.entries[0].mtime.tv_nsec, 123'456'789);
    EXPECT_EQ(contents.entries[0].backup, work / "backup/fs/proc/meminfo.c");
    EXPECT_EQ(contents.entries[1].relative, "fs/proc/new.c");
    EXPECT_FALSE(contents.entries[1].existed);

    EXPECT_TRUE(guard.restore().empty());
    EXPECT_TRUE(leftover_journals(tree.root(), work / "journals").empty());
    // Protected again after a restore: a new journal lists the earlier files
    // too, since restore() puts them back as well.
    guard.protect("Makefile");
    journals = leftover_journals(tree.root(), work / "journals");
    ASSERT_EQ(journals.size(), 1u);
    EXPECT_EQ(read_journal(journals[0]).entries.size(), 3u);
}

// Killed in the middle of appending a line: that line's file was not
// touched yet (the line is synced before protect() returns); the torn line
// is ignored and the complete ones are replayed.
TEST(KpatchBuildJournal, TornLastLineIsIgnored) {
    TempTree tree, work;
    fill_tree(tree);
    const FileState source = state_of(tree, "fs/proc/meminfo.c");
    const FileState tool = state_of(tree, "scripts/tool.sh");
    run_and_kill([&] {
        TreeGuard guard(tree.root(), work / "backup", work / "journals");
        guard.protect("fs/proc/meminfo.c");
        tree.write("fs/proc/meminfo.c", "patched source\n");
        guard.protect("scripts/tool.sh");
        killed_here();
    });
    auto journals = leftover_journals(tree.root(), work / "journals");
    ASSERT_EQ(journals.size(), 1u);
    const auto size = fs::file_size(journals[0]);
    fs::resize_file(journals[0], size - 25);
    ASSERT_EQ(read_journal(journals[0]).entries.size(), 1u);

    EXPECT_EQ(replay_tree_journals(tree.root(), work / "journals"), 1u);
    EXPECT_EQ(state_of(tree, "fs/proc/meminfo.c"), source);
    EXPECT_EQ(state_of(tree, "scripts/tool.sh"), tool);
    EXPECT_TRUE(leftover_journals(tree.root(), work / "journals").empty());
}

// Killed between creating the header and renaming it into place: no file
// was protected yet, so the temporary is simply removed.
TEST(KpatchBuildJournal, UnrenamedHeaderIsRemovedAndNothingReplayed) {
    TempTree tree, work;
    fill_tree(tree);
    fs::path dir = journal_dir_of(tree.root(), work / "journals");
    fs::create_directories(dir);
    std::ofstream(dir / "1-2.journal-new") << "{\"kpatch-build-tree-jou";
    EXPECT_EQ(replay_tree_journals(tree.root(), work / "journals"), 0u);
    EXPECT_FALSE(fs::exists(dir / "1-2.journal-new"));
}

TEST(KpatchBuildJournal, DamageBeforeTheLastLineIsAnError) {
    TempTree tree, work;
    fill_tree(tree);
    run_and_kill([&] {
        TreeGuard guard(tree.root(), work / "backup", work / "journals");
        guard.protect("fs/proc/meminfo.c");
        guard.protect("scripts/tool.sh");
        killed_here();
    });
    auto journal = leftover_journals(tree.root(), work / "journals").at(0);
    auto lines = journal_lines(journal);
    ASSERT_EQ(lines.size(), 3u);
    std::ofstream(journal, std::ios::trunc) << lines[0] << "\n"
                                            << "garbage\n"
                                            << lines[2] << "\n";
    std::string error = error_of([&] { replay_tree_journals(tree.root(), work / "journals"); });
    EXPECT_NE(error.find(journal.string() + " is damaged at line 2"), std::string::npos) << error;
}

// The backups were in a $TMPDIR that a reboot emptied: nothing is replayed
// (half a replay is worse than none), and the error says what to do.
TEST(KpatchBuildJournal, MissingBackupIsOneClearErrorAndNothingIsTouched) {
    TempTree tree, work;
    fill_tree(tree);
    run_and_kill([&] { patch_and_rebuild(tree, work / "backup", work / "journals"); });
    const FileState patched = state_of(tree, "fs/proc/meminfo.c");
    fs::remove(work / "backup/scripts/tool.sh");
    auto journal = leftover_journals(tree.root(), work / "journals").at(0);

    std::string error =
        error_of([&] { TreeLock lock(tree.root(), std::chrono::seconds(5), work / "journals"); });
    EXPECT_NE(error.find("the kernel tree " + tree.root().string() + " was left patched"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("1 of the backups it needs are gone (e.g. " +
                         (work / "backup/scripts/tool.sh").string()),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("put the files listed in " + journal.string() +
                         " back from a clean copy of the sources"),
              std::string::npos)
        << error;
    EXPECT_EQ(state_of(tree, "fs/proc/meminfo.c"), patched) << "no partial replay";
    EXPECT_TRUE(fs::exists(journal)) << "the journal stays until the user deals with it";
}

// A backup cut short (a full disk, or someone else's hand) is as bad as none.
TEST(KpatchBuildJournal, TruncatedBackupCountsAsMissing) {
    TempTree tree, work;
    fill_tree(tree);
    run_and_kill([&] { patch_and_rebuild(tree, work / "backup", work / "journals"); });
    fs::resize_file(work / "backup/fs/proc/meminfo.o", 3);
    std::string error = error_of([&] { replay_tree_journals(tree.root(), work / "journals"); });
    EXPECT_NE(error.find("1 of the backups it needs are gone"), std::string::npos) << error;
}

// The tree was removed and made anew at the same path (a pruned and
// re-prepared release): the old journal describes files that are gone.
TEST(KpatchBuildJournal, JournalOfAReplacedTreeIsDropped) {
    TempTree parent, work;
    fs::path root = parent / "linux";
    fs::create_directories(root);
    std::ofstream(root / "a.c") << "old tree";
    run_and_kill([&] {
        TreeGuard guard(root, work / "backup", work / "journals");
        guard.protect("a.c");
        std::ofstream(root / "a.c") << "patched";
        killed_here();
    });
    fs::rename(root, parent / "moved");
    fs::create_directories(root);
    std::ofstream(root / "a.c") << "new tree";
    EXPECT_EQ(replay_tree_journals(root, work / "journals"), 0u);
    EXPECT_EQ(parent.read("linux/a.c"), "new tree");
    EXPECT_TRUE(leftover_journals(root, work / "journals").empty());
}

// Two guards of one run (the object tree's and the kernel tree's): the
// older journal holds the older backup of a file both protected, and wins.
TEST(KpatchBuildJournal, OlderJournalWinsForAFileInBoth) {
    TempTree tree, work;
    fill_tree(tree);
    const FileState source = state_of(tree, "fs/proc/meminfo.c");
    run_and_kill([&] {
        TreeGuard first(tree.root(), work / "backup", work / "journals");
        first.protect("fs/proc/meminfo.c");
        tree.write("fs/proc/meminfo.c", "changed once\n");
        TreeGuard second(tree.root(), work / "backup-kernel", work / "journals");
        second.protect("fs/proc/meminfo.c");
        tree.write("fs/proc/meminfo.c", "changed twice\n");
        killed_here();
    });
    EXPECT_EQ(leftover_journals(tree.root(), work / "journals").size(), 2u);
    EXPECT_EQ(replay_tree_journals(tree.root(), work / "journals"), 1u);
    EXPECT_EQ(state_of(tree, "fs/proc/meminfo.c"), source);
}

// make runs in a process group of its own and outlives a SIGKILLed
// kpatch-build: the replay stops what carries the dead run's id first.
TEST(KpatchBuildJournal, StopsTheCommandsOfADeadRun) {
    const std::string id = "4242-" + std::to_string(getpid());
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        std::string variable = "KPP_BUILD_RUN=" + id;
        char *const argv[] = {const_cast<char *>("sleep"), const_cast<char *>("30"), nullptr};
        char *const envp[] = {variable.data(), nullptr};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    // Until the exec is done, the child carries our environment, not the id.
    for (int tries = 0; tries < 200; tries++) {
        if (fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "exe").filename() == "sleep")
            break;
        usleep(10'000);
    }
    EXPECT_EQ(stop_commands_of_run("4242-other"), 0u) << "another run's id matches nothing";
    EXPECT_EQ(stop_commands_of_run(id), 1u);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}
