// kpatch-build --update-to (kpatch-build/update/): the source difference of
// two trees, the plan of which files are rebuilt, the withdrawal of changes
// that depend on refused ones, and the report.
#include "kpatch-build/kbuild/uncompiled_source.h"
#include "kpatch-build/options.h"
#include "kpatch-build/update/source_diff.h"
#include "kpatch-build/update/update_mode.h"
#include "kpatch-build/update/update_plan.h"
#include "kpatch-build/update/update_report.h"
#include "kpatch-build/update/withdrawal.h"
#include "kpatch_build_test_util.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <set>

namespace kpp::build::update {
namespace {

using test::TempTree;
namespace fs = std::filesystem;

std::vector<std::string> paths_of(const std::vector<TouchedFile> &files) {
    std::vector<std::string> paths;
    for (const auto &file : files)
        paths.push_back(file.path);
    return paths;
}

// Two versions of a small kernel tree: fs/a.c compiled and changed, a header
// both compiled units read, a driver the configuration does not build, a
// source only another file includes, a new and a removed unit, kbuild's
// rules and a document.
struct TreePair {
    TempTree older, newer;
    TreePair() {
        for (auto *tree : {&older, &newer}) {
            tree->write("Makefile", "VERSION = 6\n");
            tree->write("fs/Makefile", "obj-y += a.o b.o\nobj-$(CONFIG_OLD) += old.o\n");
            tree->write("fs/b.c", "#include \"fs.h\"\nint b(void) { return 2; }\n");
            tree->write("drivers/Makefile", "obj-$(CONFIG_JOY) += joy.o\n");
            tree->write("lib/tables.c", "#include \"gen_table.c\"\n");
            tree->write("same.txt", "same\n");
        }
        older.write("fs/a.c", "#include \"fs.h\"\nint a(void) { return 1; }\n");
        newer.write("fs/a.c", "#include \"fs.h\"\nint a(void) { return 10; }\n");
        older.write("fs/fs.h", "#define FS 1\n");
        newer.write("fs/fs.h", "#define FS 2\n");
        older.write("drivers/joy.c", "int joy;\n");
        newer.write("drivers/joy.c", "int joy = 1;\n");
        older.write("lib/gen_table.c", "{1},\n");
        newer.write("lib/gen_table.c", "{2},\n");
        older.write("fs/old.c", "int old;\n");
        newer.write("fs/new.c", "int fresh;\n");
        newer.write("fs/Makefile", "obj-y += a.o b.o new.o\n");
        older.write("Documentation/fs.rst", "old\n");
        newer.write("Documentation/fs.rst", "new\n");
    }

