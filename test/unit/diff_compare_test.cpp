// What counts as a change, on objects gcc and clang compile at test time:
// compiler-generated constants (switch tables, clang's literals and unnamed
// data, ThinLTO names), relocations into code pieces without symbols
// (.altinstr_aux), line numbers inside strings, section lifetimes from the
// kernel's linker script (.ref.text, .exit.text, .meminit.text) and static
// locals the diff cannot pair.
#include "create-diff-object/names.h"
#include "create-diff-object/same_target.h"
#include "testing/diff_fixture.h"

#include <gtest/gtest.h>

using namespace kpp;
using namespace kpp::testing;
namespace diff = kpp::diff;

namespace {

using Names = std::set<std::string>;

class Compare : public DiffFixture {
  protected:
    // The functions diff_objects() reports, as a set.
    static Names reported(const diff::Result &r) {
        Names names;
        for (const auto &f : r.functions)
            names.insert(f.name);
        return names;
    }

    // Whether the output defines a symbol whose name starts with prefix
    // (a copy of its own rather than a reference to the kernel's).
    bool output_defines(const std::string &prefix) const {
        auto out = elf::Object::read(output.string());
        return std::any_of(out->symbols.begin(), out->symbols.end(),
                           [&](const auto &s) { return s->sec && s->name.starts_with(prefix); });
    }

    std::vector<std::string> line_only() const {
        auto report = nlohmann::json::parse(read_file(dir / "report.json"));
        return report["line_number_only"].get<std::vector<std::string>>();
    }
};

std::string edit(std::string src, const std::string &from, const std::string &to) {
    size_t at = src.find(from);
    if (at == std::string::npos)
        throw std::runtime_error("test source lacks " + from);
    return src.replace(at, from.size(), to);
}

// ---- compiler-generated constants --------------------------------------------

// Values no arithmetic covers, so both compilers build a lookup table.
constexpr const char *kSwitches = R"(
int pick(int x) {
    switch (x) {
    case 0: return 11; case 1: return 2; case 2: return 33;
    case 3: return 4; case 4: return 57; case 5: return 6;
    default: return 0;
    }
}
int other(int x) {
    switch (x) {
    case 0: return 1; case 1: return 7; case 2: return 3;
    case 3: return 9; case 4: return 5; case 5: return 2;
    default: return 0;
    }
}
)";

TEST_F(Compare, ChangedSwitchTableIsTheFunctionsOwnNewCopy) {
    diff::Result r = diff(kSwitches, edit(kSwitches, "return 33", "return 34"));
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(p->find_symbol("CSWTCH.1"), nullptr) << "gcc no longer builds CSWTCH tables here";
    EXPECT_EQ(reported(r), Names{"pick"});
    EXPECT_EQ(output_functions(), Names{"pick"});
    EXPECT_TRUE(output_defines("CSWTCH.")) << "pick must carry its new table";
}

TEST_F(Compare, SwitchTablesRenumberedByANewFunctionAreUnchanged) {
    std::string added = std::string("int first(int x) { switch (x) { case 0: return 8; case 1: "
                                    "return 3; case 2: return 9; case 3: return 1; case 4: "
                                    "return 7; default: return 0; } }\n") +
                        kSwitches;
    diff::Result r = diff(kSwitches, added);
    EXPECT_EQ(reported(r), Names{"first"});
    EXPECT_EQ(output_functions(), Names{"first"});
}

// A table of pointers to strings: its relocations are its contents.
constexpr const char *kStringTable = R"(
const char *mode_name(int m) {
    const char *val;
    switch (m) {
    case 0: val = "cold"; break; case 1: val = "warm"; break;
    case 2: val = "hard"; break; case 3: val = "soft"; break;
    case 4: val = "gpio"; break; default: val = "undefined";
    }
    return val;
}
)";

TEST_F(Compare, SwitchTableOfStringsComparedThroughItsRelocations) {
    diff::Result same = diff(kStringTable, kStringTable);
    EXPECT_FALSE(same.changed);
    diff::Result r = diff(kStringTable, edit(kStringTable, "\"gpio\"", "\"gpio (new)\""));
    EXPECT_EQ(reported(r), Names{"mode_name"});
}

