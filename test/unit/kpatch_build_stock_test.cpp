// The parts of kpatch-build's no-source mode that need no kernel: the
// compile-unit index, the header dependency cache, object selection with a
// lookup that cannot decide, parents from a lookup, the release stamp.
#include "kpatch-build/distro/release_cache.h"
#include "kpatch-build/distro/stock_kernel.h"
#include "kpatch-build/kbuild/changed_objects.h"
#include "kpatch-build/kbuild/compile_units.h"
#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/cross_build.h"
#include "kpatch-build/kbuild/header_deps.h"
#include "kpatch-build/kbuild/object_parents.h"
#include "kpatch-build/kbuild/original_objects.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <unistd.h>

using namespace kpp::build;
using kpp::build::test::TempTree;
namespace fs = std::filesystem;

TEST(KpatchBuildStock, ObjectOfSource) {
    EXPECT_EQ(object_of_source("fs/proc/meminfo.c"), "fs/proc/meminfo.o");
    EXPECT_EQ(object_of_source("arch/x86/entry/entry_64.S"), "arch/x86/entry/entry_64.o");
    EXPECT_EQ(object_of_source("fs/binfmt_misc.mod.c"), "");
    EXPECT_EQ(object_of_source("/usr/include/stdio.c"), "");
    EXPECT_EQ(object_of_source("include/linux/mm.h"), "");
    // kvm.ko's Makefile names its members in virt/kvm/ through its own directory.
    EXPECT_EQ(object_of_source("arch/x86/kvm/../../../virt/kvm/kvm_main.c"), "virt/kvm/kvm_main.o");
    EXPECT_EQ(object_of_source("../outside.c"), "");
    EXPECT_EQ(object_of_source(".vmlinux.export.c"), "");
}

// The debug info keeps kbuild's name of a unit compiled through another
// directory; the index files it under its real path, with that name as the
// make goal (there is no Makefile in its own directory to build it).
TEST(KpatchBuildStock, UnitsNamedThroughAnotherDirectoryKeepTheirGoal) {
    TempTree tree;
    tree.write("virt/kvm/member.c", "int member_fn(void) { return 1; }\n");
    tree.write("arch/x86/kvm/own.c", "int own_fn(void) { return 2; }\n");
    tree.write("init/main.c", "int main_fn(void) { return 3; }\n");
    std::string cmd = "cd " + tree.root().string() +
                      " && gcc -g -c -o kvm-a.o arch/x86/kvm/../../../virt/kvm/member.c"
                      " && gcc -g -c -o kvm-b.o arch/x86/kvm/own.c"
                      " && ld -r -o modules/kvm.ko kvm-a.o kvm-b.o"
                      " && gcc -g -c -o vmlinux init/main.c";
    std::filesystem::create_directories(tree / "modules");
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(compile_unit_names(tree / "modules/kvm.ko"),
              (std::vector<std::string>{"arch/x86/kvm/../../../virt/kvm/member.c",
                                        "arch/x86/kvm/own.c"}));
    CompileUnitIndex index = CompileUnitIndex::scan(tree / "vmlinux", tree / "modules", ".ko");
    EXPECT_EQ(index.binary_of("virt/kvm/member.o"), "kvm.ko");
    EXPECT_EQ(index.goals(),
              (std::map<std::string, std::string>{
                  {"virt/kvm/member.o", "arch/x86/kvm/../../../virt/kvm/member.o"}}));
    index.save(tree / "units.tsv");
    CompileUnitIndex loaded = CompileUnitIndex::load(tree / "units.tsv");
    EXPECT_EQ(loaded.goals(), index.goals());
    EXPECT_EQ(loaded.binary_of("virt/kvm/member.o"), "kvm.ko");
    EXPECT_EQ(loaded.binary_of("arch/x86/kvm/own.o"), "kvm.ko");
    EXPECT_EQ(loaded.binary_of("init/main.o"), "vmlinux");
}

TEST(KpatchBuildStock, CompileUnitsOfARealObject) {
    TempTree tree;
    tree.write("dir/unit.c", "int unit_fn(void) { return 1; }\n");
    std::string cmd = "cd " + tree.root().string() + " && gcc -g -c -o dir/unit.o dir/unit.c";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(compile_unit_names(tree / "dir/unit.o"), std::vector<std::string>{"dir/unit.c"});
    tree.write("nodebug.c", "int f(void) { return 0; }\n");
    cmd = "cd " + tree.root().string() + " && gcc -c -o nodebug.o nodebug.c";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_THROW(compile_unit_names(tree / "nodebug.o"), kpp::Error);
}

