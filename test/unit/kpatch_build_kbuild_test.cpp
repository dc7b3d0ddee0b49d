// kbuild .cmd and .mod files: header -> objects, object -> parent.
#include "kpatch-build/kbuild/changed_objects.h"
#include "kpatch-build/kbuild/kbuild_cmd.h"
#include "kpatch-build/kbuild/kbuild_outputs.h"
#include "kpatch-build/kbuild/kbuild_progress.h"
#include "kpatch-build/kbuild/object_build.h"
#include "kpatch-build/kbuild/object_parents.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/util/command.h"
#include "kpatch_build_test_util.h"
#include "libkpp/error.h"

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>

using namespace kpp::build;
using kpp::build::test::TempTree;

namespace {

std::string cmd_text(const std::string &object, const std::string &source,
                     const std::vector<std::string> &deps,
                     const std::string &flags = "-D__KERNEL__") {
    std::string text = "cmd_" + object + " := gcc " + flags + " -c -o " + object + " " + source +
                       "\n\nsource_" + object + " := " + source + "\n\ndeps_" + object + " := \\\n";
    for (const auto &dep : deps)
        text += "  " + dep + " \\\n    $(wildcard include/config/FOO) \\\n";
    text += "\n" + object + ": $(deps_" + object + ")\n\n$(deps_" + object + "):\n";
    return text;
}

void add_object(const TempTree &tree, const std::string &object, const std::string &source,
                const std::vector<std::string> &deps, const std::string &flags = "-D__KERNEL__") {
    tree.write(cmd_file_for(object), cmd_text(object, source, deps, flags));
}

} // namespace

TEST(KpatchBuildKbuild, ParsesCmdFile) {
    auto cmd = parse_kbuild_command(cmd_text("fs/proc/meminfo.o", "fs/proc/meminfo.c",
                                             {"include/linux/mm.h", "include/linux/fs.h"}));
    EXPECT_EQ(cmd.target, "fs/proc/meminfo.o");
    EXPECT_EQ(cmd.source, "fs/proc/meminfo.c");
    EXPECT_EQ(cmd.deps, (std::vector<std::string>{"include/linux/mm.h", "include/linux/fs.h"}));
    EXPECT_TRUE(is_kernel_compile_unit(cmd));
}

TEST(KpatchBuildKbuild, SavedcmdSpellingAndHostObjects) {
    auto cmd = parse_kbuild_command("savedcmd_scripts/x.o := gcc -O2 -c scripts/x.c\n"
                                    "source_scripts/x.o := scripts/x.c\n");
    EXPECT_EQ(cmd.target, "scripts/x.o");
    EXPECT_FALSE(is_kernel_compile_unit(cmd)) << "host objects have no -D__KERNEL__";
}

TEST(KpatchBuildKbuild, CmdFileNames) {
    EXPECT_EQ(cmd_file_for("fs/proc/meminfo.o"), "fs/proc/.meminfo.o.cmd");
    EXPECT_EQ(object_for_cmd_file("fs/proc/.meminfo.o.cmd"), "fs/proc/meminfo.o");
    EXPECT_EQ(object_for_cmd_file("fs/proc/.meminfo.ko.cmd"), "");
    EXPECT_EQ(files_written_by_build("a/b.o"),
              (std::vector<std::string>{"a/b.o", "a/.b.o.cmd", "a/.b.o.d"}));
}

// virt/kvm/ has no Makefile: kvm.ko's builds its members as
// arch/x86/kvm/../../../virt/kvm/*.o, and only that goal makes them.
TEST(KpatchBuildKbuild, ObjectsRecordedUnderAnotherNameAreBuiltUnderIt) {
    TempTree tree;
    const std::string goal = "arch/x86/kvm/../../../virt/kvm/kvm_main.o";
    tree.write(cmd_file_for("virt/kvm/kvm_main.o"),
               cmd_text(goal, "arch/x86/kvm/../../../virt/kvm/kvm_main.c", {}));
    add_object(tree, "fs/proc/meminfo.o", "fs/proc/meminfo.c", {});
    BuildTree build{tree.root(), tree.root(), false, {}, {}};
    build.goals = goals_from_cmd_files(tree.root(),
                                       {"virt/kvm/kvm_main.o", "fs/proc/meminfo.o", "fs/none.o"});
    EXPECT_EQ(build.goals, (std::map<std::string, std::string>{{"virt/kvm/kvm_main.o", goal}}));
    auto argv = object_make_command(build, {{"virt/kvm/kvm_main.o", "fs/proc/meminfo.o"}, {}, 1});
    EXPECT_EQ(std::vector<std::string>(argv.end() - 2, argv.end()),
              (std::vector<std::string>{goal, "fs/proc/meminfo.o"}));
}

