// diff_objects() on compiled C snippets: what goes into the output object
// and what stays a reference to the running kernel (anonymous read-only
// data, compiler labels, one-past-the-end pointers, unchanged .cold pieces,
// pointers to replaced functions, namespaced imports).
#include "create-diff-object/diff.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"
#include "testing/diff_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

using namespace kpp;
using namespace kpp::testing;

namespace {

class Diff : public DiffFixture {};

using Names = std::vector<std::string>;

// The kernel's own code generation flags for x86 (no FPU or vector
// registers): large initializers are copied from anonymous .rodata.
const std::vector<std::string> kNoVector = {"-mno-sse", "-mno-mmx", "-mno-80387",
                                            "-mgeneral-regs-only"};

// The relocations of `section` in obj, as "target+addend" (the section name
// for a section symbol).
Names relocations(const elf::Object &obj, const std::string &section) {
    Names out;
    elf::Section *sec = obj.find_section(section);
    if (!sec || !sec->rela)
        return out;
    for (const auto &r : sec->rela->relocs)
        out.push_back((r.sym->is_section() && r.sym->sec ? r.sym->sec->name : r.sym->name) +
                      fmt::format("{:+d}", r.addend));
    return out;
}

bool defined_in(const elf::Object &obj, const std::string &name) {
    const elf::Symbol *sym = obj.find_symbol(name);
    return sym && sym->sec;
}

// ---- anonymous read-only data --------------------------------------------

std::string initializer_user(int first, const char *ret) {
    return fmt::format(R"(
struct table {{ int v[40]; const char *name; }};
extern void use(struct table *t);
int fill(int k) {{
    struct table t = {{{{{}, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4,
                        6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 1, 2, 3, 4, 5, 6, 7, 8}}, "pi"}};
    use(&t);
    return {};
}}
int other(int k) {{ return k * 3; }}
)",
                       first, ret);
}

TEST_F(Diff, AnonymousRodataOfChangedFunctionIsCopied) {
    diff::Result r = diff(initializer_user(3, "k"), initializer_user(3, "k + 1"), kNoVector);
    auto p = elf::Object::read(patched.string());
    ASSERT_TRUE(contains(relocations(*p, ".text.fill"), ".rodata+0"))
        << "gcc no longer copies the initializer from anonymous .rodata; rewrite the test";
    EXPECT_EQ(function_names(r), Names{"fill"});
    EXPECT_EQ(output_functions(), std::set<std::string>{"fill"});
    auto out = elf::Object::read(output.string());
    elf::Section *rodata = out->find_section(".rodata");
    ASSERT_NE(rodata, nullptr) << "the initializer must travel with the patch";
    EXPECT_EQ(rodata->data, p->find_section(".rodata")->data);
    EXPECT_TRUE(contains(relocations(*out, ".text.fill"), ".rodata+0"));
    // The initializer's own pointer (to "pi") is copied along.
    EXPECT_EQ(relocations(*out, ".rodata").size(), 1u);
}

TEST_F(Diff, ChangedAnonymousInitializerChangesOnlyItsUser) {
    diff::Result r = diff(initializer_user(3, "k"), initializer_user(7, "k"), kNoVector);
    EXPECT_EQ(function_names(r), Names{"fill"});
    EXPECT_NE(r.functions[0].reason.find(".rodata"), std::string::npos) << r.functions[0].reason;
    auto out = elf::Object::read(output.string());
    elf::Section *rodata = out->find_section(".rodata");
    ASSERT_NE(rodata, nullptr);
    int32_t first = 0;
    std::memcpy(&first, rodata->data.data(), 4);
    EXPECT_EQ(first, 7) << "the patch must carry the new initializer";
}

// `src` with every @N@ replaced by n.
std::string with_number(std::string src, int n) {
    for (size_t at; (at = src.find("@N@")) != std::string::npos;)
        src.replace(at, 3, std::to_string(n));
    return src;
}

// Writable data without a symbol: the kernel's copy cannot be found, and a
// copy of the whole section would hold fresh copies of its variables.
TEST_F(Diff, AnonymousWritableDataIsRefused) {
    const char *src = R"(
asm(".pushsection .data.shared,\"aw\"\n"
    ".globl counter\ncounter: .long 0\n"
    ".Lanon_words: .long 1, 2\n"
    ".type counter, @object\n.size counter, 4\n"
    ".popsection\n");
extern int counter;
int read_anon(void) {
    int v;
    asm("movl .Lanon_words+4(%%rip), %0" : "=r"(v));
    return v + @N@;
}
)";
    expect_refusal([&] { diff(with_number(src, 0), with_number(src, 1)); },
                   {"read_anon", ".data.shared"});
}

