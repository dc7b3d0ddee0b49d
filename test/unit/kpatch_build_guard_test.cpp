// The tree guard and patch checking keep the source tree unchanged.
#include "kpatch-build/tree/patch_apply.h"
#include "kpatch-build/tree/tree_guard.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace kpp::build;
using kpp::build::test::TempTree;
namespace fs = std::filesystem;

namespace {

struct timespec mtime_of(const fs::path &path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mtim;
}

void set_old_mtime(const fs::path &path, time_t seconds, long nanoseconds) {
    struct timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

} // namespace

TEST(KpatchBuildGuard, RestoresContentMtimeAndRemovesNewFilesAfterException) {
    TempTree tree, work;
    tree.write("fs/proc/meminfo.c", "original source\n");
    tree.write("fs/proc/meminfo.o", "original object");
    set_old_mtime(tree / "fs/proc/meminfo.c", 1'600'000'000, 123'456'789);
    set_old_mtime(tree / "fs/proc/meminfo.o", 1'600'000'100, 5);
    try {
        TreeGuard guard(tree.root(), work / "backup", work / "journals");
        guard.protect_all({"fs/proc/meminfo.c", "fs/proc/meminfo.o", "fs/proc/.meminfo.o.d",
                           "fs/new/dir/created.c"});
        tree.write("fs/proc/meminfo.c", "patched source\n");
        fs::remove(tree / "fs/proc/meminfo.o"); // as make's .DELETE_ON_ERROR would
        tree.write("fs/proc/.meminfo.o.d", "left behind by an interrupted gcc");
        tree.write("fs/new/dir/created.c", "a file the patch created");
        throw std::runtime_error("build failed");
    } catch (const std::runtime_error &) {
    }
    EXPECT_EQ(tree.read("fs/proc/meminfo.c"), "original source\n");
    EXPECT_EQ(tree.read("fs/proc/meminfo.o"), "original object");
    auto source_time = mtime_of(tree / "fs/proc/meminfo.c");
    EXPECT_EQ(source_time.tv_sec, 1'600'000'000);
    EXPECT_EQ(source_time.tv_nsec, 123'456'789);
    EXPECT_EQ(mtime_of(tree / "fs/proc/meminfo.o").tv_sec, 1'600'000'100);
    EXPECT_FALSE(fs::exists(tree / "fs/proc/.meminfo.o.d"));
    EXPECT_FALSE(fs::exists(tree / "fs/new")) << "directories made for new files go too";
    EXPECT_FALSE(fs::exists(tree / "fs/proc/meminfo.c.kpatch-build-restore"));
}

TEST(KpatchBuildGuard, RemovesKbuildProbeDirectoriesLeftByAStoppedMake) {
    TempTree tree, work;
    tree.write(".tmp_old/keep", "was there before: not ours");
    {
        TreeGuard guard(tree.root(), work / "backup", work / "journals");
        tree.write(".tmp_652/tmp.o", "left by an interrupted cc-option probe");
    }
    EXPECT_FALSE(fs::exists(tree / ".tmp_652"));
    EXPECT_TRUE(fs::exists(tree / ".tmp_old/keep"));
}

TEST(KpatchBuildGuard, FirstProtectWinsAndRestoreIsIdempotent) {
    TempTree tree, work;
    tree.write("a.c", "v1");
    TreeGuard guard(tree.root(), work / "backup", work / "journals");
    guard.protect("a.c");
    tree.write("a.c", "v2");
    guard.protect("a.c"); // must not overwrite the backup of v1
    EXPECT_EQ(guard.protected_count(), 1u);
    EXPECT_TRUE(guard.restore().empty());
    EXPECT_EQ(tree.read("a.c"), "v1");
    EXPECT_TRUE(guard.restore().empty());
    EXPECT_EQ(tree.read("a.c"), "v1");
}

TEST(KpatchBuildGuard, RefusesPathsOutsideTheTree) {
    TempTree tree, work;
    TreeGuard guard(tree.root(), work / "backup", work / "journals");
    EXPECT_THROW(guard.protect("../etc/passwd"), kpp::Error);
    EXPECT_THROW(guard.protect("/etc/passwd"), kpp::Error);
}

TEST(KpatchBuildPatchCheck, DescribesTheFailingHunk) {
    std::string output = "checking file fs/proc/meminfo.c\nHunk #1 succeeded at 10.\n"
                         "Hunk #2 FAILED at 120.\n1 out of 2 hunks FAILED\n";
    EXPECT_EQ(describe_patch_failure(output), "fs/proc/meminfo.c: hunk #2 FAILED at 120");
}

TEST(KpatchBuildPatchCheck, StackedPatchesCheckedWithoutTouchingTheTree) {
    TempTree tree, work, patches;
    tree.write("lib/a.c", "one\ntwo\nthree\n");
    set_old_mtime(tree / "lib/a.c", 1'500'000'000, 0);
    patches.write("1.patch",
                  "--- a/lib/a.c\n+++ b/lib/a.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
    patches.write("2.patch",
                  "--- a/lib/a.c\n+++ b/lib/a.c\n@@ -1,3 +1,3 @@\n one\n-TWO\n+2\n three\n");
    std::vector<TouchedFile> touched = {{"lib/a.c"}};
    EXPECT_NO_THROW(check_patches_apply({patches / "1.patch", patches / "2.patch"}, touched,
                                        tree.root(), work / "scratch"))
        << "the second patch applies on top of the first";
    EXPECT_EQ(tree.read("lib/a.c"), "one\ntwo\nthree\n");
    EXPECT_EQ(mtime_of(tree / "lib/a.c").tv_sec, 1'500'000'000);
    try {
        check_patches_apply({patches / "2.patch"}, touched, tree.root(), work / "scratch");
        FAIL() << "2.patch alone must not apply";
    } catch (const kpp::Error &e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("2.patch"), std::string::npos) << msg;
        EXPECT_NE(msg.find("lib/a.c: hunk #1 FAILED"), std::string::npos) << msg;
    }
}
