// Malformed input through the create-diff-object CLI: every case must end
// with exit status 1 or 2 (never a signal) and exactly one error line on
// stderr naming the bad file.
#include "libkpp/elf/object.h"
#include "testing/compile.h"
#include "testing/elf_bytes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <elf.h>

using namespace kpp::testing;

namespace {

const char *kTool = KPP_CREATE_DIFF_OBJECT;

const char *kSource = R"(
int limit = 3;
static int helper(int x) { return x * limit; }
int api(int x) { return helper(x) + 1; }
)";

class Malformed : public ::testing::Test {
  protected:
    TempDir dir;
    std::filesystem::path good = compile(dir, "good", "mal", kSource);
    std::filesystem::path symtab = symtab_of(dir, good);

    RunResult tool(const std::filesystem::path &orig, const std::filesystem::path &patched,
                   const std::filesystem::path *parent_symtab = nullptr) {
        return run({"env", "BUG_STRUCT_SIZE=12", "JUMP_STRUCT_SIZE=24", "ALT_STRUCT_SIZE=13",
                    "EX_STRUCT_SIZE=12", "PARA_STRUCT_SIZE=16", "ORC_STRUCT_SIZE=6",
                    "STATIC_CALL_STRUCT_SIZE=8", "PRINTK_INDEX_STRUCT_SIZE=44", kTool,
                    orig.string(), patched.string(), "vmlinux",
                    (parent_symtab ? *parent_symtab : symtab).string(), "/dev/null", "test_mal",
                    (dir / "out.o").string()});
    }

    // `source` built as it is (orig/NAME.o) and with -DPATCHED (patched/NAME.o).
    std::pair<std::filesystem::path, std::filesystem::path>
    compile_pair(const std::string &name, const std::string &source) {
        return {compile(dir, "orig", name, source),
                compile(dir, "patched", name, source, {"-DPATCHED"})};
    }

    // Runs the tool and checks that it ended in one error line with exit
    // status 2 that names the file and says `what`.
    void expect_bad_input(const std::filesystem::path &orig, const std::filesystem::path &patched,
                          const std::string &names, const std::string &what,
                          const std::filesystem::path *parent_symtab = nullptr) {
        RunResult r = tool(orig, patched, parent_symtab);
        ASSERT_TRUE(r.exited) << "killed by signal " << r.status << "; stderr: " << r.err;
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("create-diff-object: error:", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(names), std::string::npos)
            << "does not name " << names << ": " << r.err;
        EXPECT_NE(r.err.find(what), std::string::npos) << "does not say " << what << ": " << r.err;
        EXPECT_FALSE(std::filesystem::exists(dir / "out.o"));
    }

    std::filesystem::path copy_with(const std::string &name, const std::string &bytes) {
        std::filesystem::path p = dir / name;
        write_file(p, bytes);
        return p;
    }

    // Checks the contract for BAD given as ORIG and then as PATCHED.
    void expect_clean_error(const std::filesystem::path &bad) {
        for (int as_patched = 0; as_patched < 2; as_patched++) {
            SCOPED_TRACE(as_patched ? "as PATCHED" : "as ORIG");
            RunResult r = as_patched ? tool(good, bad) : tool(bad, good);
            ASSERT_TRUE(r.exited) << "killed by signal " << r.status << "; stderr: " << r.err;
            EXPECT_TRUE(r.status == 1 || r.status == 2) << "exit " << r.status << "; " << r.err;
            ASSERT_FALSE(r.err.empty());
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
            EXPECT_EQ(r.err.back(), '\n');
            EXPECT_EQ(r.err.rfind("create-diff-object: error:", 0), 0u) << r.err;
            EXPECT_NE(r.err.find(bad.filename().string()), std::string::npos)
                << "does not name " << bad.filename() << ": " << r.err;
            EXPECT_FALSE(std::filesystem::exists(dir / "out.o"));
        }
    }
};

TEST_F(Malformed, GoodPairSanity) {
    RunResult r = tool(good, good);
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.status, 3) << r.err; // no change
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Malformed, TruncatedFile) {
    std::string bytes = read_file(good);
    expect_clean_error(copy_with("truncated.o", bytes.substr(0, 100)));
}

// The message must say what is wrong: a cut file is not a "stripped" one.
TEST_F(Malformed, TruncatedFileIsNotCalledStripped) {
    std::string bytes = read_file(good);
    RunResult r = tool(copy_with("truncated.o", bytes.substr(0, 100)), good);
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err.find("stripped"), std::string::npos) << r.err;
    EXPECT_TRUE(r.err.find("truncated") != std::string::npos ||
                r.err.find("corrupt") != std::string::npos ||
                r.err.find("section header") != std::string::npos)
        << r.err;
}

