// diff_objects() on objects compiled from C snippets at test time:
// correlation of renumbered statics and .cold pieces, the __LINE__ rule,
// and the refusals.
#include "create-diff-object/diff.h"
#include "create-diff-object/dwarf_facts.h"
#include "create-diff-object/type_layouts.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"
#include "testing/diff_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

using namespace kpp;
using namespace kpp::testing;
namespace diff = kpp::diff;

namespace {

class Diff : public DiffFixture {};

// ---- baseline ---------------------------------------------------------------

TEST_F(Diff, IdenticalObjectsAreNoChangeAndWriteNothing) {
    const char *src = "int add(int a, int b) { return a + b; }\n";
    diff::Result r = diff(src, src);
    EXPECT_FALSE(r.changed);
    EXPECT_TRUE(r.functions.empty());
    EXPECT_FALSE(std::filesystem::exists(output));
}

TEST_F(Diff, ChangedFunctionIsTheOnlyOneInTheOutput) {
    diff::Result r = diff("int add(int a, int b) { return a + b; }\n"
                          "int mul(int a, int b) { return a * b; }\n",
                          "int add(int a, int b) { return a + b + 1; }\n"
                          "int mul(int a, int b) { return a * b; }\n");
    ASSERT_TRUE(r.changed);
    ASSERT_EQ(r.functions.size(), 1u);
    EXPECT_EQ(r.functions[0].name, "add");
    EXPECT_FALSE(r.functions[0].is_new);
    auto out = elf::Object::read(output.string());
    EXPECT_NE(out->find_symbol("add"), nullptr);
    EXPECT_EQ(out->find_symbol("mul"), nullptr);
    EXPECT_EQ(r.report["functions"].size(), 1u);
    EXPECT_EQ(r.report["functions"][0]["name"], "add");
    RunResult re = run({"readelf", "-W", "-a", output.string()});
    EXPECT_EQ(re.status, 0);
    EXPECT_EQ(re.err.find("Warning"), std::string::npos) << re.err;
}

// ---- correlation ------------------------------------------------------------

// The patched file adds a function with its own `count` before the changed
// one, so GCC renames foo's count.0 -> count.1 and gives the new one
// count.0. foo in the patch must keep using the kernel's variable (the
// original count.0), and the new function must not be wired to it.
TEST_F(Diff, RenumberedStaticLocalRefersToKernelVariable) {
    diff::Result r = diff("int foo(int x) { static int count; count += x; return count; }\n"
                          "int other(int x) { return x + 1; }\n",
                          "int foo(int x) { static int count; count += x * 2; return count; }\n"
                          "int bar(int x) { static int count; count -= x; return count; }\n"
                          "int other(int x) { return x + 1; }\n");
    // Precondition: GCC did renumber foo's variable.
    auto p = elf::Object::read(patched.string());
    auto foo_targets = targets(*p, ".text.foo");
    ASSERT_TRUE(contains(foo_targets, ".bss.count.1")) << "gcc no longer renumbers; rewrite test";

    ASSERT_TRUE(r.changed);
    EXPECT_TRUE(has_function(r, "foo"));
    auto out = elf::Object::read(output.string());
    auto t = targets(*out, ".text.foo");
    EXPECT_TRUE(contains(t, ".klp.sym.vmlinux.count.0,0"))
        << "foo must refer to the kernel's count.0; it refers to: " << ::testing::PrintToString(t);
    EXPECT_FALSE(contains(t, "count.1")) << "foo got a fresh zeroed copy of its counter";
    auto b = targets(*out, ".text.bar");
    EXPECT_FALSE(contains(b, ".klp.sym.vmlinux.count.0,0"))
        << "the new function bar must not share foo's kernel counter";
}

// A second static of the same name inside the changed function itself: the
// one that existed keeps its kernel copy, the new one travels in the patch.
TEST_F(Diff, NewStaticBesideRenamedOneIsCopiedOldOneReferenced) {
    diff::Result r = diff("int foo(int x) { static int count; count += x; return count; }\n",
                          "int foo(int x) { if (x > 5) { static int count; count++; }\n"
                          "  static int count; count += x * 2; return count; }\n");
    ASSERT_TRUE(r.changed);
    auto out = elf::Object::read(output.string());
    auto t = targets(*out, ".text.foo");
    EXPECT_TRUE(contains(t, ".klp.sym.vmlinux.count.0,0")) << ::testing::PrintToString(t);
    // The new variable is defined in the output, not looked up in the kernel.
    int defined_counts = 0;
    for (const auto &s : out->symbols)
        defined_counts += s->is_object() && s->sec && s->name.starts_with("count.");
    EXPECT_EQ(defined_counts, 1);
}

const char *kColdSource(bool patched) {
    return patched ? R"(
extern void report(const char *msg, int v) __attribute__((cold));
extern int state;
int check(int v) {
    if (__builtin_expect(v < 0, 0)) {
        report("negative", v);
        report("still negative", v * 2);
        return -22;
    }
    return v * 3 + state;
}
)"
                   : R"(
extern void report(const char *msg, int v) __attribute__((cold));
extern int state;
int check(int v) {
    if (__builtin_expect(v < 0, 0)) {
        report("negative", v);
        report("still negative", v * 2);
        return -22;
    }
    return v * 2 + state;
}
)";
}