TEST_F(Compare, ClangSwitchTableChangeIsTheFunctionsOwn) {
    diff::Result r = diff_clang(kSwitches, edit(kSwitches, "return 33", "return 34"));
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(p->find_section(".rodata..Lswitch.table.pick"), nullptr)
        << "clang no longer names its switch tables so";
    EXPECT_EQ(reported(r), Names{"pick"});
    EXPECT_EQ(output_functions(), Names{"pick"});
}

// clang keeps a string literal's local symbol (.L.str.N, numbered in file
// order) when the code points inside it.
constexpr const char *kClangStrings = R"(
extern void take(const char *);
void first(void) { take(&"first string"[2]); }
void second(void) { take(&"second string"[3]); }
)";

TEST_F(Compare, ClangStringLiteralsAreComparedByContentNotByLabel) {
    diff::Result r =
        diff_clang(kClangStrings, edit(kClangStrings, "second string", "second strinG"));
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(p->find_symbol(".L.str.1"), nullptr) << "clang no longer keeps .L.str symbols";
    EXPECT_EQ(reported(r), Names{"second"}) << "a changed literal under the same label";
}

TEST_F(Compare, ClangStringLabelsRenumberedByANewLiteralAreUnchanged) {
    diff::Result r =
        diff_clang(kClangStrings, edit(kClangStrings, "take(&\"first string\"[2]);",
                                       "take(&\"new\"[1]); take(&\"first string\"[2]);"));
    EXPECT_EQ(reported(r), Names{"first"});
    EXPECT_EQ(output_functions(), Names{"first"});
}

// clang copies a local aggregate's initializer from .L__const.FUNC.VAR in a
// merge pool (.rodata.cst16).
constexpr const char *kClangConst = R"(
struct s { int a, b, c, d; };
extern void use(struct s *);
void arr(void) { struct s v = { 1, 2, 3, 4 }; use(&v); }
void arr2(void) { struct s v = { 5, 6, 7, 8 }; use(&v); }
)";

TEST_F(Compare, ClangInitializerConstantChangeIsTheFunctionsNotData) {
    diff::Result r = diff_clang(kClangConst, edit(kClangConst, "{ 1, 2, 3, 4 }", "{ 1, 2, 3, 9 }"));
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(p->find_symbol(".L__const.arr.v"), nullptr);
    EXPECT_EQ(reported(r), Names{"arr"});
    EXPECT_EQ(output_functions(), Names{"arr"});
    EXPECT_TRUE(output_defines(".L__const.arr.v"));
}

// clang's UBSAN check data: .data..L__unnamed_N, numbered in file order,
// holding the source line of each check.
constexpr const char *kClangUbsan = R"(
int tab[10];
int get(int i) { return tab[i] << i; }
int put(int i, int v) { tab[i] = v; return 0; }
)";
const std::vector<std::string> kUbsan = {"-fsanitize=bounds,shift"};

TEST_F(Compare, ClangUnnamedDataRenumberedByANewFunctionIsUnchanged) {
    diff::Result r = diff_clang(
        kClangUbsan,
        edit(kClangUbsan, "int get", "int added(int i) { return tab[i] >> i; }\nint get"), kUbsan);
    auto p = elf::Object::read(patched.string());
    ASSERT_NE(p->find_section(".data..L__unnamed_1"), nullptr);
    EXPECT_EQ(reported(r), Names{"added"});
    EXPECT_EQ(output_functions(), Names{"added"});
}

TEST_F(Compare, ClangUnnamedDataWithMovedLinesIsNoChange) {
    diff::Result r = diff_clang(kClangUbsan, "\n\n" + std::string(kClangUbsan), kUbsan);
    EXPECT_FALSE(r.changed);
}