TEST_F(Malformed, TruncatedInsideSectionData) {
    // Headers intact, section contents cut: the header table is at the end
    // of a gcc object, so keep it and zero-length the middle instead.
    std::string bytes = read_file(good);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    expect_clean_error(copy_with("cut.o", bytes.substr(0, eh.e_shoff + eh.e_shentsize * 2)));
}

// A machine the diff has no Arch for: the message names it and the
// supported ones.
TEST_F(Malformed, WrongMachine) {
    std::string bytes = read_file(good);
    uint16_t ppc64 = EM_PPC64;
    std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_machine), &ppc64, 2);
    std::filesystem::path bad = copy_with("ppc64.o", bytes);
    expect_clean_error(bad);
    for (RunResult r : {tool(bad, good), tool(good, bad)}) {
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_NE(r.err.find("machine ppc64 is not supported (supported: x86_64, aarch64)"),
                  std::string::npos)
            << r.err;
    }
}

// Two supported machines, but not the same one.
TEST_F(Malformed, MachinesDiffer) {
    std::filesystem::path arm64 =
        compile(dir, "arm64", "mal", kSource, {}, &kAarch64KernelFlags, kAarch64Compiler);
    RunResult r = tool(good, arm64);
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("(x86_64) and " + arm64.string() +
                         " (aarch64) are built for different machines"),
              std::string::npos)
        << r.err;
}

TEST_F(Malformed, NotElf) {
    expect_clean_error(copy_with("notes.o", "just some text\nnot an object\n"));
}

TEST_F(Malformed, EmptyFile) {
    expect_clean_error(copy_with("empty.o", ""));
}

TEST_F(Malformed, Elf32) {
    std::string bytes = read_file(good);
    bytes[EI_CLASS] = ELFCLASS32;
    expect_clean_error(copy_with("class32.o", bytes));
}

TEST_F(Malformed, NoSymbolTable) {
    std::filesystem::path stripped = dir / "stripped.o";
    RunResult s = run({"objcopy", "--strip-all", good.string(), stripped.string()});
    ASSERT_EQ(s.status, 0) << s.err;
    RunResult check = run({"readelf", "-S", "-W", stripped.string()});
    ASSERT_EQ(check.out.find(".symtab"), std::string::npos) << "objcopy kept .symtab";
    expect_clean_error(stripped);
}

TEST_F(Malformed, RelocationToMissingSymbol) {
    std::string bytes = read_file(good);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    bool patched_one = false;
    for (int i = 0; i < eh.e_shnum && !patched_one; i++) {
        Elf64_Shdr sh;
        std::memcpy(&sh, bytes.data() + eh.e_shoff + i * eh.e_shentsize, sizeof sh);
        if (sh.sh_type != SHT_RELA || sh.sh_size == 0)
            continue;
        Elf64_Rela rela;
        std::memcpy(&rela, bytes.data() + sh.sh_offset, sizeof rela);
        rela.r_info = ELF64_R_INFO(0x00ffffffu, ELF64_R_TYPE(rela.r_info));
        std::memcpy(bytes.data() + sh.sh_offset, &rela, sizeof rela);
        patched_one = true;
    }
    ASSERT_TRUE(patched_one);
    expect_clean_error(copy_with("badsym.o", bytes));
}

// A "none" relocation against no symbol (what a linker leaves for a
// discarded target) is read as nothing, not as a reference to symbol 0;
// symbol 0 with a real type stays an error (above: RelocationToMissingSymbol).
TEST_F(Malformed, NoneRelocationAgainstNoSymbolIsDropped) {
    std::string bytes = read_file(good);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    std::string rela_name;
    size_t before = 0;
    for (int i = 0; i < eh.e_shnum && rela_name.empty(); i++) {
        Elf64_Shdr sh;
        std::memcpy(&sh, bytes.data() + eh.e_shoff + i * eh.e_shentsize, sizeof sh);
        if (sh.sh_type != SHT_RELA || sh.sh_size == 0)
            continue;
        Elf64_Rela rela;
        std::memcpy(&rela, bytes.data() + sh.sh_offset, sizeof rela);
        rela.r_info = ELF64_R_INFO(0, 0);
        std::memcpy(bytes.data() + sh.sh_offset, &rela, sizeof rela);
        auto original = kpp::elf::Object::read(good.string());
        for (auto &sec : original->sections)
            if (sec->hdr.sh_offset == sh.sh_offset && sec->is_rela()) {
                rela_name = sec->name;
                before = sec->relocs.size();
            }
    }
    ASSERT_FALSE(rela_name.empty());
    auto obj = kpp::elf::Object::read(copy_with("none.o", bytes).string());
    ASSERT_NE(obj->find_section(rela_name), nullptr);
    EXPECT_EQ(obj->find_section(rela_name)->relocs.size(), before - 1);
}