// ---- compiler labels --------------------------------------------------------

// GCC keeps labels of constants in the symbol table (.LC0 in
// .rodata.cst8) and renumbers them between two builds: a new constant gets
// .LC0 and the old one moves to .LC1. Labels are compared by content and
// copied, never looked up in the running kernel, which has none.
TEST_F(Diff, NewConstantUnderCompilerLabelIsCopied) {
    diff::Result r = diff("double scale(double x) { return x * 1.5; }\n"
                          "double shift(double x) { return x + x; }\n",
                          "double shift(double x) { return x * 3.25; }\n"
                          "double scale(double x) { return x * 1.5; }\n");
    auto p = elf::Object::read(patched.string());
    Names shift = relocations(*p, ".text.shift");
    ASSERT_TRUE(std::any_of(shift.begin(), shift.end(),
                            [](const std::string &t) { return t.starts_with(".LC"); }))
        << "gcc no longer keeps the constant's label: " << ::testing::PrintToString(shift);
    EXPECT_EQ(function_names(r), Names{"shift"}) << "scale's constant moved, not changed";
    auto out = elf::Object::read(output.string());
    for (const std::string &target : relocations(*out, ".text.shift")) {
        if (!target.starts_with(".LC"))
            continue;
        EXPECT_TRUE(defined_in(*out, target.substr(0, target.find_first_of("+-"))))
            << target << " must be copied into the patch";
    }
    EXPECT_NE(out->find_section(".rodata.cst8"), nullptr);
}

TEST_F(Diff, ChangedConstantUnderSameLabelIsAChange) {
    diff::Result r = diff("double scale(double x) { return x * 1.5; }\n",
                          "double scale(double x) { return x * 2.5; }\n");
    EXPECT_EQ(function_names(r), Names{"scale"});
}

// ---- one past the end --------------------------------------------------------

std::string array_walker(const char *op) {
    return fmt::format(R"(
static int table[64] __attribute__((section(".data..read_mostly")));
int mostly_flag __attribute__((section(".data..read_mostly"))) = 1;
int sum_table(int x) {{
    int s = 0;
    for (int *p = table; p < table + sizeof(table) / sizeof(table[0]); p++)
        s += *p {} x;
    return s;
}}
)",
                       op);
}

// `table + ARRAY_SIZE(table)` points at the end of the section table shares
// with mostly_flag: no symbol covers it, and the one sound reading is
// table+256.
TEST_F(Diff, PointerOnePastTheEndOfAnArrayRefersToTheArray) {
    diff::Result r = diff(array_walker("+"), array_walker("^"), kNoVector);
    auto p = elf::Object::read(patched.string());
    elf::Symbol *table = p->find_symbol("table");
    ASSERT_NE(table, nullptr);
    std::string end = fmt::format(".data..read_mostly+{}", table->value + table->size);
    ASSERT_EQ(table->value + table->size, table->sec->size()) << "table is not last any more";
    ASSERT_TRUE(contains(relocations(*p, ".text.sum_table"), end))
        << "gcc no longer compares with the end pointer: "
        << ::testing::PrintToString(relocations(*p, ".text.sum_table"));
    EXPECT_EQ(function_names(r), Names{"sum_table"});
    auto out = elf::Object::read(output.string());
    Names t = relocations(*out, ".text.sum_table");
    EXPECT_EQ(
        t, (Names{"__fentry__-4", ".klp.sym.vmlinux.table,0+0", ".klp.sym.vmlinux.table,0+256"}));
}

// ---- .cold pieces --------------------------------------------------------------

// The cold path ends in a call that does not return: the piece never comes
// back into its parent, so an unchanged piece stays the kernel's.
std::string noreturn_cold(int factor) {
    return fmt::format(R"(
extern void die(const char *msg, int v) __attribute__((noreturn, cold));
extern int state;
int check(int v) {{
    if (__builtin_expect(v < 0, 0)) {{
        state = v;
        die("negative", v);
    }}
    return v * {} + state;
}}
)",
                       factor);
}