TEST_F(Diff, ChangeInHotPartIncludesColdPiece) {
    diff::Result r = diff(kColdSource(false), kColdSource(true));
    auto o = elf::Object::read(orig.string());
    ASSERT_NE(o->find_symbol("check.cold"), nullptr) << "gcc did not split check into check.cold";
    ASSERT_TRUE(r.changed);
    EXPECT_TRUE(has_function(r, "check"));
    EXPECT_TRUE(has_function(r, "check.cold"));
    auto out = elf::Object::read(output.string());
    elf::Symbol *cold = out->find_symbol("check.cold");
    ASSERT_NE(cold, nullptr);
    ASSERT_NE(cold->sec, nullptr) << "check.cold must be defined in the patch, not looked up";
    // The hot part's jump into the cold part goes to the patch's copy.
    auto t = targets(*out, ".text.check");
    bool to_copy = std::any_of(t.begin(), t.end(), [&](const std::string &s) {
        return s == cold->sec->name || s == "check.cold";
    });
    EXPECT_TRUE(to_copy) << ::testing::PrintToString(t);
}

// ---- the __LINE__ rule ------------------------------------------------------

const char *kLineSource = R"(
extern void __might_sleep(const char *file, int line, int offsets);
int slow(int x) {
    __might_sleep("unit.c", __LINE__, 0);
    return x + 1;
}
int other(int x) { return x * 3; }
)";

std::string with_blank_line_above(const std::string &src) {
    return "/* a comment added above */\n" + src;
}

TEST_F(Diff, LineNumberOnlyChangeIsNoChange) {
    diff::Result r = diff(kLineSource, with_blank_line_above(kLineSource));
    // Precondition: the bytes do differ.
    auto o = elf::Object::read(orig.string());
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(o->find_section(".text.slow")->data, p->find_section(".text.slow")->data);
    EXPECT_FALSE(r.changed);
    EXPECT_FALSE(has_function(r, "slow"));
    ASSERT_TRUE(r.report.contains("line_number_only"));
    EXPECT_NE(r.report["line_number_only"].dump().find("slow"), std::string::npos)
        << r.report.dump();
}

TEST_F(Diff, LineNumberChangeIgnoredButRealChangeFound) {
    std::string edited = with_blank_line_above(kLineSource);
    edited.replace(edited.find("x * 3"), 5, "x * 5");
    diff::Result r = diff(kLineSource, edited);
    ASSERT_TRUE(r.changed);
    EXPECT_TRUE(has_function(r, "other"));
    EXPECT_FALSE(has_function(r, "slow"));
}

TEST_F(Diff, ChangedLineArgumentToUnknownCallIsAChange) {
    // A line number passed to a function not known to take one is data.
    const char *src = R"(
extern void log_line(const char *file, int line, int offsets);
int slow(int x) {
    log_line("unit.c", __LINE__, 0);
    return x + 1;
}
)";
    diff::Result r = diff(src, with_blank_line_above(src));
    EXPECT_TRUE(r.changed);
    EXPECT_TRUE(has_function(r, "slow"));
}

// ---- refusals ---------------------------------------------------------------