TEST(KpatchBuildKbuild, HeaderMapsToEveryObjectIncludingIt) {
    TempTree tree;
    add_object(tree, "fs/proc/meminfo.o", "fs/proc/meminfo.c", {"include/linux/mm.h"});
    add_object(tree, "mm/page_alloc.o", "mm/page_alloc.c",
               {"include/linux/mm.h", "include/linux/gfp.h"});
    add_object(tree, "kernel/fork.o", "kernel/fork.c", {"include/linux/gfp.h"});
    add_object(tree, "scripts/mod/modpost.o", "scripts/mod/modpost.c", {"include/linux/mm.h"},
               "-O2");
    tree.write("fs/binfmt_misc.mod.o", "not a cmd");
    auto index = KbuildIndex::scan(tree.root());
    EXPECT_EQ(index.objects_using("include/linux/mm.h"),
              (std::vector<std::string>{"fs/proc/meminfo.o", "mm/page_alloc.o"}));
    EXPECT_EQ(index.objects_using("include/linux/gfp.h"),
              (std::vector<std::string>{"kernel/fork.o", "mm/page_alloc.o"}));
    EXPECT_TRUE(index.objects_using("include/linux/none.h").empty());
    EXPECT_EQ(index.all_objects().size(), 3u);
}

TEST(KpatchBuildKbuild, SelectsObjectsForSourcesAndHeaders) {
    TempTree tree;
    add_object(tree, "fs/proc/meminfo.o", "fs/proc/meminfo.c", {"include/linux/mm.h"});
    add_object(tree, "mm/page_alloc.o", "mm/page_alloc.c", {"include/linux/mm.h", "mm/internal.h"});
    int scans = 0;
    std::optional<KbuildIndex> index;
    auto load = [&]() -> const KbuildIndex & {
        if (!index) {
            ++scans;
            index = KbuildIndex::scan(tree.root());
        }
        return *index;
    };
    auto only_c = select_objects({{"fs/proc/meminfo.c"}}, tree.root(), load);
    EXPECT_EQ(only_c.objects, std::vector<std::string>{"fs/proc/meminfo.o"});
    EXPECT_FALSE(only_c.whole_tree);
    EXPECT_EQ(scans, 0) << "a .c file with its own .cmd needs no tree scan";

    auto header = select_objects({{"mm/internal.h"}, {"fs/proc/meminfo.c"}}, tree.root(), load);
    EXPECT_EQ(header.objects, (std::vector<std::string>{"fs/proc/meminfo.o", "mm/page_alloc.o"}));
    EXPECT_FALSE(header.whole_tree);
}

TEST(KpatchBuildKbuild, UnknownFileFallsBackToWholeTree) {
    TempTree tree;
    add_object(tree, "fs/proc/meminfo.o", "fs/proc/meminfo.c", {});
    add_object(tree, "mm/page_alloc.o", "mm/page_alloc.c", {});
    std::optional<KbuildIndex> index;
    auto load = [&]() -> const KbuildIndex & {
        if (!index)
            index = KbuildIndex::scan(tree.root());
        return *index;
    };
    auto selection = select_objects({{"fs/proc/Makefile"}}, tree.root(), load);
    EXPECT_TRUE(selection.whole_tree);
    EXPECT_EQ(selection.objects.size(), 2u);
    ASSERT_EQ(selection.explanations.size(), 1u);
    EXPECT_NE(selection.explanations[0].find("cannot tell"), std::string::npos);
}

TEST(KpatchBuildParents, ModFileFormats) {
    EXPECT_EQ(parse_mod_file("fs/binfmt_misc.o\n"), std::vector<std::string>{"fs/binfmt_misc.o"});
    EXPECT_EQ(parse_mod_file("fs/ext4/a.o fs/ext4/b.o\n"),
              (std::vector<std::string>{"fs/ext4/a.o", "fs/ext4/b.o"}));
    EXPECT_EQ(parse_modules_order("fs/binfmt_misc.o\nkernel/fs/ext4/ext4.ko\n"),
              (std::vector<std::string>{"fs/binfmt_misc", "fs/ext4/ext4"}));
}

