// The include graph (kpatch-build/kbuild/include_graph.h): which compile
// units might read a file, from #include lines alone. Its answer must be a
// superset of what the preprocessor opens; these trees pin each rule.
#include "kpatch-build/kbuild/include_graph.h"
#include "kpatch_build_test_util.h"

#include <gtest/gtest.h>

using namespace kpp::build;
using kpp::build::test::TempTree;
using Objects = std::vector<std::string>;

TEST(IncludeGraph, DirectivesOfAText) {
    auto found = include_directives("#include <linux/fs.h>\n"
                                    "  #  include \"local.h\" // comment\n"
                                    "#include_next <asm/io.h>\n"
                                    "#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n"
                                    "#define X 1\n"
                                    "int include;\n");
    ASSERT_EQ(found.size(), 4u);
    EXPECT_EQ(found[0].kind, IncludeDirective::Kind::Angle);
    EXPECT_EQ(found[0].name, "linux/fs.h");
    EXPECT_EQ(found[1].kind, IncludeDirective::Kind::Quoted);
    EXPECT_EQ(found[1].name, "local.h");
    EXPECT_EQ(found[2].name, "asm/io.h");
    EXPECT_EQ(found[3].kind, IncludeDirective::Kind::Computed);
    EXPECT_EQ(found[3].name, "TRACE_INCLUDE");
}

// A small prepared tree: arch/x86 is the configured architecture (it has
// include/generated), arch/arm is not.
class IncludeGraphTree : public ::testing::Test {
  protected:
    void SetUp() override {
        tree.write("Makefile", "LINUXINCLUDE := -include $(srctree)/include/linux/kconfig.h\n");
        tree.write("include/linux/kconfig.h", "#include <generated/autoconf.h>\n");
        tree.write("include/generated/autoconf.h", "#define CONFIG_X 1\n");
        tree.write("arch/x86/include/generated/asm/rwonce.h", "");
        tree.write("include/linux/fs.h", "#include <linux/types.h>\n#include <asm/io.h>\n");
        tree.write("include/linux/types.h", "");
        tree.write("arch/x86/include/asm/io.h", "#include <linux/x86only.h>\n");
        tree.write("arch/arm/include/asm/io.h", "#include <linux/armonly.h>\n");
        tree.write("include/linux/x86only.h", "");
        tree.write("include/linux/armonly.h", "");
        tree.write("fs/a.c", "#include <linux/fs.h>\n#include \"internal.h\"\n");
        tree.write("fs/internal.h", "");
        tree.write("mm/internal.h", "");
        tree.write("mm/b.c", "#include \"internal.h\"\n");
        tree.write("drivers/c/c.c", "#include \"c_regs.h\"\n");
        // drivers/c/Makefile adds -I for its header directory.
        tree.write("drivers/c/Makefile", "ccflags-y += -I$(src)/include\nobj-y += c.o\n");
        tree.write("drivers/c/include/c_regs.h", "#include <linux/types.h>\n");
    }

    IncludeGraph scan(const Objects &objects) {
        return IncludeGraph::scan(tree.root(), objects, {});
    }

    TempTree tree;
};