TEST_F(Diff, UnchangedColdPieceThatNeverReturnsStaysInKernel) {
    diff::Result r = diff(noreturn_cold(2), noreturn_cold(3));
    auto o = elf::Object::read(orig.string());
    ASSERT_NE(o->find_symbol("check.cold"), nullptr) << "gcc did not split check into check.cold";
    EXPECT_EQ(function_names(r), Names{"check"});
    EXPECT_EQ(output_functions(), std::set<std::string>{"check"});
    auto out = elf::Object::read(output.string());
    Names t = relocations(*out, ".text.check");
    EXPECT_TRUE(std::any_of(
        t.begin(), t.end(),
        [](const std::string &s) { return s.starts_with(".klp.sym.vmlinux.check.cold,0"); }))
        << "check must jump to the kernel's check.cold: " << ::testing::PrintToString(t);
}

// The cold path rejoins the hot one: the kernel's piece would jump back
// into the kernel's old check, so the unchanged piece goes with the patch.
std::string rejoining_cold(int factor) {
    return fmt::format(R"(
extern void report(const char *msg, int v) __attribute__((cold));
extern int state;
int check(int v) {{
    if (__builtin_expect(v < 0, 0)) {{
        report("negative", v);
        report("still negative", v * 2);
        v = -v;
    }}
    state += v;
    return v * {} + state;
}}
)",
                       factor);
}

TEST_F(Diff, UnchangedColdPieceThatRejoinsItsParentGoesWithIt) {
    diff::Result r = diff(rejoining_cold(2), rejoining_cold(3));
    auto p = elf::Object::read(patched.string());
    elf::Symbol *cold = p->find_symbol("check.cold");
    ASSERT_NE(cold, nullptr) << "gcc did not split check into check.cold";
    Names back = relocations(*p, cold->sec->name);
    ASSERT_TRUE(std::any_of(back.begin(), back.end(), [](const std::string &s) {
        return s.starts_with(".text.check");
    })) << "check.cold no longer jumps back; rewrite the test";
    EXPECT_EQ(function_names(r), (Names{"check", "check.cold"}));
    auto reason =
        std::find_if(r.functions.begin(), r.functions.end(),
                     [](const diff::FunctionChange &f) { return f.name == "check.cold"; });
    EXPECT_NE(reason->reason.find("continues in it"), std::string::npos) << reason->reason;
}

// ---- pointers to replaced functions -------------------------------------------

std::string pointer_taker(int delta) {
    return fmt::format(R"(
typedef int (*handler_t)(int);
extern void register_handler(handler_t h);
__attribute__((noinline)) static int handle(int x) {{ return x + {}; }}
int install(int x) {{
    register_handler(handle);
    return handle(x) * {};
}}
)",
                       delta, delta);
}

// install passes handle's address at run time: it must be the kernel's
// handle (ftrace leads it to the new version while the patch is on, and it
// stays valid after the patch is gone), while install's own call goes to
// the new version directly.
TEST_F(Diff, PointerToReplacedFunctionLeadsToTheKernelsFunction) {
    diff::Result r = diff(pointer_taker(1), pointer_taker(2));
    EXPECT_EQ(function_names(r), (Names{"handle", "install"}));
    auto out = elf::Object::read(output.string());
    ASSERT_TRUE(defined_in(*out, "handle"));
    elf::Section *text = out->find_section(".text.install");
    ASSERT_NE(text, nullptr);
    ASSERT_NE(text->rela, nullptr);
    int to_kernel = 0, to_copy = 0;
    for (const auto &rel : text->rela->relocs) {
        const elf::Symbol *s = rel.sym;
        bool copy = (s->sec && s->sec->name == ".text.handle");
        bool kernel = s->name == ".klp.sym.vmlinux.handle,0";
        bool call = rel.type == R_X86_64_PLT32 ||
                    (rel.offset > 0 &&
                     (text->data[rel.offset - 1] == 0xe8 || text->data[rel.offset - 1] == 0xe9));
        if (copy) {
            to_copy++;
            EXPECT_TRUE(call) << "only calls may go to the copy";
        }
        if (kernel) {
            to_kernel++;
            EXPECT_FALSE(call) << "the call must go to the new version";
        }
    }
    EXPECT_EQ(to_kernel, 1) << ::testing::PrintToString(relocations(*out, ".text.install"));
    EXPECT_EQ(to_copy, 1) << ::testing::PrintToString(relocations(*out, ".text.install"));
}

// ---- namespaced exports ---------------------------------------------------

// The strings of obj's .modinfo that start with `prefix`.
Names modinfo_lines(const elf::Object &obj, const std::string &prefix) {
    Names lines;
    const elf::Section *modinfo = obj.find_section(".modinfo");
    if (!modinfo)
        return lines;
    const auto &d = modinfo->data;
    for (size_t at = 0; at < d.size();) {
        size_t end = std::find(d.begin() + at, d.end(), uint8_t{0}) - d.begin();
        std::string line(d.begin() + at, d.begin() + end);
        if (line.starts_with(prefix))
            lines.push_back(line);
        at = end + 1;
    }
    return lines;
}