    SourceFacts facts(const std::set<std::string> &compiled, const std::string &config) const {
        SourceFacts facts;
        facts.compiled = [compiled](const std::string &object) {
            return compiled.contains(object);
        };
        facts.compiled_in_newer = [this](const std::string &source) {
            return !kbuild_rule_for(newer.root(), source).empty() &&
                   config_symbol_of(kbuild_rule_for(newer.root(), source)).empty();
        };
        facts.uncompiled_reason = [this, config](const std::string &source,
                                                 bool in_newer) -> std::optional<std::string> {
            const fs::path &tree = in_newer ? newer.root() : older.root();
            if (!files_including_any(tree, {source})[source].empty())
                return std::nullopt;
            return not_compiled_reason(tree, source, config);
        };
        return facts;
    }
};

TEST(UpdateOptions, UpdateToTakesNoPatchAndNamesTheModuleAfterTheVersion) {
    CommandLine line =
        parse_command_line({"-a", "6.1.0-53-cloud-amd64", "--update-to", "6.1.190-1"});
    EXPECT_EQ(line.action, Action::Build);
    EXPECT_EQ(line.options.update_to, "6.1.190-1");
    EXPECT_EQ(line.options.name, "livepatch-update-6_1_190-1");
    EXPECT_EQ(parse_command_line({"--update-to", "6.1.190-1", "-n", "fleet"}).options.name,
              "fleet");
    EXPECT_EQ(test::error_of([] {
                  parse_command_line({"--update-to", "6.1.190-1", "x.patch"});
              }),
              "--update-to takes no patch: the update's source difference is the patch");
    EXPECT_EQ(test::error_of([] {
                  parse_command_line({"-s", "/src", "--update-to", "6.1.190-1"});
              }),
              "--update-to works on a distribution kernel (-a REL, default uname -r), not on a "
              "built tree (-s) or an out-of-tree module");
    EXPECT_EQ(test::error_of([] {
                  parse_command_line({"--core", "--update-to", "6.1.190-1"});
              }),
              "--update-to builds a livepatch module; --core (kpatch.ko) patches vmlinux only and "
              "is not supported with it");
}

TEST(UpdateSourceDiff, ListsModifiedCreatedAndDeletedFilesInPathOrder) {
    TreePair trees;
    fs::create_symlink("a.c", trees.older / "fs/link.c");
    fs::create_symlink("b.c", trees.newer / "fs/link.c");
    auto changed = changed_files(trees.older.root(), trees.newer.root());
    EXPECT_EQ(paths_of(changed),
              (std::vector<std::string>{"Documentation/fs.rst", "drivers/joy.c", "fs/Makefile",
                                        "fs/a.c", "fs/fs.h", "fs/link.c", "fs/new.c", "fs/old.c",
                                        "lib/gen_table.c"}));
    auto change_of = [&](const std::string &path) {
        for (const auto &file : changed)
            if (file.path == path)
                return file.change;
        throw std::runtime_error(path + " not listed");
    };
    EXPECT_EQ(change_of("fs/a.c"), FileChange::Modified);
    EXPECT_EQ(change_of("fs/link.c"), FileChange::Modified);
    EXPECT_EQ(change_of("fs/new.c"), FileChange::Created);
    EXPECT_EQ(change_of("fs/old.c"), FileChange::Deleted);
    EXPECT_NE(test::error_of([] { changed_files("/nonexistent-kpb", "/"); }), "");
}

TEST(UpdateSourceDiff, TheUnifiedDiffAppliesToTheOlderTreeAndParsesBack) {
    TreePair trees;
    std::vector<TouchedFile> files = {{"fs/a.c", FileChange::Modified},
                                      {"fs/new.c", FileChange::Created},
                                      {"fs/old.c", FileChange::Deleted}};
    std::string patch = unified_diff(trees.older.root(), trees.newer.root(), files);
    auto parsed = parse_patch_text(patch, "update.patch");
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(parsed[0].path, "fs/a.c");
    EXPECT_EQ(parsed[1].change, FileChange::Created);
    EXPECT_EQ(parsed[2].change, FileChange::Deleted);

    trees.older.write("update.patch", patch);
    auto result = kpp::testing::run({"patch", "-p1", "-d", trees.older.root().string(), "-i",
                                     (trees.older / "update.patch").string()});
    ASSERT_TRUE(result.exited && result.status == 0) << result.out << result.err;
    EXPECT_EQ(trees.older.read("fs/a.c"), trees.newer.read("fs/a.c"));
    EXPECT_EQ(trees.older.read("fs/new.c"), "int fresh;\n");
    EXPECT_FALSE(fs::exists(trees.older / "fs/old.c"));
    EXPECT_EQ(trees.older.read("Documentation/fs.rst"), "old\n"); // not in the patch
}

TEST(UpdatePlan, RolesComeFromWhatTheFileIsToKbuild) {
    EXPECT_EQ(role_of("fs/a.c"), FileRole::Source);
    EXPECT_EQ(role_of("arch/x86/entry/entry_64.S"), FileRole::Source);
    EXPECT_EQ(role_of("include/linux/fs.h"), FileRole::Header);
    EXPECT_EQ(role_of("Makefile"), FileRole::BuildRule);
    EXPECT_EQ(role_of("fs/Kbuild"), FileRole::BuildRule);
    EXPECT_EQ(role_of("fs/Kconfig"), FileRole::BuildRule);
    EXPECT_EQ(role_of("arch/x86/Kconfig.debug"), FileRole::BuildRule);
    EXPECT_EQ(role_of("Documentation/fs.rst"), FileRole::Other);
    EXPECT_EQ(role_of("arch/x86/entry/syscalls/syscall_64.tbl"), FileRole::Other);
}

TEST(UpdatePlan, RebuildsCompiledSourcesHeadersAndIncludedSourcesAndSettlesTheRest) {
    TreePair trees;
    auto changed = changed_files(trees.older.root(), trees.newer.root());
    UpdatePlan plan = plan_update(
        changed, trees.facts({"fs/a.o", "fs/b.o", "fs/old.o", "lib/tables.o"}, "CONFIG_OLD=y\n"));
    EXPECT_EQ(paths_of(plan.rebuild),
              (std::vector<std::string>{"fs/a.c", "fs/fs.h", "lib/gen_table.c"}));
    std::map<std::string, FileAccount> settled;
    for (const auto &file : plan.settled)
        settled[file.path] = file;
    ASSERT_EQ(settled.size(), 5u);
    EXPECT_EQ(settled["Documentation/fs.rst"].outcome, Outcome::Other);
    EXPECT_EQ(settled["fs/Makefile"].outcome, Outcome::BuildRules);
    EXPECT_EQ(settled["drivers/joy.c"].outcome, Outcome::NotCompiled);
    EXPECT_EQ(settled["drivers/joy.c"].reason,
              "drivers/joy.c is not compiled in this kernel's configuration (kbuild: "
              "obj-$(CONFIG_JOY) += joy.o; CONFIG_JOY is not set) and no file includes it: the "
              "patch to it changes nothing");
    EXPECT_EQ(settled["fs/new.c"].outcome, Outcome::Refused);
    EXPECT_EQ(settled["fs/new.c"].refused_as, "new_compile_unit");
    EXPECT_EQ(settled["fs/old.c"].outcome, Outcome::Refused);
    EXPECT_EQ(settled["fs/old.c"].refused_as, "removed_compile_unit");
    EXPECT_EQ(plan.rebuild.size() + plan.settled.size(), changed.size());
}

TEST(UpdatePlan, ANewSourceTheConfigurationDoesNotBuildIsNotCompiled) {
    TreePair trees;
    trees.newer.write("fs/Makefile", "obj-y += a.o b.o\nobj-$(CONFIG_NEW) += new.o\n");
    UpdatePlan plan = plan_update({{"fs/new.c", FileChange::Created}}, trees.facts({}, ""));
    ASSERT_EQ(plan.settled.size(), 1u);
    EXPECT_EQ(plan.settled[0].outcome, Outcome::NotCompiled);
    EXPECT_TRUE(plan.rebuild.empty());
}

TEST(UpdateWithdrawal, FollowsSymbolsAndSharedHeadersToAFixedPoint) {
    std::vector<ObjectDependencies> objects = {
        {"mm/refused.o", true, false, {"include/linux/mm.h"}, {}, {"alloc_thing"}},
        {"fs/calls_refused.o", false, true, {}, {"alloc_thing", "printk"}, {"fs_helper"}},
        {"net/calls_withdrawn.o", false, true, {}, {"fs_helper"}, {"net_fn"}},
        {"kernel/same_header.o", false, true, {"include/linux/mm.h"}, {}, {}},
        {"kernel/other_header.o", false, true, {"include/linux/sched.h"}, {"net_helper"}, {}},
        {"drivers/unchanged.o", false, false, {"include/linux/mm.h"}, {}, {}},
    };
    auto withdrawn = withdraw_dependents(objects);
    EXPECT_EQ(
        withdrawn,
        (std::map<std::string, std::string>{
            {"fs/calls_refused.o",
             "uses alloc_thing of mm/refused.o, whose changes are not applied "
             "(refused)"},
            {"net/calls_withdrawn.o", "uses fs_helper of fs/calls_refused.o, whose changes are not "
                                      "applied (needs other changes)"},
            {"kernel/same_header.o", "reads include/linux/mm.h, whose change is not applied in "
                                     "mm/refused.o (refused)"},
        }));
    objects[0].unavailable = false;
    EXPECT_TRUE(withdraw_dependents(objects).empty());
}

UpdateReport sample_report() {
    UpdateReport report{"6.1.0-53-cloud-amd64", "6.1.187-1", "6.1.190-1", "/out/u.ko", {}, {}};
    report.files = {
        {"fs/a.c", FileChange::Modified, Outcome::Patched, "", "", {"fs/a.o"}},
        {"fs/fs.h",
         FileChange::Modified,
         Outcome::NeedsOther,
         "",
         "its change ...",
         {"fs/a.o", "mm/b.o"}},
        {"mm/b.c",
         FileChange::Modified,
         Outcome::Refused,
         "data_change",
         "mm/b.o: data x "
         "changed",
         {"mm/b.o"}},
        {"mm/c.c", FileChange::Modified, Outcome::Refused, "init_code", "init", {"mm/c.o"}},
        {"mm/d.c", FileChange::Created, Outcome::Refused, "new_compile_unit", "new", {"mm/d.o"}},
        {"Makefile", FileChange::Modified, Outcome::BuildRules, "", "rules", {}},
        {"drivers/joy.c", FileChange::Modified, Outcome::NotCompiled, "", "not set", {}},
        {"lib/x.c", FileChange::Modified, Outcome::NoBinaryChange, "", "same", {"lib/x.o"}},
        {"Documentation/a.rst", FileChange::Modified, Outcome::Other, "", "doc", {}},
    };
    report.objects = {
        {"fs/a.o",
         "vmlinux",
         Outcome::Patched,
         "",
         "",
         {{"a", false, ""}, {"a.cold", false, "a"}, {"a_new", true, ""}}},
        {"mm/b.o", "vmlinux", Outcome::Refused, "data_change", "mm/b.o: data x changed", {}},
    };
    return report;
}

TEST(UpdateReport, TheSummaryCountsEveryFileOnceAndNamesWhatNeedsAReboot) {
    UpdateReport report = sample_report();
    EXPECT_EQ(summary_line(report),
              "update 6.1.187-1 -> 6.1.190-1 on 6.1.0-53-cloud-amd64: 9 changed files: 1 "
              "patched (3 functions in 1 objects), 3 refused (data_change 1, init_code 1, "
              "new_compile_unit 1), 1 need other changes, 1 build rules, 1 not compiled, 1 "
              "without binary change, 1 other; 5 files need a reboot");
    EXPECT_TRUE(needs_reboot(Outcome::Refused));
    EXPECT_TRUE(needs_reboot(Outcome::NeedsOther));
    EXPECT_TRUE(needs_reboot(Outcome::BuildRules));
    EXPECT_FALSE(needs_reboot(Outcome::Patched));
    EXPECT_FALSE(needs_reboot(Outcome::NotCompiled));
    EXPECT_FALSE(needs_reboot(Outcome::NoBinaryChange));
    EXPECT_FALSE(needs_reboot(Outcome::Other));
}

TEST(UpdateReport, RebootLinesNameEachFileUpToTheLimit) {
    EXPECT_EQ(reboot_lines(sample_report(), 20),
              (std::vector<std::string>{"needs a reboot: fs/fs.h (needs_other_changes)",
                                        "needs a reboot: mm/b.c (refused, data_change)",
                                        "needs a reboot: mm/c.c (refused, init_code)",
                                        "needs a reboot: mm/d.c (refused, new_compile_unit)",
                                        "needs a reboot: Makefile (build_rules)"}));
    EXPECT_EQ(reboot_lines(sample_report(), 2),
              (std::vector<std::string>{"needs a reboot: fs/fs.h (needs_other_changes)",
                                        "needs a reboot: mm/b.c (refused, data_change)",
                                        "needs a reboot: 3 more files (see the report)"}));
}

TEST(UpdateReport, JsonCountsAddUpToTheChangedFiles) {
    nlohmann::json json = report_json(sample_report());
    EXPECT_EQ(json["release"], "6.1.0-53-cloud-amd64");
    EXPECT_EQ(json["from_version"], "6.1.187-1");
    EXPECT_EQ(json["to_version"], "6.1.190-1");
    EXPECT_EQ(json["module"], "/out/u.ko");
    EXPECT_EQ(json["notice"], std::string(review_notice()));
    EXPECT_EQ(json["counts"], (nlohmann::json{{"patched", 1},
                                              {"refused", 3},
                                              {"needs_other_changes", 1},
                                              {"build_rules", 1},
                                              {"not_compiled", 1},
                                              {"no_binary_change", 1},
                                              {"other", 1}}));
    size_t sum = 0;
    for (const auto &[outcome, n] : json["counts"].items())
        sum += n.get<size_t>();
    EXPECT_EQ(sum, json["changed_files"].get<size_t>());
    EXPECT_EQ(json["files"].size(), 9u);
    EXPECT_EQ(json["refused_by_reason"],
              (nlohmann::json{{"data_change", 1}, {"init_code", 1}, {"new_compile_unit", 1}}));
    EXPECT_EQ(json["files"][4], (nlohmann::json{{"path", "mm/d.c"},
                                                {"change", "created"},
                                                {"outcome", "refused"},
                                                {"refused_as", "new_compile_unit"},
                                                {"reason", "new"},
                                                {"objects", {"mm/d.o"}}}));
    EXPECT_EQ(json["objects"][0]["functions"],
              (nlohmann::json{{{"name", "a"}, {"new", false}, {"part_of", ""}},
                              {{"name", "a.cold"}, {"new", false}, {"part_of", "a"}},
                              {{"name", "a_new"}, {"new", true}, {"part_of", ""}}}));
}

TEST(UpdateReport, TextHasOneSectionPerOutcomeAndTheNotice) {
    std::string text = report_text(sample_report());
    EXPECT_TRUE(text.starts_with(summary_line(sample_report()) + "\nNOTE: "));
    for (const char *heading :
         {"\nPatched live (1 files):\n  fs/a.c [fs/a.o]\n",
          "\nRefused (needs a reboot) (3 files):\n  mm/b.c [mm/b.o] data_change\n      mm/b.o: "
          "data x changed\n",
          "\nNeeds other changes that are refused (needs a reboot) (1 files):\n",
          "\nBuild rules and configuration (needs a reboot) (1 files):\n",
          "\nNot compiled in this configuration (1 files):\n",
          "\nCompiled, but no object changes (1 files):\n",
          "\nOther files (not a C source, header or build rule) (1 files):\n",
          "      changed function a.cold (part of a)\n", "      new function a_new\n"})
        EXPECT_NE(text.find(heading), std::string::npos) << heading << "\n---\n" << text;
}

// settle_update on real objects: mm/b.o refused, fs/a.o's output calls a
// function mm/b.o defines, lib/c.o shares the changed fs/fs.h with fs/a.o,
// lib/d.o changed on its own.
TEST(UpdateSettle, AccountsEveryFileAndKeepsOnlyIndependentOutputs) {
    kpp::testing::TempDir dir;
    auto compile = [&](const std::string &sub, const std::string &name, const std::string &src) {
        fs::path object = kpp::testing::compile(dir, sub, name, src);
        return object;
    };
    fs::path b_orig = compile("orig/mm", "b", "int b_data = 1; int b_fn(void) { return 1; }\n");
    compile("patched/mm", "b", "int b_data = 2; int b_fn(void) { return 1; }\n");
    fs::path a_out = compile("out/fs", "a", "int b_fn(void); int a(void) { return b_fn() + 1; }\n");
    fs::path c_out = compile("out/lib", "c", "int c(void) { return 3; }\n");
    fs::path d_out = compile("out/lib", "d", "int d(void) { return 4; }\n");
    (void)b_orig;

    UpdateState state;
    state.report = {"REL", "1", "2", "", {}, {}};
    state.rebuild = {{"fs/a.c", FileChange::Modified},
                     {"fs/fs.h", FileChange::Modified},
                     {"lib/c.c", FileChange::Modified},
                     {"lib/d.c", FileChange::Modified},
                     {"mm/b.c", FileChange::Modified}};
    state.compiled = [](const std::string &object) {
        return object == "fs/a.o" || object == "lib/c.o" || object == "lib/d.o" ||
               object == "mm/b.o";
    };
    ObjectsUsing users = [](const std::string &path) -> std::optional<std::vector<std::string>> {
        if (path == "fs/fs.h")
            return std::vector<std::string>{"fs/a.o", "lib/c.o"};
        return std::vector<std::string>{};
    };
    auto outcome = [](const std::string &object, bool changed, const fs::path &output,
                      const std::string &refusal) {
        DiffOutcome o;
        o.job.object = object;
        o.job.parent.name = "vmlinux";
        o.changed = changed;
        o.output = output;
        o.refusal = refusal;
        o.refusal_kind = refusal.empty() ? RefusalKind::Other : RefusalKind::DataChange;
        if (changed)
            o.functions = {{fs::path(object).stem().string(), false, "bytes", ""}};
        return o;
    };
    std::vector<DiffOutcome> outcomes = {
        outcome("fs/a.o", true, a_out, ""),
        outcome("lib/c.o", true, c_out, ""),
        outcome("lib/d.o", true, d_out, ""),
        outcome("mm/b.o", false, "", "mm/b.o: data b_data changed"),
    };
    auto outputs = settle_update(state, outcomes, dir / "orig", dir / "patched", users);
    EXPECT_EQ(outputs, (std::vector<fs::path>{d_out}));

    std::map<std::string, FileAccount> files;
    for (const auto &file : state.report.files)
        files[file.path] = file;
    ASSERT_EQ(files.size(), 5u);
    EXPECT_EQ(files["mm/b.c"].outcome, Outcome::Refused);
    EXPECT_EQ(files["mm/b.c"].refused_as, "data_change");
    EXPECT_EQ(files["fs/a.c"].outcome, Outcome::NeedsOther);
    EXPECT_EQ(files["fs/a.c"].reason,
              "uses b_fn of mm/b.o, whose changes are not applied (refused)");
    // A header change is one change: fs/a.o leaves it out, so lib/c.o must too.
    EXPECT_EQ(files["lib/c.c"].outcome, Outcome::NeedsOther);
    EXPECT_EQ(files["lib/c.c"].reason, "reads fs/fs.h, whose change is not applied in fs/a.o "
                                       "(needs other changes)");
    EXPECT_EQ(files["fs/fs.h"].outcome, Outcome::NeedsOther);
    EXPECT_EQ(files["fs/fs.h"].reason, "its change is not applied in 2 of its 2 objects: fs/a.o "
                                       "(needs_other_changes), lib/c.o (needs_other_changes)");
    EXPECT_EQ(files["lib/d.c"].outcome, Outcome::Patched);
    ASSERT_EQ(state.report.objects.size(), 4u);
    EXPECT_EQ(state.report.objects[2].object, "lib/d.o");
    EXPECT_EQ(state.report.objects[2].functions.size(), 1u);
}

} // namespace
} // namespace kpp::build::update