TEST_F(Diff, RefusesChangedInitializedData) {
    expect_refusal(
        [&] {
            diff("int limit = 1;\nint get_limit(void) { return limit; }\n",
                 "int limit = 2;\nint get_limit(void) { return limit; }\n");
        },
        {"limit"}, RefusalKind::DataChange);
    // The refusal is in the report too.
    std::string report = read_file(dir / "report.json");
    EXPECT_NE(report.find("refused"), std::string::npos) << report;
}

TEST_F(Diff, RefusesChangedInitFunction) {
    expect_refusal(
        [&] {
            diff("__attribute__((section(\".init.text\"))) int setup(int a) { return a + 1; }\n"
                 "int keep(int a) { return a; }\n",
                 "__attribute__((section(\".init.text\"))) int setup(int a) { return a + 2; }\n"
                 "int keep(int a) { return a; }\n");
        },
        {"init"}, RefusalKind::InitCode);
}

// A module runs its init code when it is loaded, not at boot: the reason
// says so instead of "already run in the running kernel".
TEST_F(Diff, RefusesChangedModuleInitFunctionSayingWhenItRuns) {
    parent = "foomod";
    expect_refusal(
        [&] {
            diff("__attribute__((section(\".init.text\"))) int setup(int a) { return a + 1; }\n"
                 "int keep(int a) { return a; }\n",
                 "__attribute__((section(\".init.text\"))) int setup(int a) { return a + 2; }\n"
                 "int keep(int a) { return a; }\n");
        },
        {"setup", "foomod runs its init code when the module is loaded", "frees it"},
        RefusalKind::InitCode);
}

TEST_F(Diff, RefusesChangedFunctionWithoutFtraceHook) {
    expect_refusal(
        [&] {
            diff("__attribute__((no_instrument_function)) int raw(int a) { return a + 1; }\n",
                 "__attribute__((no_instrument_function)) int raw(int a) { return a + 2; }\n");
        },
        {"raw", "ftrace"}, RefusalKind::NoFtraceHook);
}

TEST_F(Diff, RefusesFunctionBuiltWithoutPg) {
    std::vector<std::string> flags = {"-O2",      "-ffunction-sections", "-fdata-sections",
                                      "-fno-pic", "-mcmodel=kernel",     "-mno-red-zone"};
    orig = compile(dir, "orig", "nopg", "int raw(int a) { return a + 1; }\n", {}, &flags);
    patched = compile(dir, "patched", "nopg", "int raw(int a) { return a * 7; }\n", {}, &flags);
    diff::Options o;
    o.orig_path = orig.string();
    o.patched_path = patched.string();
    o.parent_name = "vmlinux";
    o.parent_symtab = symtab_of(dir, orig).string();
    o.symvers_path = "/dev/null";
    o.patch_name = "test_unit";
    o.output_path = (dir / "out.o").string();
    o.sizes = corpus_sizes();
    expect_refusal([&] { diff::diff_objects(o); }, {"raw"});
}

// A module's function calling a function its own module exports: the patch
// reaches it through a livepatch symbol of that module (no dependency on the
// module, so the patch loads before it); an export of another module or of
// vmlinux stays a plain symbol the module loader resolves.
// A module's exports, its own or another module's, are reached through
// livepatch relocations naming the exporter, so the patch module depends on
// no module; only vmlinux's exports are linked by name.
TEST_F(Diff, ModuleExportsAreLivepatchSymbolsOfTheExporterVmlinuxsArePlain) {
    const std::string orig_src = "int shared_helper(int a);\n"
                                 "int user(int a) { return shared_helper(a) + 1; }\n";
    std::string patched_src = orig_src;
    patched_src.replace(patched_src.find("+ 1"), 3, "+ 2");
    orig = compile(dir, "orig", "mod", orig_src);
    patched = compile(dir, "patched", "mod", patched_src);
    auto call_target = [&](const std::string &exporter) {
        std::string tag = exporter;
        std::replace(tag.begin(), tag.end(), '/', '_');
        std::filesystem::path symvers = dir / ("symvers." + tag);
        kpp::testing::write_file(symvers, "0x12345678\tshared_helper\t" + exporter +
                                              "\tEXPORT_SYMBOL_GPL\t\n");
        diff::Options o;
        o.orig_path = orig.string();
        o.patched_path = patched.string();
        o.parent_name = "foomod";
        o.parent_symtab = symtab_of(dir, orig).string();
        o.symvers_path = symvers.string();
        o.patch_name = "test_unit";
        o.output_path = (dir / ("out." + tag + ".o")).string();
        o.sizes = corpus_sizes();
        diff::Result r = diff::diff_objects(o);
        EXPECT_TRUE(has_function(r, "user"));
        EXPECT_FALSE(has_function(r, "shared_helper"));
        auto out = elf::Object::read(o.output_path);
        std::vector<std::string> names = targets(*out, ".text.user");
        std::erase_if(names, [](const std::string &n) {
            return n.find("shared_helper") == std::string::npos;
        });
        return names;
    };
    EXPECT_EQ(call_target("foomod"), std::vector<std::string>{".klp.sym.foomod.shared_helper,0"});
    EXPECT_EQ(call_target("drivers/net/other-mod"),
              std::vector<std::string>{".klp.sym.other_mod.shared_helper,0"});
    EXPECT_EQ(call_target("vmlinux"), std::vector<std::string>{"shared_helper"});
}