std::string namespace_user(int delta, bool imports) {
    std::string src = "extern int ns_helper(int a);\n"
                      "int ns_user(int a) { return ns_helper(a) + " +
                      std::to_string(delta) + "; }\n";
    if (imports)
        src += "static const char ns_import[] __attribute__((used, section(\".modinfo\"))) = "
               "\"import_ns=TEST_NS\";\n";
    return src;
}

// The module imports TEST_NS in another of its files: the patch still
// needs the line.
TEST_F(Diff, NamespacedExportGetsItsImportLine) {
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tns_helper\tvmlinux\tEXPORT_SYMBOL_GPL\tTEST_NS\n"
                             "0x12345679\tplain_helper\tvmlinux\tEXPORT_SYMBOL\t\n");
    diff::Result r = diff(namespace_user(1, false), namespace_user(2, false));
    EXPECT_EQ(function_names(r), Names{"ns_user"});
    auto out = elf::Object::read(output.string());
    EXPECT_EQ(modinfo_lines(*out, "import_ns="), Names{"import_ns=TEST_NS"});
}

TEST_F(Diff, NamespaceImportOfThePatchedFileIsNotRepeated) {
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tns_helper\tvmlinux\tEXPORT_SYMBOL_GPL\tTEST_NS\n");
    diff::Result r = diff(namespace_user(1, true), namespace_user(2, true));
    EXPECT_EQ(function_names(r), Names{"ns_user"});
    auto out = elf::Object::read(output.string());
    EXPECT_EQ(modinfo_lines(*out, "import_ns="), Names{"import_ns=TEST_NS"});
}

// ---- a module's own static keys ------------------------------------------

// A function of module foomod whose jump label tests a key foomod defines
// and does not export (as a tracepoint of the module does).
std::string module_key_user(int delta) {
    return R"(
struct static_key { int enabled; };
struct static_key foomod_key;
static inline __attribute__((always_inline)) int foomod_key_on(void) {
    asm goto("1: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
             ".pushsection __jump_table, \"aw\"\n.balign 8\n"
             ".long 1b - ., %l[on] - .\n.quad foomod_key - .\n.popsection\n"
             : : : : on);
    return 0;
on:
    return 1;
}
int foomod_user(int x) { return foomod_key_on() ? x + )" +
           std::to_string(delta) + R"( : x; }
)";
}

TEST_F(Diff, ModuleOwnStaticKeyInPatchedFunctionIsRefusedInTheDiff) {
    parent = "foomod";
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
    expect_refusal([&] { diff(module_key_user(1), module_key_user(2)); },
                   {"__jump_table", "foomod_key", "foomod"});
}

// The same code in vmlinux: its keys are resolved when the patch loads.
TEST_F(Diff, VmlinuxStaticKeyInPatchedFunctionIsKept) {
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
    diff::Result r = diff(module_key_user(1), module_key_user(2));
    EXPECT_EQ(function_names(r), Names{"foomod_user"});
    auto out = elf::Object::read(output.string());
    EXPECT_TRUE(contains(relocations(*out, "__jump_table"), ".klp.sym.vmlinux.foomod_key,0+0"))
        << ::testing::PrintToString(relocations(*out, "__jump_table"));
}

// A function of module foomod that fires foomod's own tracepoint, as
// trace_foomod_event() compiles: a jump label on the tracepoint's key and,
// behind it, a static call of the tracepoint's key through its trampoline.
std::string module_tracepoint_user(int delta) {
    return R"(
struct static_key { int enabled; };
struct tracepoint { const char *name; struct static_key key; };
struct tracepoint __tracepoint_foomod_event __attribute__((section("__tracepoints"))) = {
    "foomod_event"};
long __SCK__tp_func_foomod_event;
__attribute__((section(".static_call.text"))) void __SCT__tp_func_foomod_event(void) {}
static inline __attribute__((always_inline)) int foomod_event_on(void) {
    asm goto("1: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
             ".pushsection __jump_table, \"aw\"\n.balign 8\n"
             ".long 1b - ., %l[on] - .\n.quad __tracepoint_foomod_event + 8 - .\n"
             ".popsection\n"
             : : : : on);
    return 0;
on:
    return 1;
}
int foomod_traced(int x) {
    if (foomod_event_on())
        asm volatile("2: call __SCT__tp_func_foomod_event\n"
                     ".pushsection .static_call_sites, \"aw\"\n"
                     ".long 2b - ., __SCK__tp_func_foomod_event - .\n.popsection\n");
    return x + )" +
           std::to_string(delta) + R"(;
}
)";
}