TEST(KpatchBuildStock, CompileUnitIndexRoundTripAndParents) {
    TempTree tree;
    CompileUnitIndex index;
    index.add("fs/proc/meminfo.o", "vmlinux");
    index.add("fs/binfmt_misc.o", "kernel/fs/binfmt_misc.ko");
    index.add("lib/shared.o", "kernel/a.ko");
    index.add("lib/shared.o", "kernel/b.ko");
    index.save(tree / "units.tsv");
    CompileUnitIndex loaded = CompileUnitIndex::load(tree / "units.tsv");
    EXPECT_EQ(loaded.size(), 3u);
    EXPECT_EQ(loaded.binary_of("fs/proc/meminfo.o"), "vmlinux");
    EXPECT_EQ(loaded.binary_of("fs/binfmt_misc.o"), "kernel/fs/binfmt_misc.ko");
    EXPECT_EQ(loaded.binary_of("fs/none.o"), "");
    EXPECT_THROW(loaded.binary_of("lib/shared.o"), kpp::Error); // two parents: refused
    tree.write("bad.tsv", "no tab here\n");
    EXPECT_THROW(CompileUnitIndex::load(tree / "bad.tsv"), kpp::Error);
}

TEST(KpatchBuildStock, HeaderDependenciesRoundTrip) {
    TempTree tree;
    HeaderDependencies deps;
    deps.add("fs/proc/meminfo.o",
             {"fs/proc/meminfo.c", "include/linux/mm.h", "fs/proc/internal.h"});
    deps.add("mm/vmscan.o", {"mm/vmscan.c", "include/linux/mm.h"});
    deps.save(tree / "deps.txt");
    HeaderDependencies loaded = HeaderDependencies::load(tree / "deps.txt");
    const std::vector<std::string> both = {"fs/proc/meminfo.o", "mm/vmscan.o"};
    EXPECT_EQ(loaded.objects_using("include/linux/mm.h", both), both);
    EXPECT_EQ(loaded.objects_using("include/linux/mm.h", {"mm/vmscan.o"}),
              std::vector<std::string>{"mm/vmscan.o"});
    EXPECT_EQ(loaded.objects_using("fs/proc/internal.h", both),
              std::vector<std::string>{"fs/proc/meminfo.o"});
    EXPECT_EQ(loaded.objects_using("include/linux/none.h", both), std::vector<std::string>{});
    EXPECT_TRUE(loaded.scanned("mm/vmscan.o"));
    EXPECT_FALSE(loaded.scanned("drivers/odd.o"));
    // A candidate never scanned is the caller's mistake, not an answer.
    EXPECT_THROW(loaded.objects_using("include/linux/mm.h", {"drivers/other.o"}), kpp::Error);
    // A unit that could not be scanned might read anything: no answer when
    // it is a candidate, and it does not matter when it is not.
    loaded.add_unscanned("drivers/odd.o");
    loaded.save(tree / "deps2.txt");
    HeaderDependencies reloaded = HeaderDependencies::load(tree / "deps2.txt");
    EXPECT_TRUE(reloaded.scanned("drivers/odd.o"));
    EXPECT_EQ(reloaded.objects_using("include/linux/mm.h", {"mm/vmscan.o", "drivers/odd.o"}),
              std::nullopt);
    EXPECT_EQ(reloaded.objects_using("include/linux/mm.h", {"mm/vmscan.o"}),
              std::vector<std::string>{"mm/vmscan.o"});
    tree.write("bad.txt", "U x 7\n");
    EXPECT_THROW(HeaderDependencies::load(tree / "bad.txt"), kpp::Error);
}

TEST(KpatchBuildStock, PreprocessTargetFollowsTheSource) {
    TempTree tree;
    tree.write("fs/a.c", "");
    tree.write("arch/x86/b.S", "");
    EXPECT_EQ(preprocess_target(tree.root(), "fs/a.o"), "fs/a.i");
    EXPECT_EQ(preprocess_target(tree.root(), "arch/x86/b.o"), "arch/x86/b.s");
    EXPECT_EQ(preprocess_target(tree.root(), "lib/generated.o"), "lib/generated.i");
}