// A global function the patch makes static (and changes) is the running
// kernel's global function, replaced: not a new copy beside it that
// unchanged data (an ops table) would keep bypassing, and no data change.
TEST_F(Diff, FunctionMadeStaticReplacesTheKernelsGlobalFunction) {
    const std::string ops = "struct ops { int (*fn)(int); };\n";
    diff::Result r =
        diff(ops + "__attribute__((noinline)) int helper(int a) { return a + 1; }\n"
                   "const struct ops my_ops = { .fn = helper };\n"
                   "int user(int a) { return helper(a) * 2; }\n",
             ops + "static __attribute__((noinline)) int helper(int a) { return a + 2; }\n"
                   "const struct ops my_ops = { .fn = helper };\n"
                   "int user(int a) { return helper(a) * 2; }\n");
    ASSERT_TRUE(r.changed);
    auto helper = std::find_if(r.functions.begin(), r.functions.end(),
                               [](const auto &f) { return f.name == "helper"; });
    ASSERT_NE(helper, r.functions.end());
    EXPECT_FALSE(helper->is_new) << "helper must replace the kernel's global helper";
    auto out = elf::Object::read(output.string());
    EXPECT_EQ(out->find_symbol("my_ops"), nullptr) << "my_ops did not change";
    std::vector<std::string> replaced = targets(*out, ".kpatchpp.funcs");
    EXPECT_NE(std::find(replaced.begin(), replaced.end(), "helper"), replaced.end());
}

// The reverse: a static function made global, unchanged, is still the
// kernel's local function, which callers refer to (sympos 0: its name is
// unique), not a new copy in the patch.
TEST_F(Diff, StaticFunctionMadeGlobalIsStillTheKernelsLocalFunction) {
    diff::Result r = diff("static __attribute__((noinline)) int helper(int a) { return a + 1; }\n"
                          "int user(int a) { return helper(a) * 2; }\n",
                          "__attribute__((noinline)) int helper(int a) { return a + 1; }\n"
                          "int user(int a) { return helper(a) * 3; }\n");
    ASSERT_TRUE(r.changed);
    EXPECT_TRUE(has_function(r, "user"));
    EXPECT_FALSE(has_function(r, "helper"));
    auto out = elf::Object::read(output.string());
    std::vector<std::string> names = targets(*out, ".text.user");
    EXPECT_NE(std::find(names.begin(), names.end(), ".klp.sym.vmlinux.helper,0"), names.end())
        << ::testing::PrintToString(names);
}

TEST_F(Diff, UnchangedDataWithChangedUserIsReferencedNotCopied) {
    diff::Result r = diff("int limit = 1;\nint get_limit(void) { return limit; }\n",
                          "int limit = 1;\nint get_limit(void) { return limit + 1; }\n");
    ASSERT_TRUE(r.changed);
    auto out = elf::Object::read(output.string());
    elf::Symbol *limit = out->find_symbol("limit");
    ASSERT_NE(limit, nullptr);
    EXPECT_EQ(limit->sec, nullptr) << "limit must stay the kernel's, not be copied";
}

// ---- special sections -----------------------------------------------------

// A kernel-style table: one entry per call site, pointing into the function
// (like __bug_table's bug_addr), built with inline asm as the kernel does.
constexpr const char *kSiteTable = R"(
#define SITE() asm volatile("1: nop\n.pushsection __bug_table,\"aw\"\n.long 1b - .\n.long 0\n.long 0\n.popsection")
int first(int x) { SITE(); return x + 1; }
int second(int x) { SITE(); return x + 2; }
int third(int x) { SITE(); return x + 3; }
)";