TEST_F(Malformed, SectionHeaderOffsetPastEnd) {
    std::string bytes = read_file(good);
    uint64_t off = bytes.size() + 4096;
    std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_shoff), &off, 8);
    expect_clean_error(copy_with("shoff.o", bytes));
}

TEST_F(Malformed, SymbolSectionIndexOutOfRange) {
    std::string bytes = read_file(good);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    bool done = false;
    for (int i = 0; i < eh.e_shnum && !done; i++) {
        Elf64_Shdr sh;
        std::memcpy(&sh, bytes.data() + eh.e_shoff + i * eh.e_shentsize, sizeof sh);
        if (sh.sh_type != SHT_SYMTAB)
            continue;
        // The last symbol (a defined global in gcc's output): point it at
        // a section that does not exist.
        for (uint64_t at = sh.sh_offset + sh.sh_size - sizeof(Elf64_Sym); at > sh.sh_offset;
             at -= sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            std::memcpy(&sym, bytes.data() + at, sizeof sym);
            if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE) {
                sym.st_shndx = 0xfe00;
                std::memcpy(bytes.data() + at, &sym, sizeof sym);
                done = true;
                break;
            }
        }
    }
    ASSERT_TRUE(done);
    expect_clean_error(copy_with("badshndx.o", bytes));
}

TEST_F(Malformed, MissingFile) {
    expect_clean_error(dir / "does-not-exist.o");
}

// Sizes and offsets come from the file: a symbol that reaches past the end
// of its section (a fuzzer's st_size of 0xfffffffd0001 asked for terabytes)
// is bad input, named, whichever side it is on.
TEST_F(Malformed, SymbolSizePastItsSection) {
    ElfBytes elf(read_file(good));
    size_t api = elf.symbol_index("api");
    Elf64_Sym sym = elf.symbol(api);
    sym.st_size = 0xfffffffd0001;
    elf.set_symbol(api, sym);
    expect_clean_error(copy_with("huge-size.o", elf.bytes()));
    expect_bad_input(good, dir / "huge-size.o", "symbol api",
                     "reaches past the end of its section");
}

TEST_F(Malformed, SymbolOffsetPastItsSection) {
    ElfBytes elf(read_file(good));
    size_t limit = elf.symbol_index("limit");
    Elf64_Sym sym = elf.symbol(limit);
    sym.st_value = 0x7fffffffffff0000;
    elf.set_symbol(limit, sym);
    expect_clean_error(copy_with("far-offset.o", elf.bytes()));
    expect_bad_input(dir / "far-offset.o", good, "symbol limit",
                     "reaches past the end of its section");
}

// A section symbol stands for its section: one without (fuzz_diff finding
// section-symbol-without-section) is bad input, not a null section later.
TEST_F(Malformed, SectionSymbolWithoutSection) {
    ElfBytes elf(read_file(good));
    size_t text = elf.section_index(".text.api");
    bool done = false;
    for (size_t i = 1; !done; i++) {
        Elf64_Sym sym = elf.symbol(i);
        if (ELF64_ST_TYPE(sym.st_info) != STT_SECTION || sym.st_shndx != text)
            continue;
        sym.st_shndx = SHN_ABS;
        elf.set_symbol(i, sym);
        done = true;
    }
    expect_clean_error(copy_with("secsym-abs.o", elf.bytes()));
    expect_bad_input(good, dir / "secsym-abs.o", "secsym-abs.o",
                     "is a section symbol without a section");
}