// The module loader would read both entries before the livepatch core could
// resolve foomod's symbols: the jump label goes (the tracepoint stays off in
// the patched function, reported) and so does the static call site (the call
// keeps going through the trampoline, to foomod's trampoline).
TEST_F(Diff, ModuleOwnTracepointInPatchedFunctionStaysOff) {
    parent = "foomod";
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
    diff::Result r = diff(module_tracepoint_user(1), module_tracepoint_user(2));
    EXPECT_EQ(function_names(r), Names{"foomod_traced"});
    EXPECT_EQ(r.report["inert_tracepoints"],
              nlohmann::json::array({"foomod_traced: foomod_event"}));
    auto out = elf::Object::read(output.string());
    EXPECT_EQ(out->find_section("__jump_table"), nullptr);
    EXPECT_EQ(out->find_section(".static_call_sites"), nullptr);
    EXPECT_EQ(out->find_section("__tracepoints"), nullptr);
    EXPECT_TRUE(contains(relocations(*out, ".text.foomod_traced"),
                         ".klp.sym.foomod.__SCT__tp_func_foomod_event,0-4"))
        << ::testing::PrintToString(relocations(*out, ".text.foomod_traced"));
}

// In vmlinux the same entries stay: the livepatch core resolves vmlinux's
// symbols before the module loader reads them.
TEST_F(Diff, VmlinuxTracepointInPatchedFunctionKeepsItsEntries) {
    symvers_file = dir / "Module.symvers";
    write_file(symvers_file, "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
    diff::Result r = diff(module_tracepoint_user(1), module_tracepoint_user(2));
    EXPECT_EQ(function_names(r), Names{"foomod_traced"});
    EXPECT_EQ(r.report["inert_tracepoints"], nlohmann::json::array());
    auto out = elf::Object::read(output.string());
    EXPECT_TRUE(contains(relocations(*out, "__jump_table"),
                         ".klp.sym.vmlinux.__tracepoint_foomod_event,0+8"))
        << ::testing::PrintToString(relocations(*out, "__jump_table"));
    EXPECT_TRUE(contains(relocations(*out, ".static_call_sites"),
                         ".klp.sym.vmlinux.__SCK__tp_func_foomod_event,0+0"))
        << ::testing::PrintToString(relocations(*out, ".static_call_sites"));
}

// ---- debug info ------------------------------------------------------------

const char *kDebugOrig = R"(int other(int x) { return x * 3; }

int add(int a, int b)
{
	return a + b;
}
)";
const char *kDebugPatched = R"(int other(int x) { return x * 3; }

int add(int a, int b)
{
	if (a > 100)
		return 7;
	return a + b + 1;
}
)";

// The patch carries the DWARF of its code: addr2line finds the new add's
// lines; nothing in the DWARF refers to the running kernel (the livepatch
// core cannot relocate sections that are not loaded), and other's address
// is nowhere near the module's sections.
TEST_F(Diff, DebugInfoOfIncludedFunctionsResolves) {
    diff::Result r = diff(kDebugOrig, kDebugPatched, {"-g"});
    EXPECT_EQ(function_names(r), Names{"add"});
    RunResult line = run({"addr2line", "-f", "-e", output.string(), "-j", ".text.add", "0x5"});
    ASSERT_EQ(line.status, 0) << line.err;
    EXPECT_EQ(line.out.substr(0, line.out.find('\n')), "add") << line.out;
    EXPECT_NE(line.out.find("unit.c:"), std::string::npos) << line.out;
    EXPECT_EQ(line.out.find("unit.c:0"), std::string::npos) << line.out;
    auto out = elf::Object::read(output.string());
    ASSERT_NE(out->find_section(".debug_info"), nullptr);
    ASSERT_NE(out->find_section(".debug_line"), nullptr);
    for (const auto &sec : out->sections) {
        if (!sec->is_rela() || !sec->base->name.starts_with(".debug_"))
            continue;
        for (const auto &rel : sec->relocs) {
            EXPECT_FALSE(rel.sym->is_undefined()) << sec->name << " refers to " << rel.sym->name;
            EXPECT_FALSE(rel.sym->sec && rel.sym->sec->name == ".text.other")
                << sec->name << " refers to code the patch does not carry";
        }
    }
}

} // namespace
