// A -s tree's vmlinux and config must be its own (tree_match.h), and a full
// disk is told from other failures (disk_space.h).
#include "kpatch-build/tree/tree_match.h"
#include "kpatch-build/util/disk_space.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <cstdlib>
#include <gtest/gtest.h>

using namespace kpp::build;
using kpp::build::test::TempTree;

namespace {

const char *kConfig =
    "CONFIG_SMP=y\n# CONFIG_DEBUG_FS is not set\nCONFIG_CC_VERSION_TEXT=\"gcc 12\"\n";

// A "vmlinux" good enough for the checks: an object with a linux_banner.
void write_vmlinux(const TempTree &tree, const std::string &rel, const std::string &banner) {
    tree.write("banner.c", "const char linux_banner[] = \"" + banner + "\\n\";\n");
    std::string cmd =
        "gcc -c -o '" + (tree / rel).string() + "' '" + (tree / "banner.c").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A -s tree of release 6.1.192 with its own vmlinux and .config.
KernelTree make_tree(const TempTree &tree) {
    tree.write("include/config/kernel.release", "6.1.192\n");
    tree.write(".config", kConfig);
    write_vmlinux(tree, "vmlinux", "Linux version 6.1.192 (root@vm) (gcc 12) #2 SMP Sun Nov 22");
    KernelTree k;
    k.source_dir = tree.root();
    k.config = tree / ".config";
    k.vmlinux = tree / "vmlinux";
    return k;
}

std::string refusal(const KernelTree &k) {
    try {
        check_tree_files_match(k);
    } catch (const kpp::Error &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(KpatchBuildTreeMatch, ReadsTheBannerAndItsRelease) {
    TempTree tree;
    write_vmlinux(tree, "v.o", "Linux version 6.1.0-56-cloud-amd64 (debian) #1 SMP");
    EXPECT_EQ(read_linux_banner(tree / "v.o"),
              "Linux version 6.1.0-56-cloud-amd64 (debian) #1 SMP");
    EXPECT_EQ(banner_release(*read_linux_banner(tree / "v.o")), "6.1.0-56-cloud-amd64");
    tree.write("not-elf", "hello");
    EXPECT_EQ(read_linux_banner(tree / "not-elf"), std::nullopt);
}

TEST(KpatchBuildTreeMatch, AcceptsTheTreesOwnFiles) {
    TempTree tree;
    KernelTree k = make_tree(tree);
    EXPECT_EQ(refusal(k), "");
    tree.write("copy.config", std::string("# a copy, other comments\n") + kConfig);
    k.config = tree / "copy.config";
    EXPECT_EQ(refusal(k), "");
}

TEST(KpatchBuildTreeMatch, RefusesAVmlinuxOfAnotherRelease) {
    TempTree tree;
    KernelTree k = make_tree(tree);
    write_vmlinux(tree, "other", "Linux version 6.1.199 (root@vm) (gcc 12) #2 SMP Sun Nov 22");
    k.vmlinux = tree / "other";
    EXPECT_NE(refusal(k).find("other is the vmlinux of kernel 6.1.199, but " +
                              tree.root().string() + " is kernel 6.1.192"),
              std::string::npos)
        << refusal(k);
}

TEST(KpatchBuildTreeMatch, RefusesAVmlinuxOfAnotherBuild) {
    TempTree tree;
    KernelTree k = make_tree(tree);
    write_vmlinux(tree, "other", "Linux version 6.1.192 (root@vm) (gcc 12) #3 SMP Mon Nov 23");
    k.vmlinux = tree / "other";
    EXPECT_NE(refusal(k).find("other is not the vmlinux built in"), std::string::npos)
        << refusal(k);
    k.vmlinux = tree / "banner.c"; // no symbol table at all
    EXPECT_NE(refusal(k).find("has no linux_banner symbol"), std::string::npos) << refusal(k);
}

TEST(KpatchBuildTreeMatch, RefusesAnotherConfigNamingTheOption) {
    TempTree tree;
    KernelTree k = make_tree(tree);
    tree.write("other.config", "# CONFIG_SMP is not set\n# CONFIG_DEBUG_FS is not set\n"
                               "CONFIG_CC_VERSION_TEXT=\"gcc 12\"\n");
    k.config = tree / "other.config";
    EXPECT_NE(refusal(k).find("(CONFIG_SMP: not set in " + (tree / "other.config").string() +
                              ", y in " + (tree / ".config").string() + ")"),
              std::string::npos)
        << refusal(k);
    EXPECT_EQ(first_config_difference("CONFIG_A=y\n", "a", "CONFIG_A=y\nCONFIG_B=m\n", "b"),
              "CONFIG_B: not set in a, m in b");
}

TEST(KpatchBuildDiskSpace, OnlyAFullFilesystemIsReported) {
    TempTree tree;
    // The test machine's temporary directory is not full.
    EXPECT_EQ(describe_full_place({{tree.root(), "TMPDIR"}}), std::nullopt);
    EXPECT_EQ(describe_full_place({{tree / "no-such-dir", "TMPDIR"}}), std::nullopt);
    ASSERT_TRUE(free_bytes(tree.root()).has_value());
    EXPECT_GE(*free_bytes(tree.root()), kFullBelowBytes);
}