// ThinLTO promotes a static that another module imports to NAME.llvm.HASH,
// the hash taken from the module, so it differs between the two builds.
TEST_F(Compare, ThinLtoPromotedNamesCorrelateAndKeepTheKernelsName) {
    const std::string a =
        "static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
        "int a_entry(int x) { return helper(x) + 2; }\n";
    const std::string b = "int a_entry(int x);\nint b_entry(int x) { return a_entry(x) * 5; }\n";
    auto link = [&](const std::string &sub, const std::string &a_src) {
        auto ao = compile_clang(dir, sub, "a", a_src, {"-flto=thin"});
        auto bo = compile_clang(dir, sub, "b", b, {"-flto=thin"});
        auto out = dir / sub / "ab.o";
        RunResult rr = run({"ld.lld", "-r", ao.string(), bo.string(), "-o", out.string()});
        if (rr.status != 0)
            throw std::runtime_error("ld.lld: " + rr.err);
        return out;
    };
    orig = link("orig", a);
    patched = link("patched", edit(a, "x * 3 + 1", "x * 3 + 2"));
    auto promoted = [](const std::filesystem::path &obj) {
        auto o = elf::Object::read(obj.string());
        for (const auto &s : o->symbols)
            if (s->name.starts_with("helper.llvm."))
                return s->name;
        return std::string();
    };
    std::string old_name = promoted(orig), new_name = promoted(patched);
    ASSERT_FALSE(old_name.empty()) << "ThinLTO did not promote helper";
    ASSERT_NE(old_name, new_name) << "the hash did not change; the test shows nothing";
    diff::Result r = diff_built("vmlinux");
    EXPECT_EQ(reported(r), Names{new_name});
    // The patch replaces the function the running kernel knows.
    std::string strings = read_file(output);
    EXPECT_NE(strings.find(old_name), std::string::npos);
}

// ---- code pieces without symbols: alternatives' .altinstr_aux -----------------

// static_cpu_has(): a jump into .altinstr_aux, which tests the bit and jumps
// back.
constexpr const char *kFeature = R"(
extern unsigned char cpu_caps[8];
static inline __attribute__((always_inline)) int has_feature(int bit) {
    asm goto("jmp 6f\n"
             ".pushsection .altinstr_aux,\"ax\"\n"
             "6: testb %[mask], cpu_caps+%c[byte](%%rip)\n"
             " jnz %l[yes]\n"
             " jmp %l[no]\n"
             ".popsection\n"
             : : [mask] "i" (1 << (bit & 7)), [byte] "i" (bit >> 3) : : yes, no);
    return 0;
yes:
    return 1;
no:
    return 0;
}
)";

// The addend of func's relocation into .altinstr_aux.
int64_t aux_addend(const std::filesystem::path &obj, const std::string &section) {
    auto o = elf::Object::read(obj.string());
    const elf::Section *sec = o->find_section(section);
    if (!sec || !sec->rela)
        return -1;
    for (const auto &r : sec->rela->relocs)
        if (r.sym->sec && r.sym->sec->name == ".altinstr_aux")
            return r.addend;
    return -1;
}

TEST_F(Compare, MovedAltinstrAuxPieceOfAnUnchangedFunctionIsNoChange) {
    std::string src = std::string(kFeature) +
                      "int first(int x) { return x + 1; }\n"
                      "int second(int x) { if (has_feature(3)) return x * 2; return x; }\n";
    diff::Result r =
        diff(src, edit(src, "return x + 1;", "if (has_feature(5)) return x + 2; return x + 1;"));
    ASSERT_NE(aux_addend(orig, ".text.second"), aux_addend(patched, ".text.second"))
        << "second's piece did not move; the test shows nothing";
    EXPECT_EQ(reported(r), Names{"first"});
    EXPECT_EQ(output_functions(), Names{"first"});
}

TEST_F(Compare, InitTextOfSeveralFunctionsIsUnchangedWhenOnlyItsPiecesMoved) {
    std::string src = std::string(kFeature) + "int first(int x) { return x + 1; }\n" +
                      "__attribute__((section(\".init.text\"))) int setup_a(int x) {\n"
                      "    if (has_feature(3)) return x * 2; return x; }\n"
                      "__attribute__((section(\".init.text\"))) int setup_b(int x) {\n"
                      "    if (has_feature(4)) return x * 3; return x; }\n";
    diff::Result r =
        diff(src, edit(src, "return x + 1;", "if (has_feature(5)) return x + 2; return x + 1;"));
    ASSERT_NE(aux_addend(orig, ".init.text"), aux_addend(patched, ".init.text"))
        << "the init functions' pieces did not move; the test shows nothing";
    EXPECT_EQ(reported(r), Names{"first"});
}