TEST_F(Diff, KeepsOnlyTheTableEntriesOfIncludedFunctions) {
    std::string edited = kSiteTable;
    edited.replace(edited.find("x + 2"), 5, "x + 7");
    diff::Result r = diff(kSiteTable, edited);
    ASSERT_TRUE(has_function(r, "second"));
    auto out = elf::Object::read(output.string());
    elf::Section *table = out->find_section("__bug_table");
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->size(), 12u); // one 12-byte entry of three
    EXPECT_EQ(targets(*out, "__bug_table"), std::vector<std::string>{"second"});
}

TEST_F(Diff, TableEntrySizeThatDoesNotFitIsInferred) {
    // 24 bytes given (another kernel's struct) for a 36-byte table of
    // 12-byte entries.
    std::string edited = kSiteTable;
    edited.replace(edited.find("x + 2"), 5, "x + 7");
    diff::Result r = diff(kSiteTable, edited, {}, "unit", [](diff::StructSizes &s) { s.bug = 24; });
    ASSERT_TRUE(has_function(r, "second"));
    auto out = elf::Object::read(output.string());
    ASSERT_NE(out->find_section("__bug_table"), nullptr);
    EXPECT_EQ(out->find_section("__bug_table")->size(), 12u);
}

// printk's index: a pointer in .printk_index to a per-call-site entry whose
// first field is the format string.
constexpr const char *kPrintkIndex = R"(
struct pi_entry { const char *fmt; const char *func; };
extern int _printk(const char *fmt, ...);
#define PRINTK(f) ({ static const struct pi_entry _entry __attribute__((used)) = { f, __func__ }; \
    static const struct pi_entry *_entry_ptr __attribute__((used, section(".printk_index"))) = &_entry; \
    _printk(f); })
void loud(void) { PRINTK("loud\n"); }
void quiet(void) { PRINTK("quiet\n"); }
)";

TEST_F(Diff, KeepsThePrintkIndexEntryOfTheChangedCallOnly) {
    std::string edited = kPrintkIndex;
    edited.replace(edited.find("PRINTK(\"quiet\\n\")"), 17, "PRINTK(\"hush\\n\")");
    diff::Result r = diff(kPrintkIndex, edited);
    ASSERT_TRUE(has_function(r, "quiet"));
    EXPECT_FALSE(has_function(r, "loud"));
    auto out = elf::Object::read(output.string());
    elf::Section *index = out->find_section(".printk_index");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->size(), 8u); // one pointer of two
}

} // namespace

namespace {

// ---- DWARF ------------------------------------------------------------------

TEST(DwarfFacts, NamesTheFunctionOfEachStaticLocalAndWhatIsInlined) {
    TempDir dir;
    const char *src = R"(
static inline int twice(int x) { return 2 * x; }
int foo(int x) { static int count; count += twice(x); return count; }
int bar(int x) { static int count; count -= x; return count; }
)";
    auto obj = compile(dir, "d", "unit", src, {"-g"});
    diff::DwarfFacts facts = diff::read_dwarf_facts(obj.string());
    auto parsed = elf::Object::read(obj.string());
    std::vector<std::string> owners;
    for (const auto &sym : parsed->symbols)
        if (sym->is_object() && sym->name.starts_with("count."))
            owners.push_back(facts.static_owner.at(sym->name));
    std::sort(owners.begin(), owners.end());
    EXPECT_EQ(owners, (std::vector<std::string>{"bar", "foo"}));
    EXPECT_TRUE(facts.inlined["foo"].contains("twice"));
    EXPECT_FALSE(facts.inlined["bar"].contains("twice"));
}

TEST(DwarfFacts, EmptyWithoutDebugInfo) {
    TempDir dir;
    auto obj = compile(dir, "d", "unit", "int foo(int x) { static int c; return c += x; }\n");
    diff::DwarfFacts facts = diff::read_dwarf_facts(obj.string());
    EXPECT_TRUE(facts.static_owner.empty());
}

} // namespace

