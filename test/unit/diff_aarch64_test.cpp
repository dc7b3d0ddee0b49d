// create-diff-object on arm64 objects cross-compiled here with arm64 6.1's
// kernel flags (aarch64-linux-gnu-gcc): the AArch64 Arch rules and arm64's
// special sections, checked through the CLI with exact exit statuses and
// exact sets of functions in the output.
#include "create-diff-object/arch.h"
#include "libkpp/elf/object.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <set>
#include <sstream>

using namespace kpp;
using namespace kpp::testing;

namespace {

const char *kTool = KPP_CREATE_DIFF_OBJECT;

// arm64 6.1's special-section macros, reduced to what shapes the object:
// asm/bug.h (__bug_table with a relative file pointer, the line in the
// table), asm/asm-extable.h, asm/jump_label.h (relative entries, PREL64
// key), asm/alternative-macros.h (replacement in subsection 1 of the
// function's own section), and might_sleep's (__FILE__, __LINE__) call.
const char *kKernelHeader = R"(
#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)
#define BUG_ENTRY(flags)                                                   \
    ".pushsection __bug_table,\"aw\"\n\t.align 2\n"                        \
    "14470:	.long 14471f - .\n"                                            \
    ".pushsection .rodata.str,\"aMS\",@progbits,1\n"                       \
    "14472:	.string \"" __FILE__ "\"\n.popsection\n"                       \
    "	.long 14472b - 14470b\n	.short " __stringify(__LINE__) "\n"       \
    "	.short " #flags "\n.popsection\n14471:\n"
#define WARN_ON(c) ({ int __c = !!(c); if (__c) asm volatile(BUG_ENTRY(0x901) "brk 0x800\n"); __c; })
#define EXTABLE(insn, fixup)                                               \
    ".pushsection __ex_table,\"a\"\n\t.align 2\n"                          \
    "	.long (" #insn ") - .\n	.long (" #fixup ") - .\n"                  \
    "	.short 3\n	.short 0\n.popsection\n"
static inline int get_user_int(int *val, const int *uptr) {
    int err = 0, v;
    asm volatile("1: ldr %w1, [%2]\n2:\n" EXTABLE(1b, 2b) : "+r"(err), "=&r"(v) : "r"(uptr));
    *val = v;
    return err;
}
struct static_key { int enabled; };
static inline __attribute__((always_inline)) int static_key_false(struct static_key *key) {
    asm goto("1: nop\n.pushsection __jump_table, \"aw\"\n.align 3\n"
             ".long 1b - ., %l[l_yes] - .\n.quad %c0 - .\n.popsection\n"
             : : "i"(key) : : l_yes);
    return 0;
l_yes:
    return 1;
}
#define ALTERNATIVE(oldinstr, newinstr, feature)                           \
    "661:\n\t" oldinstr "\n662:\n"                                         \
    ".pushsection .altinstructions,\"a\"\n"                                \
    " .word 661b - .\n .word 663f - .\n .hword " #feature "\n"             \
    " .byte 662b-661b\n .byte 664f-663f\n.popsection\n"                    \
    ".subsection 1\n663:\n\t" newinstr "\n664:\n\t.previous\n"
static inline void alt_barrier(void) { asm volatile(ALTERNATIVE("nop", "dmb ish", 5)); }
void __might_sleep(const char *file, int line);
#define might_sleep() __might_sleep(__FILE__, __LINE__)
struct pi_entry { const char *fmt, *func, *file; unsigned int line; };
#define printk(fmt) ({                                                     \
    static const struct pi_entry _entry __attribute__((used)) =            \
        { fmt, __func__, __FILE__, __LINE__ };                             \
    static const struct pi_entry *_entry_ptr                               \
        __attribute__((used, section(".printk_index"))) = &_entry;         \
    _printk(fmt); })
int _printk(const char *fmt, ...);
#define notrace __attribute__((patchable_function_entry(0, 0)))
#define __init __attribute__((section(".init.text")))
)";

// Exit statuses of create-diff-object.
constexpr int kWritten = 0, kRefused = 1, kNoChange = 3;

class DiffAarch64 : public ::testing::Test {
  protected:
    TempDir dir;
    std::filesystem::path output = dir / "output.o";
    std::unique_ptr<elf::Object> out;

