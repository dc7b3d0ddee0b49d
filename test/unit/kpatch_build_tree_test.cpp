// Whole-tree checks: recorded make variables, prepare files, snapshots.
#include "kpatch-build/kbuild/kbuild_config.h"
#include "kpatch-build/kbuild/kbuild_prepare.h"
#include "kpatch-build/tree/tree_snapshot.h"
#include "kpatch_build_test_util.h"

#include <algorithm>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace kpp::build;
using kpp::build::test::TempTree;

namespace {

const char *kAutoConfCmd = "deps_config := \\\n\tKconfig\n\n"
                           "ifneq \"$(ARCH)\" \"x86_64\"\ninclude/config/auto.conf: FORCE\nendif\n"
                           "ifneq \"$(CC)\" \"gcc\"\ninclude/config/auto.conf: FORCE\nendif\n"
                           "ifneq \"$(LLVM)\" \"\"\ninclude/config/auto.conf: FORCE\nendif\n";

bool contains(const std::vector<std::string> &list, const std::string &item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

} // namespace

TEST(KpatchBuildKbuildConfig, ReadsRecordedVariables) {
    EXPECT_EQ(recorded_make_variable(kAutoConfCmd, "ARCH"), "x86_64");
    EXPECT_EQ(recorded_make_variable(kAutoConfCmd, "CC"), "gcc");
    EXPECT_EQ(recorded_make_variable(kAutoConfCmd, "LLVM"), "");
    EXPECT_FALSE(recorded_make_variable(kAutoConfCmd, "CROSS_COMPILE"));
}

TEST(KpatchBuildKbuildConfig, PassesOnlyUserChosenNonEmptyVariables) {
    TempTree tree;
    tree.write("include/config/auto.conf.cmd", kAutoConfCmd);
    EXPECT_EQ(tree_make_variables(tree.root()), std::vector<std::string>{"ARCH=x86_64"});
    EXPECT_EQ(llvm_of_tools("clang", "ld.lld"), "1");
    EXPECT_EQ(llvm_of_tools("clang-14", "ld.lld-14"), "-14");
    EXPECT_EQ(llvm_of_tools("/usr/lib/llvm-14/bin/clang", "/usr/lib/llvm-14/bin/ld.lld"),
              "/usr/lib/llvm-14/bin/");
    EXPECT_EQ(llvm_of_tools("clang", "ld"), std::nullopt); // clang with GNU ld: no LLVM=
    EXPECT_EQ(llvm_of_tools("gcc", "ld"), std::nullopt);
    EXPECT_EQ(llvm_compiler({"ARCH=x86", "LLVM=1"}), "clang");
    EXPECT_EQ(llvm_compiler({"LLVM=-14"}), "clang-14");
    EXPECT_EQ(llvm_compiler({"LLVM=/usr/lib/llvm-14/bin/"}), "/usr/lib/llvm-14/bin/clang");
    EXPECT_EQ(llvm_compiler({"ARCH=x86_64"}), std::nullopt);
    TempTree unconfigured;
    EXPECT_TRUE(tree_make_variables(unconfigured.root()).empty());
}

TEST(KpatchBuildPrepare, ListsExistingPrepareOutputsOnly) {
    TempTree tree;
    tree.write(".missing-syscalls.d", "x");
    tree.write("arch/x86/kernel/asm-offsets.s", "x");
    tree.write("arch/x86/kernel/.asm-offsets.s.cmd", "x");
    tree.write("scripts/mod/modpost", "x");
    tree.write("scripts/mod/modpost.c", "source: never rewritten");
    tree.write("scripts/mod/elfconfig.h", "generated");
    auto files = files_prepare_may_rewrite(tree.root());
    EXPECT_TRUE(contains(files, ".missing-syscalls.d"));
    EXPECT_TRUE(contains(files, "arch/x86/kernel/asm-offsets.s"));
    EXPECT_TRUE(contains(files, "arch/x86/kernel/.asm-offsets.s.cmd"));
    EXPECT_TRUE(contains(files, "scripts/mod/modpost"));
    EXPECT_TRUE(contains(files, "scripts/mod/elfconfig.h"));
    EXPECT_FALSE(contains(files, "scripts/mod/modpost.c"));
    EXPECT_FALSE(contains(files, "kernel/bounds.s")) << "absent files are not listed";
}

TEST(KpatchBuildSnapshot, SeesChangedNewAndRemovedFiles) {
    TempTree tree;
    tree.write("a.c", "a");
    tree.write("dir/b.o", "b");
    tree.write("dir/c.o", "c");
    auto before = TreeSnapshot::take(tree.root());
    EXPECT_EQ(before.size(), 3u);
    EXPECT_TRUE(TreeSnapshot::take(tree.root()).differences_from(before).empty());

    struct timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, (tree / "a.c").c_str(), times, 0), 0); // mtime only
    tree.write("dir/new.o", "n");
    std::filesystem::remove(tree / "dir/c.o");
    auto differences = TreeSnapshot::take(tree.root()).differences_from(before);
    EXPECT_EQ(differences,
              (std::vector<std::string>{"changed: a.c", "new: dir/new.o", "removed: dir/c.o"}));
}