TEST_F(Compare, ChangedTestInAnAltinstrAuxPieceIsAChange) {
    std::string src = std::string(kFeature) +
                      "int second(int x) { if (has_feature(3)) return x * 2; return x; }\n";
    diff::Result r = diff(src, edit(src, "has_feature(3)", "has_feature(12)"));
    EXPECT_EQ(reported(r), Names{"second"});
}

// ---- line numbers inside strings ------------------------------------------------

// fortify's and WARN's "file.c:LINE" strings.
constexpr const char *kLineStrings = R"(
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)
extern void report(const char *);
void f(int x) { if (x) report("field \"x\" at " __FILE__ ":" __stringify(__LINE__)); }
void g(int x) { if (x > 2) report("other"); }
)";

TEST_F(Compare, LineNumbersMovedInsideStringsAreNoChange) {
    diff::Result r = diff(kLineStrings, "\n\n" + std::string(kLineStrings));
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(line_only(), std::vector<std::string>{"f"});
}

TEST_F(Compare, OtherStringChangesBesideMovedLinesAreChanges) {
    diff::Result r = diff(kLineStrings, "\n\n" + edit(kLineStrings, "\"other\"", "\"other one\""));
    EXPECT_EQ(reported(r), Names{"g"});
}

TEST(SameTarget, StringsEqualUpToLineNumbersAfterASourceFileName) {
    EXPECT_TRUE(diff::same_up_to_line_numbers("at fs/x.c:8493", "at fs/x.c:8501"));
    EXPECT_TRUE(diff::same_up_to_line_numbers("include/y.h:7: bad", "include/y.h:12: bad"));
    EXPECT_FALSE(diff::same_up_to_line_numbers("at fs/x.c:8493", "at fs/z.c:8493"));
    EXPECT_FALSE(diff::same_up_to_line_numbers("count: 12", "count: 13"));
    EXPECT_FALSE(diff::same_up_to_line_numbers("at fs/x.c:12", "at fs/x.c:"));
    EXPECT_FALSE(diff::same_up_to_line_numbers("at fs/x.c:12 a", "at fs/x.c:12 b"));
}

// ---- section lifetimes (include/asm-generic/vmlinux.lds.h) ----------------------

constexpr const char *kRefText = R"(
extern int sink(int);
__attribute__((section(".ref.text"), noinline)) int late(int x) { return sink(x + 1); }
int keep(int x) { return x; }
)";

TEST_F(Compare, RefTextIsResidentCodeAndPatchable) {
    diff::Result r = diff(kRefText, edit(kRefText, "x + 1", "x + 2"));
    EXPECT_EQ(reported(r), Names{"late"});
    EXPECT_EQ(output_functions(), Names{"late"});
}

// __exit as include/linux/init.h defines it (notrace).
constexpr const char *kExit = R"(
extern void sink(int);
__attribute__((section(".exit.text"), cold, used, no_instrument_function))
static void mod_exit(void) { sink(1); }
int keep(int x) { return x; }
)";

TEST_F(Compare, ExitCodeOfVmlinuxNeverRunsSoItsChangeIsNoChange) {
    diff::Result r = diff(kExit, edit(kExit, "sink(1)", "sink(2)"));
    EXPECT_FALSE(r.changed);
}

TEST_F(Compare, ModuleExitCodeChangeIsRefusedWithTheTrueReason) {
    orig = compile(dir, "orig", "unit", kExit);
    patched = compile(dir, "patched", "unit", edit(kExit, "sink(1)", "sink(2)"));
    expect_refusal([&] { diff_built("mymod"); },
                   {"mod_exit", "mymod runs its exit code when the module is unloaded", "notrace"});
}

TEST_F(Compare, ModuleExitFunctionWithAnFtraceHookIsPatched) {
    const std::string traced = edit(kExit, ", no_instrument_function", "");
    orig = compile(dir, "orig", "unit", traced);
    patched = compile(dir, "patched", "unit", edit(traced, "sink(1)", "sink(2)"));
    diff::Result r = diff_built("mymod");
    EXPECT_EQ(reported(r), Names{"mod_exit"});
}

TEST_F(Compare, MeminitChangeIsRefusedWithItsOwnReason) {
    const std::string src = R"(
extern int sink(int);
__attribute__((section(".meminit.text"), cold, no_instrument_function))
int grow(int x) { return sink(x + 1); }
)";
    expect_refusal([&] { diff(src, edit(src, "x + 1", "x + 2")); },
                   {"grow", "CONFIG_MEMORY_HOTPLUG", "notrace"});
}