TEST_F(IncludeGraphTree, FollowsIncludesTransitively) {
    auto graph = scan({"fs/a.o", "mm/b.o", "drivers/c/c.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/fs.h"), Objects{"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("arch/x86/include/asm/io.h"), Objects{"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/x86only.h"), Objects{"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/types.h"),
              (Objects{"drivers/c/c.o", "fs/a.o"}));
    EXPECT_EQ(graph.objects_possibly_reading("fs/a.c"), Objects{"fs/a.o"});
    EXPECT_TRUE(graph.opaque_objects().empty());
}

TEST_F(IncludeGraphTree, QuotedNameBesideTheFileIsTheOnlyOneOpened) {
    auto graph = scan({"fs/a.o", "mm/b.o"});
    EXPECT_EQ(graph.objects_possibly_reading("fs/internal.h"), Objects{"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("mm/internal.h"), Objects{"mm/b.o"});
}

TEST_F(IncludeGraphTree, NameNotBesideStandsForEveryFileEndingWithIt) {
    // c_regs.h is found through a Makefile's -I: any file ending with the
    // name is a candidate.
    auto graph = scan({"drivers/c/c.o"});
    EXPECT_EQ(graph.objects_possibly_reading("drivers/c/include/c_regs.h"),
              Objects{"drivers/c/c.o"});
}

TEST_F(IncludeGraphTree, OtherArchitecturesAreNotOnTheIncludePath) {
    auto graph = scan({"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/armonly.h"), Objects{});
}

TEST_F(IncludeGraphTree, ForcedIncludesReachEveryUnit) {
    auto graph = scan({"fs/a.o", "mm/b.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/generated/autoconf.h"),
              (Objects{"fs/a.o", "mm/b.o"}));
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/kconfig.h"),
              (Objects{"fs/a.o", "mm/b.o"}));
}

TEST_F(IncludeGraphTree, ToolsIsReachedOnlyThroughADirectoryAMakefileNames) {
    tree.write("tools/include/linux/types.h", "#include <linux/toolsonly.h>\n");
    tree.write("tools/include/linux/toolsonly.h", "");
    tree.write("tools/lib/bpf/skel.h", "");
    tree.write("kernel/bpf/Makefile", "LIBBPF_INCLUDE = $(srctree)/tools/lib\n");
    tree.write("kernel/bpf/p.c", "#include <bpf/skel.h>\n#include <linux/types.h>\n");
    auto graph = scan({"kernel/bpf/p.o"});
    EXPECT_EQ(graph.objects_possibly_reading("tools/lib/bpf/skel.h"), Objects{"kernel/bpf/p.o"});
    EXPECT_EQ(graph.objects_possibly_reading("tools/include/linux/toolsonly.h"), Objects{});
}

TEST_F(IncludeGraphTree, GeneratedHeadersMakeTheirReadersAlwaysCandidates) {
    // flask.h is made by the build (its Makefile names it); the unit could
    // read anything through it. "userspace.h" is named by no Makefile: it
    // belongs to another build of shared code and is not opened here.
    tree.write("security/s/Makefile", "$(obj)/flask.h: $(src)/genheaders\nobj-y += s.o t.o\n");
    tree.write("security/s/s.c", "#include \"flask.h\"\n");
    tree.write("security/s/t.c", "#include \"userspace.h\"\n");
    auto graph = scan({"fs/a.o", "security/s/s.o", "security/s/t.o", "lib/gen.o"});
    // lib/gen.o has no source in the tree (kbuild generates it): opaque too.
    EXPECT_EQ(graph.opaque_objects(), (Objects{"lib/gen.o", "security/s/s.o"}));
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/fs.h"),
              (Objects{"fs/a.o", "lib/gen.o", "security/s/s.o"}));
}

TEST_F(IncludeGraphTree, ComputedIncludesFollowTheFileTheyAreDefinedAs) {
    tree.write("include/linux/genl_magic.h", "#include GENL_MAGIC_INCLUDE_FILE\n");
    tree.write("include/linux/drbd_genl_api.h",
               "#define GENL_MAGIC_INCLUDE_FILE <linux/drbd_genl.h>\n"
               "#include <linux/genl_magic.h>\n");
    tree.write("include/linux/drbd_genl.h", "");
    tree.write("drivers/d/d.c", "#include <linux/drbd_genl_api.h>\n");
    // define_trace.h re-includes the event header that named itself.
    tree.write("include/trace/define_trace.h", "#include TRACE_INCLUDE(TRACE_INCLUDE_FILE)\n");
    tree.write("include/trace/events/ev.h",
               "#define TRACE_SYSTEM ev\n#include <trace/define_trace.h>\n");
    tree.write("kernel/e.c", "#include <trace/events/ev.h>\n");
    // A computed include nothing defines as a file is not followed: its
    // readers are candidates for everything.
    tree.write("drivers/u/u.c", "#include UNKNOWN_FILE\n");
    auto graph = scan({"drivers/d/d.o", "kernel/e.o", "drivers/u/u.o"});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/drbd_genl.h"),
              (Objects{"drivers/d/d.o", "drivers/u/u.o"}));
    EXPECT_EQ(graph.objects_possibly_reading("include/trace/events/ev.h"),
              (Objects{"drivers/u/u.o", "kernel/e.o"}));
    EXPECT_EQ(graph.opaque_objects(), Objects{"drivers/u/u.o"});
}

TEST_F(IncludeGraphTree, AUnitBuiltUnderAnotherNameReadsItsRealFile) {
    tree.write("virt/kvm/kvm_main.c", "#include \"async_pf.h\"\n");
    tree.write("virt/kvm/async_pf.h", "");
    tree.write("arch/x86/kvm/x86.c", "");
    const std::string member = "virt/kvm/kvm_main.o";
    auto graph = IncludeGraph::scan(tree.root(), {member, "arch/x86/kvm/x86.o"},
                                    {{member, "arch/x86/kvm/../../../virt/kvm/kvm_main.o"}});
    EXPECT_EQ(graph.objects_possibly_reading("virt/kvm/kvm_main.c"), Objects{member});
    EXPECT_EQ(graph.objects_possibly_reading("virt/kvm/async_pf.h"), Objects{member});
}

TEST_F(IncludeGraphTree, AFileNoUnitReachesHasNoReaders) {
    auto graph = scan({"fs/a.o"});
    EXPECT_EQ(graph.objects_possibly_reading("mm/internal.h"), Objects{});
    EXPECT_EQ(graph.objects_possibly_reading("include/linux/new.h"), Objects{});
}