    // Compiles both versions as unit.c for arm64 and runs create-diff-object
    // with arm64 6.1's struct sizes, the original object standing for vmlinux.
    RunResult diff(const std::string &orig_src, const std::string &patched_src,
                   const std::vector<std::string> &extra = {}) {
        auto orig = compile(dir, "orig", "unit", kKernelHeader + orig_src, extra,
                            &kAarch64KernelFlags, kAarch64Compiler);
        auto patched = compile(dir, "patched", "unit", kKernelHeader + patched_src, extra,
                               &kAarch64KernelFlags, kAarch64Compiler);
        RunResult r =
            run({"env", "ALT_STRUCT_SIZE=12", "BUG_STRUCT_SIZE=12", "EX_STRUCT_SIZE=12",
                 "JUMP_STRUCT_SIZE=16", "PRINTK_INDEX_STRUCT_SIZE=44", kTool, orig.string(),
                 patched.string(), "vmlinux", symtab_of(dir, orig).string(), "/dev/null",
                 "test_unit", output.string()});
        EXPECT_TRUE(r.exited) << "killed by signal " << r.status;
        if (r.exited && r.status == kWritten)
            out = elf::Object::read(output.string());
        return r;
    }

    // The text symbols of the output as nm lists them (t or T), sorted:
    // exactly the changed and new functions.
    std::set<std::string> functions() {
        RunResult r = run({"nm", output.string()});
        EXPECT_EQ(r.status, 0) << r.err;
        std::set<std::string> names;
        std::istringstream lines(r.out);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream fields(line); // "VALUE TYPE NAME", or "TYPE NAME" when undefined
            std::string value, type, name;
            if (fields >> value >> type >> name && (type == "t" || type == "T"))
                names.insert(name);
        }
        return names;
    }

    const elf::Section &section(const std::string &name) {
        const elf::Section *sec = out ? out->find_section(name) : nullptr;
        if (!sec)
            throw std::runtime_error("the output has no " + name);
        return *sec;
    }

    // The relocations of an output section as "TYPE SYMBOL+ADDEND".
    std::vector<std::string> relocations(const std::string &name) {
        std::vector<std::string> all;
        const elf::Section &sec = section(name);
        if (sec.rela)
            for (const elf::Relocation &r : sec.rela->relocs)
                all.push_back(std::to_string(r.type) + " " + r.sym->name + "+" +
                              std::to_string(r.addend));
        return all;
    }

    static std::string reloc(uint32_t type, const std::string &sym, int64_t addend = 0) {
        return std::to_string(type) + " " + sym + "+" + std::to_string(addend);
    }

    uint32_t word_at(const elf::Symbol &func, int64_t offset) {
        uint32_t word = 0;
        std::memcpy(&word, func.sec->data.data() + func.value + offset, 4);
        return word;
    }
};

using Functions = std::set<std::string>;

// ---- relocations ------------------------------------------------------------