namespace {

// ---- the author's ignore markers (kmod/patch/kpatchpp-macros.h) -------------

constexpr const char *kIgnorable = R"(
int counter __attribute__((section(".data.tunable"))) = 1;
int reader(void) { return counter; }
int helper(int x) { return x + 1; }
)";

constexpr const char *kIgnoreMarkers = R"(
static void *ignore_helper __attribute__((used, section(".kpatchpp.ignore.functions"))) = (void *)helper;
static const char *ignore_tunable __attribute__((used, section(".kpatchpp.ignore.sections"))) = ".data.tunable";
)";

TEST_F(Diff, IgnoreMarkersHideFunctionAndSectionChanges) {
    std::string edited = kIgnorable;
    edited.replace(edited.find("= 1"), 3, "= 2");     // data change: refused unless ignored
    edited.replace(edited.find("x + 1"), 5, "x + 9"); // function change: ignored
    edited.replace(edited.find("return counter"), 14, "return counter * 2");
    edited += kIgnoreMarkers;
    diff::Result r = diff(kIgnorable, edited);
    EXPECT_TRUE(has_function(r, "reader"));
    EXPECT_FALSE(has_function(r, "helper"));
    std::string ignored = r.report["ignored"].dump();
    EXPECT_NE(ignored.find("helper"), std::string::npos) << ignored;
    EXPECT_NE(ignored.find(".data.tunable"), std::string::npos) << ignored;
}

// A patch written for kpatch: kpatch's macros fill .kpatch.ignore.* instead.
TEST_F(Diff, KpatchIgnoreSectionNamesAreHonouredToo) {
    std::string edited = kIgnorable;
    edited.replace(edited.find("= 1"), 3, "= 2");
    edited.replace(edited.find("x + 1"), 5, "x + 9");
    edited.replace(edited.find("return counter"), 14, "return counter * 2");
    std::string markers = kIgnoreMarkers;
    for (std::string from : {".kpatchpp.ignore.functions", ".kpatchpp.ignore.sections"})
        markers.replace(markers.find(from), from.size(),
                        ".kpatch." + from.substr(std::string(".kpatchpp.").size()));
    ASSERT_EQ(markers.find(".kpatchpp."), std::string::npos) << markers;
    diff::Result r = diff(kIgnorable, edited + markers);
    EXPECT_TRUE(has_function(r, "reader"));
    EXPECT_FALSE(has_function(r, "helper"));
    std::string ignored = r.report["ignored"].dump();
    EXPECT_NE(ignored.find("helper"), std::string::npos) << ignored;
    EXPECT_NE(ignored.find(".data.tunable"), std::string::npos) << ignored;
}

TEST_F(Diff, WithoutMarkersTheSameDataChangeIsRefused) {
    std::string edited = kIgnorable;
    edited.replace(edited.find("= 1"), 3, "= 2");
    EXPECT_THROW(diff(kIgnorable, edited), kpp::Refusal);
}

} // namespace

