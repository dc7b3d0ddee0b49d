// Which files a patch touches.
#include "kpatch-build/tree/patch_files.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

using namespace kpp::build;

namespace {

std::vector<std::string> paths(const std::vector<TouchedFile> &files) {
    std::vector<std::string> result;
    for (const auto &f : files)
        result.push_back(f.path);
    return result;
}

const char *kMeminfoPatch = R"(diff --git a/fs/proc/meminfo.c b/fs/proc/meminfo.c
index 1111111..2222222 100644
--- a/fs/proc/meminfo.c
+++ b/fs/proc/meminfo.c
@@ -10,3 +10,3 @@ static int meminfo_proc_show(struct seq_file *m, void *v)
 	si_meminfo(&i);
-	show_val_kb(m, "MemTotal:       ", i.totalram);
+	show_val_kb(m, "MemTotalX:      ", i.totalram);
 	show_val_kb(m, "MemFree:        ", i.freeram);
--- a/include/linux/mm.h	2024-01-01 00:00:00.000000000 +0000
+++ b/include/linux/mm.h	2024-01-02 00:00:00.000000000 +0000
@@ -1,2 +1,3 @@
 #ifndef _LINUX_MM_H
+/* comment */
 #define _LINUX_MM_H
)";

} // namespace

TEST(KpatchBuildPatch, ListsEveryFileInOrder) {
    auto files = parse_patch_text(kMeminfoPatch, "t.patch");
    EXPECT_EQ(paths(files), (std::vector<std::string>{"fs/proc/meminfo.c", "include/linux/mm.h"}));
    EXPECT_EQ(files[0].change, FileChange::Modified);
}

TEST(KpatchBuildPatch, RemovedLineStartingWithDashesIsNotAFileHeader) {
    // The removed line "-- a/evil" shows as "--- a/evil" inside the hunk.
    const char *patch = "--- a/lib/x.c\n+++ b/lib/x.c\n@@ -1,2 +1,2 @@\n"
                        "--- a/evil\n+++ b/evil\n ctx\n";
    auto files = parse_patch_text(patch, "t.patch");
    EXPECT_EQ(paths(files), (std::vector<std::string>{"lib/x.c"}));
}

TEST(KpatchBuildPatch, CreatedAndDeletedFiles) {
    const char *patch = "--- /dev/null\n+++ b/fs/new.c\n@@ -0,0 +1 @@\n+int x;\n"
                        "--- a/fs/old.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-int y;\n";
    auto files = parse_patch_text(patch, "t.patch");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, "fs/new.c");
    EXPECT_EQ(files[0].change, FileChange::Created);
    EXPECT_EQ(files[1].path, "fs/old.c");
    EXPECT_EQ(files[1].change, FileChange::Deleted);
}

TEST(KpatchBuildPatch, GitRenameWithoutContent) {
    const char *patch =
        "diff --git a/a.c b/b.c\nsimilarity index 100%\nrename from a.c\nrename to b.c\n";
    auto files = parse_patch_text(patch, "t.patch");
    EXPECT_EQ(paths(files), (std::vector<std::string>{"a.c", "b.c"}));
}

TEST(KpatchBuildPatch, NotAPatchIsAnError) {
    EXPECT_THROW(parse_patch_text("hello\nworld\n", "t.patch"), kpp::Error);
}

TEST(KpatchBuildPatch, TruncatedHunkIsAnError) {
    const char *patch = "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n ctx\nnot a hunk line\n";
    EXPECT_THROW(parse_patch_text(patch, "t.patch"), kpp::Error);
}

TEST(KpatchBuildPatch, MultiplePatchesMergeWithoutDuplicates) {
    auto first = parse_patch_text(kMeminfoPatch, "1.patch");
    auto second =
        parse_patch_text("--- a/fs/proc/meminfo.c\n+++ b/fs/proc/meminfo.c\n@@ -1 +1 @@\n-a\n+b\n"
                         "--- a/kernel/fork.c\n+++ b/kernel/fork.c\n@@ -1 +1 @@\n-a\n+b\n",
                         "2.patch");
    auto merged = merge_touched_files({first, second});
    EXPECT_EQ(paths(merged), (std::vector<std::string>{"fs/proc/meminfo.c", "include/linux/mm.h",
                                                       "kernel/fork.c"}));
}