TEST(KpatchBuildParents, ObjectsInModFilesBelongToTheirModule) {
    TempTree tree;
    tree.write("modules.order", "fs/binfmt_misc.o\nfs/ext4/ext4.o\n");
    tree.write("fs/binfmt_misc.mod", "fs/binfmt_misc.o\n");
    tree.write("fs/binfmt_misc.ko", "elf");
    tree.write("fs/ext4/ext4.mod", "fs/ext4/super.o\nfs/ext4/inode.o\n");
    tree.write("fs/ext4/ext4.ko", "elf");
    auto index = ParentIndex::scan(tree.root(), tree / "vmlinux");
    EXPECT_EQ(index.parent_of("fs/binfmt_misc.o"),
              (Parent{"binfmt_misc", tree / "fs/binfmt_misc.ko"}));
    EXPECT_EQ(index.parent_of("fs/ext4/inode.o"), (Parent{"ext4", tree / "fs/ext4/ext4.ko"}));
    EXPECT_EQ(index.parent_of("fs/proc/meminfo.o"), (Parent{"vmlinux", tree / "vmlinux"}));
}

TEST(KpatchBuildParents, DashInModuleNameBecomesUnderscore) {
    TempTree tree;
    tree.write("modules.order", "drivers/x/my-mod.o\n");
    tree.write("drivers/x/my-mod.mod", "drivers/x/a.o\n");
    tree.write("drivers/x/my-mod.ko", "elf");
    auto index = ParentIndex::scan(tree.root(), tree / "vmlinux");
    EXPECT_EQ(index.parent_of("drivers/x/a.o").name, "my_mod");
}

TEST(KpatchBuildParents, MissingModFileOrKoIsAnError) {
    TempTree tree;
    tree.write("modules.order", "fs/binfmt_misc.o\n");
    EXPECT_THROW(ParentIndex::scan(tree.root(), tree / "vmlinux"), kpp::Error);
    tree.write("fs/binfmt_misc.mod", "fs/binfmt_misc.o\n");
    auto index = ParentIndex::scan(tree.root(), tree / "vmlinux");
    EXPECT_THROW(index.parent_of("fs/binfmt_misc.o"), kpp::Error) << "no .ko built";
}

TEST(KpatchBuildParents, OnlyObjectsInVmlinuxOrAModuleAreLinked) {
    TempTree tree;
    tree.write("init/main.o", "x");
    tree.write("fs/proc/meminfo.o", "x");
    // A thin archive as kbuild makes vmlinux.a (members are paths, not copies).
    kpp::build::capture_output(
        {"sh", "-c",
         "cd '" + tree.root().string() + "' && ar cDPrST vmlinux.a init/main.o fs/proc/meminfo.o"});
    tree.write("modules.order", "fs/binfmt_misc.o\n");
    tree.write("fs/binfmt_misc.mod", "fs/binfmt_misc.o\n");
    tree.write("fs/binfmt_misc.ko", "elf");
    auto index = ParentIndex::scan(tree.root(), tree / "vmlinux");
    EXPECT_TRUE(index.is_linked("init/main.o"));
    EXPECT_TRUE(index.is_linked("fs/proc/meminfo.o"));
    EXPECT_TRUE(index.is_linked("fs/binfmt_misc.o"));
    EXPECT_FALSE(index.is_linked("arch/x86/boot/a20.o"));
    EXPECT_FALSE(index.is_linked("scripts/mod/empty.o"));
}

TEST(KpatchBuildParents, WithoutVmlinuxArchiveEverythingCounts) {
    TempTree tree;
    auto index = ParentIndex::scan(tree.root(), tree / "vmlinux");
    EXPECT_TRUE(index.is_linked("arch/x86/boot/a20.o"));
}