namespace {

// ---- Indirect Branch Tracking (CONFIG_X86_KERNEL_IBT) ----------------------

// What the kernel adds with CONFIG_X86_KERNEL_IBT: ENDBR64 first in every
// function that may be reached indirectly, __fentry__ called right after it.
const std::vector<std::string> kIbtFlags = {"-fcf-protection=branch"};

bool starts_with_endbr64(const elf::Object &obj, const std::string &func) {
    elf::Symbol *sym = obj.find_symbol(func);
    if (!sym || !sym->sec)
        return false;
    const auto &d = sym->sec->data;
    uint64_t at = sym->value;
    return at + 4 <= d.size() && d[at] == 0xf3 && d[at + 1] == 0x0f && d[at + 2] == 0x1e &&
           d[at + 3] == 0xfa;
}

TEST_F(Diff, IbtFunctionWithFentryAfterEndbrIsPatchedWithItsEndbr) {
    diff::Result r = diff("int add(int a, int b) { return a + b; }\n",
                          "int add(int a, int b) { return a + b + 1; }\n", kIbtFlags);
    ASSERT_TRUE(has_function(r, "add"));
    ASSERT_TRUE(starts_with_endbr64(*elf::Object::read(orig.string()), "add"))
        << "gcc did not put ENDBR64 first: the test does not test IBT code";
    auto out = elf::Object::read(output.string());
    EXPECT_TRUE(starts_with_endbr64(*out, "add"));
    bool fentry_after_endbr = false;
    for (const auto &rel : out->find_symbol("add")->sec->rela->relocs)
        fentry_after_endbr |= rel.offset == 5 && rel.sym->name == "__fentry__";
    EXPECT_TRUE(fentry_after_endbr);
}

// The ftrace call is only ever first or right after ENDBR64: a call to
// __fentry__ behind any other 4-byte instruction is not ftrace's hook.
std::string fentry_behind(const std::string &first_insn, int value) {
    return "asm(\".pushsection .text.odd,\\\"ax\\\",@progbits\\n\"\n"
           "    \".globl odd\\n.type odd,@function\\nodd:\\n\"\n"
           "    \"" +
           first_insn + "\\ncall __fentry__\\nmovl $" + std::to_string(value) +
           ", %eax\\nret\\n.size odd, .-odd\\n.popsection\");\n";
}

// nopl 0x0(%rax) with an 8-bit displacement: 4 bytes, like ENDBR64.
const std::string kNop4 = ".byte 0x0f, 0x1f, 0x40, 0x00";

TEST_F(Diff, FentryCallMustFollowEndbrOrBeFirst) {
    diff::Result r = diff(fentry_behind("endbr64", 1), fentry_behind("endbr64", 2));
    EXPECT_TRUE(has_function(r, "odd"));
    expect_refusal([&] { diff(fentry_behind(kNop4, 1), fentry_behind(kNop4, 2)); },
                   {"odd", "ftrace"});
}

// objtool's seal list for a module: one ENDBR per function it saw no one
// take the address of. In the patch module, `changed` is pointed at by the
// patch's function table and `callback` by new code: neither may be sealed.
constexpr const char *kSealedSites = R"(
__attribute__((noinline)) int helper(int x) { return x * 3; }
int changed(int x) { return helper(x) + 1; }
asm(".pushsection .ibt_endbr_seal,\"a\"\n.long helper - .\n.long changed - .\n.popsection");
)";

TEST_F(Diff, IbtEndbrSealEntriesAreNeverCopied) {
    std::string edited = kSealedSites;
    edited.replace(edited.find("helper(x) + 1"), 13, "apply(callback, x)");
    edited.insert(0, "static __attribute__((noinline)) int callback(int x) { return x - 1; }\n"
                     "extern int apply(int (*fn)(int), int x);\n");
    edited +=
        "asm(\".pushsection .ibt_endbr_seal,\\\"a\\\"\\n.long callback - .\\n.popsection\");\n";
    diff::Result r = diff(kSealedSites, edited, kIbtFlags);
    ASSERT_TRUE(has_function(r, "changed"));
    ASSERT_TRUE(has_function(r, "callback"));
    ASSERT_NE(elf::Object::read(patched.string())->find_section(".ibt_endbr_seal"), nullptr);
    auto out = elf::Object::read(output.string());
    EXPECT_EQ(out->find_section(".ibt_endbr_seal"), nullptr);
    EXPECT_EQ(out->find_section(".rela.ibt_endbr_seal"), nullptr);
    EXPECT_TRUE(starts_with_endbr64(*out, "changed"));
    EXPECT_TRUE(starts_with_endbr64(*out, "callback"));
}

// A running kernel made of one object: `ld` resolves its .ibt_endbr_seal
// into the self-relative offsets vmlinux carries. `sealed` is in the list
// (nothing took its address), `open` is not.
constexpr const char *kSealedKernel = R"(
extern int apply(int (*fn)(int), int x);
__attribute__((noinline)) int sealed(int x) { return x * 3; }
__attribute__((noinline)) int open(int x) { return x * 5; }
int user(int x) { return sealed(x) + open(x); }
asm(".pushsection .ibt_endbr_seal,\"a\"\n.long sealed - .\n.popsection");
)";

