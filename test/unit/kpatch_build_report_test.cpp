// What kpatch-build prints and records about the diffs.
#include "kpatch-build/diff_report.h"
#include "kpatch-build/util/command.h"

#include <gtest/gtest.h>

using namespace kpp::build;

namespace {

DiffOutcome changed(const std::string &object, std::vector<kpp::diff::FunctionChange> functions) {
    DiffOutcome outcome;
    outcome.job = {object, {"vmlinux", "/src/vmlinux"}};
    outcome.changed = true;
    outcome.functions = std::move(functions);
    return outcome;
}

} // namespace

TEST(KpatchBuildReport, HumanLinesUseFileNamesUnlessAmbiguous) {
    std::vector<DiffOutcome> outcomes = {
        changed("fs/proc/meminfo.o", {{"meminfo_proc_show", false, "bytes"}}),
        changed("kernel/sched/core.o", {{"a", false, "bytes"}}),
        changed("kernel/events/core.o", {{"b", true, "new function"}}),
    };
    DiffOutcome unchanged;
    unchanged.job = {"fs/proc/version.o", {"vmlinux", "/src/vmlinux"}};
    outcomes.push_back(unchanged);
    EXPECT_EQ(describe_changes(outcomes),
              (std::vector<std::string>{"meminfo.o: changed function: meminfo_proc_show",
                                        "kernel/sched/core.o: changed function: a",
                                        "kernel/events/core.o: new function: b"}));
}

TEST(KpatchBuildReport, CombinedReportKeepsEveryObject) {
    DiffOutcome refused;
    refused.job = {"fs/binfmt_misc.o", {"binfmt_misc", "/src/fs/binfmt_misc.ko"}};
    refused.refusal = "binfmt_misc.o: init_misc_binfmt changed in __init";
    auto report = combined_report("lp", {changed("fs/proc/meminfo.o", {}), refused});
    EXPECT_EQ(report["patch_name"], "lp");
    ASSERT_EQ(report["objects"].size(), 2u);
    EXPECT_EQ(report["objects"][1]["parent"], "binfmt_misc");
    EXPECT_EQ(report["objects"][1]["refusal"], refused.refusal);
    EXPECT_FALSE(report["objects"][0].contains("refusal"));
}

TEST(KpatchBuildReport, RefusalsNameTheirObjectOnce) {
    DiffOutcome named, unnamed;
    named.job.object = "fs/proc/cmdline.o";
    named.refusal = "cmdline.o: proc_cmdline_init changed in .init.text";
    unnamed.job.object = "kernel/fork.o";
    unnamed.refusal = "unsupported section";
    EXPECT_EQ(refusal_lines({named, unnamed}),
              (std::vector<std::string>{"cmdline.o: proc_cmdline_init changed in .init.text",
                                        "kernel/fork.o: unsupported section"}));
}

TEST(KpatchBuildCommand, RelevantLinesKeepTheFirstErrorsAndTheTail) {
    std::string output = "  CC a.o\nfoo.c:1:1: error: bad thing\n  CC b.o\n  CC c.o\n"
                         "make[1]: *** [x] Error 1\n  CC d.o\n  CC e.o\n";
    EXPECT_EQ(relevant_lines(output, 5, 2), "  | foo.c:1:1: error: bad thing\n"
                                            "  | make[1]: *** [x] Error 1\n"
                                            "  | ...\n"
                                            "  |   CC d.o\n"
                                            "  |   CC e.o\n");
    EXPECT_EQ(relevant_lines("  CC a.o\n  CC b.o\n", 5, 4), "  |   CC a.o\n  |   CC b.o\n");
}

TEST(KpatchBuildCommand, LongCommandsAreAbbreviated) {
    std::vector<std::string> argv = {"make", "-C", "/src"};
    for (int i = 0; i < 700; ++i)
        argv.push_back("obj" + std::to_string(i) + ".o");
    std::string shown = abbreviated_command(argv, 5);
    EXPECT_EQ(shown, "make -C /src obj0.o obj1.o ... (698 more arguments)");
    EXPECT_EQ(abbreviated_command({"ld", "-r", "-o", "out file.o"}), "ld -r -o 'out file.o'");
}