// ---- static locals the diff cannot pair ---------------------------------------

constexpr const char *kCounter = R"(
int foo(int x) { static int count; count += x; return count; }
int other(int x) { return x + 1; }
)";
constexpr const char *kCounterMoved = R"(
static __attribute__((noinline)) int helper(int x) { static int count; count += x; return count; }
int foo(int x) { return helper(x) + 1; }
int other(int x) { return x + 1; }
)";
constexpr const char *kFreshCopyIntended = R"(
static const char *ignore_count __attribute__((used, section(".kpatchpp.ignore.statics"))) = "count";
)";

TEST_F(Compare, StaticLocalMovedIntoANewFunctionIsRefusedNamingIt) {
    expect_refusal([&] { diff(kCounter, kCounterMoved); },
                   {"static local variable count", "helper", "foo", "KPP_IGNORE_STATIC"});
}

TEST_F(Compare, ClangStaticLocalMovedIntoANewFunctionIsRefusedNamingIt) {
    expect_refusal([&] { diff_clang(kCounter, kCounterMoved); },
                   {"helper.count", "foo.count", "KPP_IGNORE_STATIC(\"count\")"});
}

TEST_F(Compare, StaticLocalMarkedAsAFreshCopyIsPatched) {
    diff::Result r = diff(kCounter, std::string(kCounterMoved) + kFreshCopyIntended);
    EXPECT_EQ(reported(r), (Names{"foo", "helper"}));
    EXPECT_EQ(output_functions(), (Names{"foo", "helper"}));
    EXPECT_TRUE(output_defines("count.")) << "the intended fresh copy travels with the patch";
}

TEST_F(Compare, ConstantStaticLocalMovedIsNotState) {
    const std::string orig_src =
        "extern int sink(const int *);\n"
        "int foo(void) { static const int t[] = {3, 1, 4}; return sink(t); }\n";
    const std::string patched_src = "extern int sink(const int *);\n"
                                    "static __attribute__((noinline)) int helper(void) {\n"
                                    "    static const int t[] = {3, 1, 4}; return sink(t); }\n"
                                    "int foo(void) { return helper() + 1; }\n";
    diff::Result r = diff(orig_src, patched_src);
    EXPECT_EQ(reported(r), (Names{"foo", "helper"}));
}

// ---- names ------------------------------------------------------------------

TEST(Names, SpecialStaticsInGccAndClangForm) {
    for (const char *name : {"__key.3", "foo.__key", "foo.__already_done.1", "__func__.12",
                             "CSWTCH.126", ".Lswitch.table.pick", ".L__const.arr.v", ".L.str.2",
                             ".L__unnamed_4", "__UNIQUE_ID_ddebug12.3"})
        EXPECT_TRUE(diff::is_special_static(name)) << name;
    for (const char *name : {"count.3", "foo.count", "descriptor", "key", "pick", "foo.isra.0"})
        EXPECT_FALSE(diff::is_special_static(name)) << name;
}

TEST(Names, StaticLocalSourceNames) {
    EXPECT_EQ(diff::static_local_source_name("count.3"), "count");
    EXPECT_EQ(diff::static_local_source_name("foo.count"), "count");
    EXPECT_EQ(diff::static_local_source_name("foo.count.llvm.1234"), "count");
    EXPECT_EQ(diff::static_local_source_name("counter"), "");
    EXPECT_EQ(diff::static_local_source_name("__key.3"), "");
}

TEST(Names, KeysAndDataNames) {
    EXPECT_EQ(diff::special_static_key(".data..L__unnamed_12"), ".data..L__unnamed_");
    EXPECT_EQ(diff::special_static_key("__UNIQUE_ID_ddebug1130.186"), "__UNIQUE_ID_ddebug");
    EXPECT_EQ(diff::data_name_of_section(".rodata.CSWTCH.1"), "CSWTCH.1");
    EXPECT_EQ(diff::data_name_of_section(".data..L__unnamed_1"), ".L__unnamed_1");
    EXPECT_EQ(diff::data_name_of_section(".text.foo"), "");
}

} // namespace