TEST(KpatchBuildStock, UndecidableHeaderFallsBackToEveryObject) {
    ObjectLookup lookup;
    lookup.builds = [](const std::string &object) { return object == "fs/proc/meminfo.o"; };
    lookup.objects_using = [](const std::string &) { return std::nullopt; };
    lookup.all_objects = [] { return std::vector<std::string>{"a.o", "fs/proc/meminfo.o"}; };
    ObjectSelection only_c = select_objects({{"fs/proc/meminfo.c"}}, lookup);
    EXPECT_FALSE(only_c.whole_tree);
    EXPECT_EQ(only_c.objects, std::vector<std::string>{"fs/proc/meminfo.o"});
    ObjectSelection header = select_objects({{"include/linux/mm.h"}}, lookup);
    EXPECT_TRUE(header.whole_tree);
    EXPECT_EQ(header.objects.size(), 2u);
    EXPECT_NE(header.explanations.front().find("could not decide"), std::string::npos);
}

TEST(KpatchBuildStock, HeadersAreLookedUpInOneBatchAfterTheCheapAnswers) {
    ObjectLookup lookup;
    lookup.builds = [](const std::string &object) { return object == "fs/proc/meminfo.o"; };
    lookup.uncompiled = [](const std::string &source) -> std::optional<std::string> {
        return source + ": not compiled";
    };
    std::vector<std::vector<std::string>> batches;
    lookup.prepare_objects_using = [&](const std::vector<std::string> &paths) {
        batches.push_back(paths);
    };
    lookup.objects_using = [](const std::string &path) -> std::optional<std::vector<std::string>> {
        if (path == "fs/proc/internal.h")
            return std::vector<std::string>{"fs/proc/meminfo.o", "fs/proc/base.o"};
        return std::vector<std::string>{};
    };
    lookup.all_objects = []() -> std::vector<std::string> { throw kpp::Error("not expected"); };
    lookup.users_are_complete = true;
    ObjectSelection selection = select_objects({{"fs/proc/meminfo.c"},
                                                {"drivers/input/joydev.c"},
                                                {"fs/proc/internal.h"},
                                                {"drivers/input/joydev_regs.h"}},
                                               lookup);
    // The own object and the uncompiled source never reach the batch.
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0],
              (std::vector<std::string>{"fs/proc/internal.h", "drivers/input/joydev_regs.h"}));
    EXPECT_FALSE(selection.whole_tree);
    EXPECT_EQ(selection.objects, (std::vector<std::string>{"fs/proc/base.o", "fs/proc/meminfo.o"}));
    // A header no unit of a fully known configuration reads changes nothing.
    EXPECT_EQ(selection.uncompiled,
              (std::vector<std::string>{"drivers/input/joydev.c: not compiled",
                                        "drivers/input/joydev_regs.h: no compile unit of this "
                                        "configuration reads it, so the patch to it changes "
                                        "nothing in this kernel"}));
    // A partly built tree cannot say so: every object is a candidate.
    lookup.users_are_complete = false;
    lookup.all_objects = [] { return std::vector<std::string>{"a.o"}; };
    ObjectSelection partial = select_objects({{"drivers/input/joydev_regs.h"}}, lookup);
    EXPECT_TRUE(partial.whole_tree);
    EXPECT_TRUE(partial.uncompiled.empty());
}

TEST(KpatchBuildStock, ParentsFromALookup) {
    ParentIndex parents =
        ParentIndex::from_lookup([](const std::string &object) -> std::optional<Parent> {
            if (object == "fs/binfmt_misc.o")
                return Parent{"binfmt_misc", "/dbg/kernel/fs/binfmt_misc.ko"};
            return std::nullopt;
        });
    EXPECT_TRUE(parents.is_linked("fs/binfmt_misc.o"));
    EXPECT_FALSE(parents.is_linked("arch/x86/boot/a.o"));
    EXPECT_EQ(parents.parent_of("fs/binfmt_misc.o").name, "binfmt_misc");
    EXPECT_THROW(parents.parent_of("arch/x86/boot/a.o"), kpp::Error);
}