TEST(KpatchBuildOutputs, ProtectsGeneratedFilesOfTheObjectAndItsGeneratedInputs) {
    TempTree tree;
    // vdso-image-64.o is compiled from a generated .c that embeds vdso64.so.
    const std::string dir = "arch/x86/entry/vdso/";
    add_object(tree, dir + "vdso-image-64.o", dir + "vdso-image-64.c",
               {"arch/x86/realmode/rm/realmode.bin"});
    tree.write(dir + "vdso-image-64.o", "o");
    tree.write(dir + "vdso-image-64.c", "generated");
    tree.write(dir + ".vdso-image-64.c.cmd", "cmd_x := vdso2c");
    tree.write(dir + "vdso64.so", "so");
    tree.write(dir + ".vdso64.so.cmd", "cmd_x := ld");
    tree.write(dir + "vdso.lds.S", "a source: no .cmd, not ours to touch");
    tree.write("arch/x86/realmode/rm/realmode.bin", "bin");
    tree.write("arch/x86/realmode/rm/.realmode.bin.cmd", "cmd_x := objcopy");
    tree.write("arch/x86/realmode/rm/wakeup.h", "source");
    tree.write("fs/proc/meminfo.o", "unrelated directory");
    tree.write("fs/proc/.meminfo.o.cmd", "cmd_x := gcc");
    auto linked = [](const std::string &) { return true; };
    auto files = files_a_rebuild_may_write(tree.root(), {dir + "vdso-image-64.o"}, linked);
    auto has = [&](const std::string &f) {
        return std::find(files.begin(), files.end(), f) != files.end();
    };
    EXPECT_TRUE(has(dir + "vdso-image-64.o"));
    EXPECT_TRUE(has(dir + ".vdso-image-64.o.cmd"));
    EXPECT_TRUE(has(dir + ".vdso-image-64.o.d")) << "absent now, but an interrupted gcc leaves it";
    EXPECT_TRUE(has(dir + "vdso-image-64.c"));
    EXPECT_TRUE(has(dir + "vdso64.so"));
    EXPECT_TRUE(has(dir + ".vdso64.so.cmd"));
    EXPECT_TRUE(has("arch/x86/realmode/rm/realmode.bin"));
    EXPECT_FALSE(has(dir + "vdso.lds.S"));
    EXPECT_FALSE(has("arch/x86/realmode/rm/wakeup.h"));
    EXPECT_FALSE(has("fs/proc/meminfo.o"));
}

TEST(KpatchBuildOutputs, ProtectsHelperSubdirectoriesThatLinkNothing) {
    TempTree tree;
    add_object(tree, "arch/x86/realmode/rmpiggy.o", "arch/x86/realmode/rmpiggy.S", {});
    tree.write("arch/x86/realmode/rmpiggy.o", "o");
    tree.write("arch/x86/realmode/rm/trampoline_64.o", "o");
    tree.write("arch/x86/realmode/rm/.trampoline_64.o.cmd", "cmd_x := gcc");
    tree.write("arch/x86/realmode/rm/realmode.bin", "bin");
    tree.write("arch/x86/realmode/rm/.realmode.bin.cmd", "cmd_x := objcopy");
    tree.write("arch/x86/realmode/linked/init.o", "o");
    tree.write("arch/x86/realmode/linked/.init.o.cmd", "cmd_x := gcc");
    auto linked = [](const std::string &object) {
        return object.find("/rm/") == std::string::npos;
    };
    auto files = files_a_rebuild_may_write(tree.root(), {"arch/x86/realmode/rmpiggy.o"}, linked);
    auto has = [&](const std::string &f) {
        return std::find(files.begin(), files.end(), f) != files.end();
    };
    EXPECT_TRUE(has("arch/x86/realmode/rm/realmode.bin"));
    EXPECT_TRUE(has("arch/x86/realmode/rm/trampoline_64.o"));
    EXPECT_FALSE(has("arch/x86/realmode/linked/init.o"))
        << "a directory linked into vmlinux has its own objects";
}

TEST(KbuildProgress, CountsKbuildsTargetLinesInTheLog) {
    EXPECT_TRUE(is_kbuild_target_line("  CC [M]  drivers/net/tun.o"));
    EXPECT_TRUE(is_kbuild_target_line("  CC      fs/proc/meminfo.o"));
    EXPECT_TRUE(is_kbuild_target_line("  CPP     fs/crypto/crypto.i"));
    EXPECT_TRUE(is_kbuild_target_line("  AS      arch/x86/entry/entry_64.o"));
    EXPECT_FALSE(is_kbuild_target_line("  DESCEND objtool"));
    EXPECT_FALSE(is_kbuild_target_line("make[1]: Entering directory"));
    EXPECT_FALSE(is_kbuild_target_line("fs/x.c:3:1: warning: CC unused"));

    TempTree tree;
    tree.write("build.log", "  CC      old/before.o\n"); // before the run: not counted
    Progress progress;
    testing::internal::CaptureStdout();
    {
        KbuildProgressTicker ticker(progress, tree / "build.log", "building", 60,
                                    std::chrono::milliseconds(100));
        std::ofstream log(tree / "build.log", std::ios::app);
        log << "  CC      a.o\n  CC [M]  b.o\n  DESCEND objtool\n  CC      c" << std::flush;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        log << ".o\n" << std::flush;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("building: 2 of 60"), std::string::npos) << out;
    EXPECT_NE(out.find("building: 3 of 60"), std::string::npos) << out;
    EXPECT_EQ(out.find("building: 4"), std::string::npos) << out; // the split line once

    // A short run ticks never.
    testing::internal::CaptureStdout();
    {
        KbuildProgressTicker ticker(progress, tree / "build.log", "short", 3,
                                    std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}