class SealedKernel : public Diff {
  protected:
    // Diffs kSealedKernel against it with `user`'s body replaced.
    diff::Result diff_user(const std::string &body) {
        std::string edited = kSealedKernel;
        edited.replace(edited.find("return sealed(x) + open(x);"), 27, body);
        orig = compile(dir, "orig", "kernel", kSealedKernel, kIbtFlags);
        patched = compile(dir, "patched", "kernel", edited, kIbtFlags);
        std::filesystem::path vmlinux = dir / "vmlinux";
        RunResult ld = run({"ld", "-o", vmlinux.string(), "-e", "0",
                            "--unresolved-symbols=ignore-all", "-z", "noexecstack", orig.string()});
        if (!ld.exited || ld.status != 0)
            throw std::runtime_error("ld failed: " + ld.err);
        diff::Options o;
        o.orig_path = orig.string();
        o.patched_path = patched.string();
        o.parent_name = "vmlinux";
        o.parent_symtab = vmlinux.string();
        o.symvers_path = "/dev/null";
        o.patch_name = "test_unit";
        o.output_path = (dir / "out.o").string();
        o.sizes = corpus_sizes();
        return diff::diff_objects(o);
    }
};

TEST_F(SealedKernel, RefusesAPointerToAFunctionTheKernelSealed) {
    expect_refusal([&] { diff_user("return apply(sealed, x);"); },
                   {"user", "takes the address of sealed", "Missing ENDBR"});
}

TEST_F(SealedKernel, CallsToSealedFunctionsAndPointersToOthersAreFine) {
    EXPECT_TRUE(has_function(diff_user("return sealed(x) + open(x) + 1;"), "user"));
    EXPECT_TRUE(has_function(diff_user("return apply(open, x) + sealed(x);"), "user"));
}

} // namespace

namespace {

// ---- type layouts -----------------------------------------------------------
// Objects that other code (the rest of the kernel, instances allocated
// before the patch) uses with the old layout: a patch that changes the
// layout is refused; the DWARF of both objects says so (-g).

constexpr const char *kEntry = R"(
struct entry { struct entry *next; long cookie; };
typedef struct { int a; int b; } pair_t;
union word { long l; char c[8]; };
void fill(struct entry *e, pair_t *p, union word *w) { e->cookie = 1; p->a = 2; w->l = 3; }
)";

std::string edit(std::string src, const std::string &from, const std::string &to) {
    src.replace(src.find(from), from.size(), to);
    return src;
}

TEST_F(Diff, RefusesStructMemberAdded) {
    expect_refusal(
        [&] {
            diff(kEntry,
                 edit(edit(kEntry, "long cookie; }", "long cookie; long stamp; }"),
                      "e->cookie = 1;", "e->cookie = 1; e->stamp = 5;"),
                 {"-g"});
        },
        {"unit.o: struct entry changed layout (size 16 -> 24; member stamp added)",
         "shadow variable"});
}

TEST_F(Diff, RefusesTypedefAndUnionLayoutChanges) {
    expect_refusal(
        [&] { diff(kEntry, edit(kEntry, "int a; int b;", "int b; int a;"), {"-g"}); },
        {"pair_t changed layout (member b moved from byte 4 to byte 0; member a moved from "
         "byte 0 to byte 4)"});
    expect_refusal(
        [&] {
            diff(kEntry,
                 edit(edit(kEntry, "char c[8];", "char c[16];"), "w->l = 3;", "w->c[9] = 3;"),
                 {"-g"});
        },
        {"union word changed layout (size 8 -> 16; member c resized)"});
}

TEST_F(Diff, AcceptsNewTypesAndUnchangedLayouts) {
    // A type only the patched object has is new: nothing in the running
    // kernel uses it yet.
    std::string with_extra =
        edit(kEntry, "void fill(", "struct extra { int x; };\nstatic struct extra ex;\nvoid fill(");
    diff::Result r = diff(kEntry, edit(with_extra, "w->l = 3;", "w->l = 3; ex.x++;"), {"-g"});
    EXPECT_TRUE(has_function(r, "fill"));
}

TEST(TypeLayouts, DescribesRemovedAndResizedMembers) {
    diff::TypeLayout before{16, {{"a", 0, 64}, {"b", 64, 32}, {"gone", 96, 32}}};
    diff::TypeLayout after{16, {{"a", 0, 64}, {"b", 64, 64}}};
    EXPECT_EQ(diff::describe_layout_change(before, after), "member b resized; member gone removed");
    EXPECT_EQ(diff::describe_layout_change(before, before), "");
    diff::TypeLayout bits{4, {{"flag", 3, 1}}}, moved{4, {{"flag", 5, 1}}};
    EXPECT_EQ(diff::describe_layout_change(bits, moved), "member flag moved from bit 3 to bit 5");
}

} // namespace