// Addends come from the file: one at the end of the signed range must not
// overflow the offset arithmetic (fuzz_diff finding addend-overflow; the
// sanitizer build's run of this test is what catches it).
TEST_F(Malformed, RelocationAddendAtEndOfRange) {
    const char *source = R"(
extern int printk(const char *fmt, ...);
#ifdef PATCHED
int api(int x) { return printk("api %d, patched\n", x); }
#else
int api(int x) { return printk("api %d\n", x); }
#endif
)";
    auto [orig, patched] = compile_pair("addend", source);
    ElfBytes elf(read_file(patched));
    bool done = false;
    for (size_t i = 0; !done; i++) {
        Elf64_Rela r = elf.relocation(".rela.text.api", i);
        Elf64_Sym target = elf.symbol(ELF64_R_SYM(r.r_info));
        if (ELF64_ST_TYPE(target.st_info) != STT_SECTION)
            continue;
        r.r_addend = INT64_MIN;
        elf.set_relocation(".rela.text.api", i, r);
        done = true;
    }
    std::filesystem::path parent = symtab_of(dir, orig, "addend-symtab");
    RunResult r = tool(orig, copy_with("addend.o", elf.bytes()), &parent);
    ASSERT_TRUE(r.exited) << "killed by signal " << r.status << "; stderr: " << r.err;
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("api refers to .rodata"), std::string::npos) << r.err;
}

// The parent's symbol table as text is input too: a row whose numbers do
// not read is one error line naming the file and the line.
TEST_F(Malformed, ParentSymbolTableRowWithoutNumbers) {
    std::string text = read_file(symtab);
    size_t row = text.find("   1: ");
    ASSERT_NE(row, std::string::npos) << text;
    text.replace(row + 6, 16, "zzzzzzzzzzzzzzzz");
    std::filesystem::path bad = copy_with("bad-symtab", text);
    size_t line = std::count(text.begin(), text.begin() + row, '\n') + 1;
    expect_bad_input(good, good, "bad-symtab:" + std::to_string(line), "not a number", &bad);
}

// A relocation of a changed function may name a local that is no function
// or object (a label, like the kernel's __initcall_* ones): it has a file
// in the parent as any local does. This took an unordered_map::at out of
// bounds (fuzz_diff finding fuzz_diff-out_of_range-2026-12-03.bin).
TEST_F(Malformed, ChangedFunctionRefersToLocalLabel) {
    const char *source = R"(
asm(".pushsection .text.marker, \"ax\"\nmarker_label:\n nop\n.popsection");
int limit = 3;
#ifdef PATCHED
int api(int x) { return x * limit + 2; }
#else
int api(int x) { return x * limit + 1; }
#endif
)";
    auto [orig, patched] = compile_pair("label", source);
    ElfBytes elf(read_file(patched));
    size_t label = elf.symbol_index("marker_label");
    size_t limit = elf.symbol_index("limit");
    bool repointed = false;
    for (size_t i = 0; !repointed; i++) {
        Elf64_Rela r = elf.relocation(".rela.text.api", i);
        if (ELF64_R_SYM(r.r_info) != limit)
            continue;
        r.r_info = ELF64_R_INFO(label, ELF64_R_TYPE(r.r_info));
        elf.set_relocation(".rela.text.api", i, r);
        repointed = true;
    }
    std::filesystem::path edited = copy_with("label.o", elf.bytes());
    std::filesystem::path parent = symtab_of(dir, orig, "label-symtab");
    RunResult r = tool(orig, edited, &parent);
    ASSERT_TRUE(r.exited) << "killed by signal " << r.status << "; stderr: " << r.err;
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "label.o: changed function: api\n");
    RunResult syms = run({"readelf", "-s", "-W", (dir / "out.o").string()});
    EXPECT_NE(syms.out.find(".klp.sym.vmlinux.marker_label,0"), std::string::npos) << syms.out;
}

// .orc_unwind holds one entry per entry of .orc_unwind_ip; an object whose
// .orc_unwind is short is bad input, not a patch with made-up unwind data.
TEST_F(Malformed, OrcUnwindShorterThanItsIpTable) {
    const char *source = R"(
#define ORC_IP() asm volatile("1:\n.pushsection .orc_unwind_ip, \"a\"\n.long 1b - .\n.popsection")
int first(int x) {
    ORC_IP();
    asm volatile(".pushsection .orc_unwind, \"a\"\n.fill 6, 1, 0\n.popsection");
    return x + 1;
}
#ifdef PATCHED
int second(int x) { ORC_IP(); return x * 5; }
#else
int second(int x) { ORC_IP(); return x * 3; }
#endif
)";
    auto [orig, patched] = compile_pair("orc", source);
    std::filesystem::path parent = symtab_of(dir, orig, "orc-symtab");
    expect_bad_input(orig, patched, "orc.o", ".orc_unwind (6 bytes, 6-byte entries) has no entry 1",
                     &parent);
}

} // namespace