TEST(KpatchBuildStock, ArchitectureComesFromTheConfig) {
    EXPECT_EQ(config_arch("CONFIG_64BIT=y\nCONFIG_X86_64=y\n", "x").kbuild_arch, "x86");
    KernelArch arm64 = config_arch("CONFIG_ARM64=y\n# CONFIG_X86_64 is not set\n", "x");
    EXPECT_EQ(arm64.machine, "aarch64");
    EXPECT_EQ(arm64.kbuild_arch, "arm64");
    // Not the release's name: an arm64-named release with an x86_64 config.
    EXPECT_EQ(config_arch("CONFIG_X86_64=y\n", "6.1.0-57-cloud-arm64").machine, "x86_64");
    try {
        config_arch("CONFIG_S390=y\n", "5.14.0-1.el9.s390x");
        FAIL() << "no error";
    } catch (const kpp::Error &e) {
        EXPECT_STREQ(e.what(), "5.14.0-1.el9.s390x is a kernel for an architecture kpatch++ does "
                               "not support (its config sets neither CONFIG_X86_64 nor "
                               "CONFIG_ARM64)");
    }
}

TEST(KpatchBuildStock, CrossBuildVariablesForAnotherArchitectureOnly) {
    EXPECT_EQ(cross_prefix(config_arch("CONFIG_ARM64=y\n", "r"), "aarch64"), "");
    EXPECT_EQ(cross_prefix(config_arch("CONFIG_ARM64=y\n", "r"), "x86_64"), "aarch64-linux-gnu-");
    EXPECT_TRUE(cross_make_variables("CONFIG_X86_64=y\n", "r", "x86_64").empty());
    EXPECT_TRUE(
        cross_make_variables("CONFIG_ARM64=y\nCONFIG_COMPAT_VDSO=y\n", "r", "aarch64").empty());
    // The cross compilers are looked up in PATH: give it fakes.
    auto bin = fs::temp_directory_path() / fmt::format("kpp-cross-{}", getpid());
    fs::create_directories(bin);
    std::string old_path = std::getenv("PATH");
    setenv("PATH", bin.c_str(), 1);
    auto fake = [&](const std::string &name) {
        std::ofstream(bin / name) << "#!/bin/sh\n";
        fs::permissions(bin / name, fs::perms::owner_all);
    };
    const std::string arm64 = "CONFIG_ARM64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_COMPAT_VDSO=y\n";
    try {
        cross_make_variables(arm64, "6.1.0-57-cloud-arm64", "x86_64");
        ADD_FAILURE() << "no error";
    } catch (const kpp::Error &e) {
        EXPECT_STREQ(e.what(), "aarch64-linux-gnu-gcc is not installed (PATH): "
                               "6.1.0-57-cloud-arm64 (a kernel for aarch64 on this x86_64 "
                               "machine) needs it; install the cross compiler (Debian: apt-get "
                               "install gcc-aarch64-linux-gnu)");
    }
    fake("aarch64-linux-gnu-gcc");
    try {
        cross_make_variables(arm64, "6.1.0-57-cloud-arm64", "x86_64");
        ADD_FAILURE() << "no error";
    } catch (const kpp::Error &e) {
        EXPECT_NE(std::string(e.what()).find("arm-linux-gnueabihf-gcc is not installed (PATH): "
                                             "6.1.0-57-cloud-arm64 (a kernel for aarch64 on this "
                                             "x86_64 machine)'s 32-bit vDSO (CONFIG_COMPAT_VDSO)"),
                  std::string::npos)
            << e.what();
    }
    fake("arm-linux-gnueabihf-gcc");
    EXPECT_EQ(cross_make_variables(arm64, "r", "x86_64"),
              (std::vector<std::string>{"ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-",
                                        "CROSS_COMPILE_COMPAT=arm-linux-gnueabihf-"}));
    EXPECT_EQ(cross_make_variables("CONFIG_ARM64=y\nCONFIG_CC_IS_GCC=y\n", "r", "x86_64"),
              (std::vector<std::string>{"ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"}));
    setenv("PATH", old_path.c_str(), 1);
    fs::remove_all(bin);
}

TEST(KpatchBuildStock, BinutilsAsKbuildRunsThem) {
    EXPECT_EQ(kbuild_tool({"KERNELRELEASE=6.1.0-57-cloud-amd64"}, "ld"), "ld");
    EXPECT_EQ(
        kbuild_tool({"ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-", "KERNELRELEASE=r"}, "ld"),
        "aarch64-linux-gnu-ld");
}