TEST_F(DiffAarch64, ChangedFunctionAloneWithKernelReferences) {
    const char *common = "int counter;\n"
                         "__attribute__((noinline)) int other(int x) { return x * 7; }\n";
    RunResult r = diff(std::string(common) + "int f(int x) { return other(x) + counter; }\n",
                       std::string(common) + "int f(int x) { return other(x) + 2 * counter; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(r.out, "unit.o: changed function: f\n");
    EXPECT_EQ(functions(), Functions{"f"});
    EXPECT_EQ(out->machine, EM_AARCH64);
    // bl other; adrp/ldr counter: kernel symbols, addend 0 (no PC bias).
    auto text = relocations(".text.f");
    std::sort(text.begin(), text.end());
    std::vector<std::string> want = {reloc(R_AARCH64_ADR_PREL_PG_HI21, "counter"),
                                     reloc(R_AARCH64_CALL26, "other"),
                                     reloc(R_AARCH64_LDST32_ABS_LO12_NC, "counter")};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(text, want);
    // .kpatchpp.funcs: 64-bit absolute addresses of arm64.
    for (const std::string &entry : relocations(".kpatchpp.funcs"))
        EXPECT_EQ(entry.rfind(std::to_string(R_AARCH64_ABS64) + " ", 0), 0u) << entry;
}

TEST_F(DiffAarch64, PagePairsToLocalsBecomeKlpSymbolsWithTheSameAddend) {
    const char *common = "static int table[8];\n"
                         "void set(int i, int v) { table[i & 7] = v; }\n"
                         "static __attribute__((noinline)) int helper(int x) { return x + 3; }\n";
    RunResult r =
        diff(std::string(common) + "int f(int i) { return helper(table[i & 7]) + table[5]; }\n",
             std::string(common) + "int f(int i) { return helper(table[i & 7]) - table[5]; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    auto text = relocations(".text.f");
    // helper is a local of vmlinux: a livepatch symbol; so is table, and
    // each ADRP and its :lo12: partner name the same place in it.
    EXPECT_NE(
        std::find(text.begin(), text.end(), reloc(R_AARCH64_CALL26, ".klp.sym.vmlinux.helper,0")),
        text.end())
        << ::testing::PrintToString(text);
    std::multiset<std::string> to_table;
    for (const std::string &t : text)
        if (t.find("table") != std::string::npos)
            to_table.insert(t.substr(t.find(' ') + 1));
    ASSERT_FALSE(to_table.empty()) << ::testing::PrintToString(text);
    for (const std::string &t : to_table)
        EXPECT_EQ(t.rfind(".klp.sym.vmlinux.table,0+", 0), 0u) << t;
    EXPECT_EQ(std::count_if(text.begin(), text.end(),
                            [](const std::string &t) {
                                return t.rfind(std::to_string(R_AARCH64_ADR_PREL_PG_HI21), 0) == 0;
                            }) *
                  2,
              static_cast<long>(to_table.size()))
        << "each ADRP has one :lo12: partner: " << ::testing::PrintToString(text);
}

TEST_F(DiffAarch64, NewFunctionAndRenumberedStaticLocal) {
    RunResult r = diff("int f(int x) { static int calls; calls += x; return calls; }\n",
                       "static __attribute__((noinline)) int twice(int x) { static int calls; "
                       "calls++; return 2 * x; }\n"
                       "int f(int x) { static int calls; calls += twice(x); return calls; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), (Functions{"f", "twice"}));
    auto text = relocations(".text.f");
    // f keeps the kernel's counter (calls.0 in the original, renumbered in
    // the patched object); twice gets a fresh one.
    EXPECT_TRUE(std::any_of(text.begin(), text.end(), [](const std::string &t) {
        return t.find(".klp.sym.vmlinux.calls.0,0") != std::string::npos;
    })) << ::testing::PrintToString(text);
    for (const std::string &t : relocations(".text.twice"))
        EXPECT_EQ(t.find(".klp.sym"), std::string::npos) << t;
}

// ---- ftrace hook: __patchable_function_entries ------------------------------

TEST_F(DiffAarch64, PatchableEntryOfTheChangedFunctionIsKept) {
    RunResult r = diff("int f(int x) { return x + 1; }\nint g(int x) { return x + 2; }\n",
                       "int f(int x) { return x + 3; }\nint g(int x) { return x + 2; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    const elf::Symbol *f = out->find_symbol("f");
    ASSERT_NE(f, nullptr);
    // The two NOPs the record points at open the function.
    EXPECT_EQ(word_at(*f, 0), 0xd503201fu);
    EXPECT_EQ(word_at(*f, 4), 0xd503201fu);
    EXPECT_EQ(relocations("__patchable_function_entries"),
              std::vector<std::string>{reloc(R_AARCH64_ABS64, "f")});
    const elf::Section &entries = section("__patchable_function_entries");
    EXPECT_EQ(entries.size(), 8u);
    EXPECT_TRUE(entries.hdr.sh_flags & SHF_LINK_ORDER);
    EXPECT_EQ(entries.link, f->sec) << "must stay linked to f's code, or ld will not merge it";
}

TEST_F(DiffAarch64, NotraceFunctionIsRefused) {
    RunResult r = diff("notrace int f(int x) { return x + 1; }\n",
                       "notrace int f(int x) { return x + 3; }\n");
    EXPECT_EQ(r.status, kRefused) << r.err;
    EXPECT_NE(r.err.find("function f changed but has no ftrace hook (no entry in "
                         "__patchable_function_entries"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(output));
}

// With CONFIG_ARM64_BTI_KERNEL (6.1 allows it for clang only) the landing
// pad comes first and the record points at the NOPs after it.
TEST_F(DiffAarch64, NopsAfterBtiLandingPadAreAHook) {
    RunResult r = diff("int f(int x) { return x + 1; }\n", "int f(int x) { return x + 3; }\n",
                       {"-mbranch-protection=pac-ret+leaf+bti"});
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    EXPECT_EQ(word_at(*out->find_symbol("f"), 0), 0xd503245fu) << "bti c";
    EXPECT_EQ(relocations("__patchable_function_entries"),
              std::vector<std::string>{reloc(R_AARCH64_ABS64, "f", 4)});
}

// Linux 6.4+ (DYNAMIC_FTRACE_WITH_CALL_OPS) puts two of four NOPs before
// the function's symbol, and the record points at the first of them.
TEST_F(DiffAarch64, NopsBeforeTheSymbolAreAHook) {
    RunResult r = diff("int f(int x) { return x + 1; }\n", "int f(int x) { return x + 3; }\n",
                       {"-fpatchable-function-entry=4,2"});
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    EXPECT_EQ(relocations("__patchable_function_entries"),
              std::vector<std::string>{reloc(R_AARCH64_ABS64, "f", -8)});
}

// ---- __LINE__ -----------------------------------------------------------------

TEST_F(DiffAarch64, LineNumberOnlyChangeIsNoChange) {
    RunResult r = diff("int f(int x) {\n    might_sleep();\n    return x + 1;\n}\n",
                       "\n\n\nint f(int x) {\n    might_sleep();\n    return x + 1;\n}\n");
    EXPECT_EQ(r.status, kNoChange) << r.err;
    EXPECT_EQ(r.out, "unit.o: no changed functions\n");
}

// printk's index entry (a special static in .rodata._entry.N, beside a $d
// mapping symbol on arm64) holds the line: moved, it is no change.
TEST_F(DiffAarch64, MovedPrintkIndexEntryIsNoChange) {
    const char *f = "int f(int x) {\n    printk(\"f called\\n\");\n    return x + 1;\n}\n";
    RunResult r = diff(f, std::string("\n\n") + f);
    EXPECT_EQ(r.status, kNoChange) << r.err;
}

// The same instruction (mov w1, #imm) passing a real argument is a change.
TEST_F(DiffAarch64, ChangedArgumentImmediateIsAChange) {
    const char *decl = "void take(const char *s, int n);\n";
    RunResult r = diff(std::string(decl) + "void f(void) { take(\"x\", 100); }\n",
                       std::string(decl) + "void f(void) { take(\"x\", 200); }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
}

// ---- special sections -------------------------------------------------------

// Both functions use each table; only f changes, so only f's entries go.
const char *kTablesOrig = R"(
struct static_key key;
int counter;
int f(const int *p) {
    int v = 0;
    if (static_key_false(&key))
        counter++;
    alt_barrier();
    WARN_ON(counter > 3);
    if (get_user_int(&v, p))
        return -14;
    return v;
}
int g(const int *p) {
    int v = 0;
    if (static_key_false(&key))
        counter += 2;
    alt_barrier();
    WARN_ON(counter > 5);
    if (get_user_int(&v, p))
        return -14;
    return v + 1;
}
)";

std::string tables_patched() {
    std::string src = kTablesOrig;
    src.replace(src.find("return v;"), 9, "return v * 2;");
    return src;
}

TEST_F(DiffAarch64, SpecialSectionsKeepOnlyTheChangedFunctionsEntries) {
    RunResult r = diff(kTablesOrig, tables_patched());
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    const elf::Symbol *f = out->find_symbol("f");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(section("__bug_table").size(), 12u);
    EXPECT_EQ(section("__ex_table").size(), 12u);
    EXPECT_EQ(section("__jump_table").size(), 16u);
    EXPECT_EQ(section(".altinstructions").size(), 12u);
    for (const char *table : {"__bug_table", "__ex_table", "__jump_table", ".altinstructions"}) {
        SCOPED_TRACE(table);
        auto relocs = relocations(table);
        ASSERT_GE(relocs.size(), 2u);
        // The first field points into f, relative (PREL32).
        EXPECT_EQ(relocs[0].rfind(std::to_string(R_AARCH64_PREL32) + " f+", 0), 0u) << relocs[0];
    }
    // The jump label's key: the kernel's, relative 64-bit.
    EXPECT_EQ(relocations("__jump_table").back(), reloc(R_AARCH64_PREL64, "key"));
    // The bug entry's file name travels with it.
    EXPECT_NE(relocations("__bug_table")[1].find(".L14472"), std::string::npos);
    EXPECT_NE(out->find_section(".rodata.str"), nullptr);
}

// arm64 puts an alternative's replacement after the function's last
// instruction, in the same section, outside the function's symbol: it must
// travel with the function, and the entry must point at it.
TEST_F(DiffAarch64, AlternativeReplacementTravelsWithItsFunction) {
    RunResult r = diff(kTablesOrig, tables_patched());
    ASSERT_EQ(r.status, kWritten) << r.err;
    const elf::Symbol *f = out->find_symbol("f");
    ASSERT_NE(f, nullptr);
    auto relocs = section(".altinstructions").rela->relocs;
    ASSERT_EQ(relocs.size(), 2u);
    const elf::Relocation &replacement = relocs[1];
    ASSERT_EQ(replacement.sym, f);
    EXPECT_GE(replacement.addend, static_cast<int64_t>(f->size)) << "not outside f's symbol";
    EXPECT_EQ(word_at(*f, replacement.addend), 0xd5033bbfu) << "dmb ish";
    EXPECT_EQ(word_at(*f, relocs[0].addend), 0xd503201fu) << "the original nop";
}

// A function with an alternative owns its section: a change to it is seen.
TEST_F(DiffAarch64, FunctionWithAlternativeIsComparedAsAWhole) {
    RunResult r = diff("int f(int x) { alt_barrier(); return x + 1; }\n",
                       "int f(int x) { alt_barrier(); return x + 2; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
}

// gcc on arm64 compiles a dense switch to a jump table of code offsets in
// an anonymous .rodata.<function>: it belongs to the function, is compared
// through it and travels with it (the running kernel has no symbol for it).
std::string switch_source(const std::string &case2) {
    std::string src = "int h0(int); int h1(int); int h2(int); int h3(int);\n"
                      "int f(int x, int y) {\n    switch (x) {\n";
    for (int i = 0; i < 16; i++)
        src += "    case " + std::to_string(i) + ": return " +
               (i == 2 ? case2 : "h" + std::to_string(i % 4) + "(y + " + std::to_string(i) + ")") +
               ";\n";
    return src + "    }\n    return 0;\n}\n";
}

TEST_F(DiffAarch64, SwitchJumpTableTravelsWithItsFunction) {
    // A longer case 2 moves the code of the later cases: the table's
    // offsets change with the function.
    RunResult r = diff(switch_source("h2(y + 2)"), switch_source("h2(h3(y) * h1(y + 7))"));
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"f"});
    const elf::Section &table = section(".rodata.f");
    EXPECT_EQ(table.size(), 16u);
    auto text = relocations(".text.f");
    EXPECT_NE(std::find(text.begin(), text.end(), reloc(R_AARCH64_ADR_PREL_PG_HI21, ".rodata.f")),
              text.end())
        << ::testing::PrintToString(text);
}

TEST_F(DiffAarch64, UnchangedFunctionsJumpTableIsNoChange) {
    std::string g = "int g(int x) { return x + 1; }\n";
    RunResult r = diff(switch_source("h2(y + 2)") + g,
                       switch_source("h2(y + 2)") + "int g(int x) { return x + 5; }\n");
    ASSERT_EQ(r.status, kWritten) << r.err;
    EXPECT_EQ(functions(), Functions{"g"});
    EXPECT_EQ(out->find_section(".rodata.f"), nullptr);
}

// ---- refusals ---------------------------------------------------------------

TEST_F(DiffAarch64, ChangedInitCodeIsRefused) {
    RunResult r = diff("__init int setup(int x) { return x + 1; }\n",
                       "__init int setup(int x) { return x + 2; }\n");
    EXPECT_EQ(r.status, kRefused) << r.err;
    EXPECT_NE(r.err.find("init code has already run"), std::string::npos) << r.err;
}

// __sched functions share .sched.text: the one that changed cannot be told
// from the others (before: the last one was taken for the section's owner
// and reported instead, or the change was missed).
TEST_F(DiffAarch64, ChangeInASharedTextSectionIsRefused) {
    const char *sched = "#define __sched __attribute__((section(\".sched.text\")))\n";
    RunResult r = diff(std::string(sched) + "__sched int f(int x) { return x + 1; }\n"
                                            "__sched int g(int x) { return x * 3; }\n",
                       std::string(sched) + "__sched int f(int x) { return x + 2; }\n"
                                            "__sched int g(int x) { return x * 3; }\n");
    EXPECT_EQ(r.status, kRefused) << r.err;
    EXPECT_NE(r.err.find("section .sched.text changed and holds several functions (f, g)"),
              std::string::npos)
        << r.err;
}

TEST_F(DiffAarch64, ChangedDataIsRefused) {
    RunResult r = diff("int limit = 3;\nint f(void) { return limit; }\n",
                       "int limit = 4;\nint f(void) { return limit; }\n");
    EXPECT_EQ(r.status, kRefused) << r.err;
    EXPECT_NE(r.err.find("data limit"), std::string::npos) << r.err;
}

// ---- the Arch rules on one object ---------------------------------------------

class ArchAarch64 : public ::testing::Test {
  protected:
    TempDir dir;
    std::unique_ptr<elf::Object> obj = elf::Object::read(
        compile(dir, "o", "arch",
                "int counter;\nint other(int);\n"
                "int bump(int x) { return other(x) + ++counter; }\n"
                "__attribute__((patchable_function_entry(0, 0))) int quiet(int x) { return x; }\n",
                {}, &kAarch64KernelFlags, kAarch64Compiler)
            .string());
    const diff::Arch &arch = diff::Arch::for_object(*obj);
    elf::Section &text = *obj->find_section(".text.bump");

    const elf::Relocation &reloc(uint32_t type) {
        auto &relocs = text.rela->relocs;
        auto it = std::find_if(relocs.begin(), relocs.end(),
                               [&](const elf::Relocation &r) { return r.type == type; });
        if (it == relocs.end())
            throw std::runtime_error("no relocation of type " + std::to_string(type));
        return *it;
    }
};

TEST_F(ArchAarch64, TargetIsTheAddendWithoutPcBias) {
    EXPECT_EQ(arch.name(), "aarch64");
    for (uint32_t type :
         {R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_LDST32_ABS_LO12_NC, R_AARCH64_CALL26}) {
        elf::Relocation rel = reloc(type);
        EXPECT_EQ(arch.target_offset(text, rel), 0) << type;
        rel.addend = 12;
        EXPECT_EQ(arch.target_offset(text, rel), 12) << type;
    }
}

TEST_F(ArchAarch64, BranchesAndPcRelativeTypes) {
    EXPECT_TRUE(arch.is_branch(text, reloc(R_AARCH64_CALL26)));
    EXPECT_FALSE(arch.is_branch(text, reloc(R_AARCH64_ADR_PREL_PG_HI21)));
    EXPECT_FALSE(arch.is_branch(text, reloc(R_AARCH64_LDST32_ABS_LO12_NC)));
    for (uint32_t type :
         {R_AARCH64_CALL26, R_AARCH64_JUMP26, R_AARCH64_CONDBR19, R_AARCH64_TSTBR14,
          R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_PREL32, R_AARCH64_PREL64, R_AARCH64_LD_PREL_LO19})
        EXPECT_TRUE(arch.is_pc_relative(type)) << type;
    for (uint32_t type : {R_AARCH64_ABS64, R_AARCH64_ADD_ABS_LO12_NC, R_AARCH64_LDST64_ABS_LO12_NC})
        EXPECT_FALSE(arch.is_pc_relative(type)) << type;
    EXPECT_EQ(arch.absolute64(), static_cast<uint32_t>(R_AARCH64_ABS64));
}

TEST_F(ArchAarch64, FtraceHookIsThePatchableEntry) {
    EXPECT_TRUE(arch.has_ftrace_hook(*obj, *obj->find_symbol("bump")));
    EXPECT_FALSE(arch.has_ftrace_hook(*obj, *obj->find_symbol("quiet")));
}

// Found by reading the bounds check: a record's addend near 2^64 wrapped
// the end of the word it reads.
TEST_F(ArchAarch64, MalformedPatchableRecordIsNoHook) {
    const elf::Symbol &bump = *obj->find_symbol("bump");
    for (auto &sec : obj->sections)
        if (sec->name == "__patchable_function_entries" && sec->rela)
            for (elf::Relocation &r : sec->rela->relocs)
                if (r.sym->sec == bump.sec)
                    r.addend = -4;
    EXPECT_FALSE(arch.has_ftrace_hook(*obj, bump));
}

TEST_F(ArchAarch64, MappingSymbolsAreRecognised) {
    size_t mapping = 0;
    for (const auto &sym : obj->symbols)
        if (arch.is_mapping_symbol(*sym)) {
            mapping++;
            EXPECT_TRUE(sym->name == "$x" || sym->name == "$d") << sym->name;
        }
    EXPECT_GT(mapping, 0u);
    EXPECT_FALSE(arch.is_mapping_symbol(*obj->find_symbol("bump")));
}

} // namespace