// The prepared tree's autoconf.h against the headers package's: a cross
// compiler's CONFIG_CC_VERSION_TEXT is not a difference (the compiler check
// judges it), any other setting is, by name.
TEST(KpatchBuildStock, GeneratedHeadersDifferInSettingsNotInTheCompilerText) {
    const std::string header = "include/generated/autoconf.h";
    const std::string kernel =
        "#define CONFIG_ARM64 1\n#define CONFIG_CC_VERSION_TEXT \"gcc-12 "
        "(Debian 12.2.0-14+deb12u1) 12.2.0\"\n#define CONFIG_CC_CAN_LINK 1\n";
    const std::string cross = "#define CONFIG_ARM64 1\n#define CONFIG_CC_VERSION_TEXT "
                              "\"aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
                              "#define CONFIG_CC_CAN_LINK 1\n";
    EXPECT_EQ(generated_header_difference(header, cross, kernel), std::nullopt);
    const std::string without_libc = "#define CONFIG_ARM64 1\n#define CONFIG_CC_VERSION_TEXT "
                                     "\"aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14) 12.2.0\"\n";
    EXPECT_EQ(generated_header_difference(header, without_libc, kernel),
              "include/generated/autoconf.h (CONFIG_CC_CAN_LINK)");
    EXPECT_EQ(generated_header_difference(header, "#define CONFIG_PAHOLE_VERSION 0\n",
                                          "#define CONFIG_PAHOLE_VERSION 124\n"),
              "include/generated/autoconf.h (CONFIG_PAHOLE_VERSION)");
    EXPECT_EQ(generated_header_difference("include/generated/utsrelease.h",
                                          "#define UTS_RELEASE \"6.1.0\"\n",
                                          "#define UTS_RELEASE \"6.1.0-57-cloud-arm64\"\n"),
              "include/generated/utsrelease.h");
}

TEST(KpatchBuildStock, CompilerFromVersionText) {
    EXPECT_EQ(compiler_of_version_text("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"), "gcc-12");
    EXPECT_EQ(compiler_of_version_text("gcc (GCC) 13.2.1 20231011 (Red Hat 13.2.1-4)"), "gcc");
}

TEST(KpatchBuildStock, CacheDirectoryAndStamp) {
    setenv("KPP_CACHE_DIR", "/somewhere/cache", 1);
    EXPECT_EQ(default_cache_dir(), "/somewhere/cache");
    unsetenv("KPP_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    EXPECT_EQ(default_cache_dir(), "/xdg/kpatchpp");
    unsetenv("XDG_CACHE_HOME");
    distro::StockKernel k;
    k.release = "6.1.0-56-cloud-amd64";
    k.version = "6.1.192-2";
    EXPECT_EQ(release_stamp(k), "6.1.0-56-cloud-amd64\n6.1.192-2\nformat 3\n");
}

// Original objects kept beside a prepared tree: all or nothing, one
// directory per compiler and KCFLAGS.
TEST(KpatchBuildStock, OriginalObjectsAreKeptPerCompilerAndFlags) {
    TempTree tree;
    tree.write("release/tree/fs/a.o", "original a");
    tree.write("release/tree/fs/b.o", "original b");
    OriginalObjects kept(tree / "release/tree", "gcc-12", "-ffunction-sections");
    EXPECT_EQ(kept.dir().parent_path(), tree / "release/originals");
    EXPECT_FALSE(kept.copy_all({"fs/a.o"}, tree / "work/orig"));
    kept.keep(tree / "release/tree", {"fs/a.o"});
    EXPECT_FALSE(kept.copy_all({"fs/a.o", "fs/b.o"}, tree / "work/orig"));
    EXPECT_FALSE(std::filesystem::exists(tree / "work/orig/fs/a.o")); // nothing copied
    EXPECT_TRUE(kept.copy_all({"fs/a.o"}, tree / "work/orig"));
    EXPECT_EQ(tree.read("work/orig/fs/a.o"), "original a");
    OriginalObjects other_flags(tree / "release/tree", "gcc-12", "-O0");
    EXPECT_NE(other_flags.dir(), kept.dir());
    EXPECT_FALSE(other_flags.copy_all({"fs/a.o"}, tree / "work/orig2"));
}
