// The ELF model: read -> write -> read keeps sections, symbols and
// relocations, and binutils accepts what write() lays out.
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"
#include "testing/elf_bytes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

using namespace kpp;
using namespace kpp::testing;
using elf::Object;

namespace {

const char *kSource = R"(
extern void printk(const char *fmt, ...);
extern int other_global;
int counter = 5;
static int table[16];
const char *names[] = { "zero", "one", "two" };
static int helper(int x) { return table[x & 15] + other_global; }
__attribute__((noinline)) int get(int i) { return helper(i) * counter; }
int dispatch(int op, int v) {
    switch (op) {
    case 0: return v + 1;
    case 1: return v * 3;
    case 2: return get(v);
    case 3: return v - 7;
    case 4: return v << 2;
    case 5: return v ^ 0x55;
    case 6: return -v;
    default: printk("bad op %d\n", op); return 0;
    }
}
void fill(int v) { for (int i = 0; i < 16; i++) table[i] = v + i; printk("%s\n", names[v % 3]); }
)";

std::string symkey(const elf::Symbol &s) {
    if (s.is_section() && s.sec)
        return "section:" + s.sec->name;
    return s.name;
}

using SymTuple = std::tuple<std::string, int, int, std::string, uint64_t, uint64_t, int>;

std::multiset<SymTuple> symbols_of(const Object &obj) {
    std::multiset<SymTuple> out;
    for (size_t i = 1; i < obj.symbols.size(); i++) {
        const elf::Symbol &s = *obj.symbols[i];
        out.insert({symkey(s), s.bind, s.type, s.sec ? s.sec->name : std::string("<none>"), s.value,
                    s.size, s.sec ? 0 : s.shndx});
    }
    return out;
}

// The section index shifts on write; a section's identity is its name.
std::map<std::string, const elf::Section *> sections_of(const Object &obj) {
    std::map<std::string, const elf::Section *> out;
    for (size_t i = 1; i < obj.sections.size(); i++)
        out.emplace(obj.sections[i]->name, obj.sections[i].get());
    return out;
}

using RelTuple = std::tuple<uint64_t, uint32_t, int64_t, std::string>;

std::vector<RelTuple> relocs_of(const elf::Section &rela) {
    std::vector<RelTuple> out;
    for (const auto &r : rela.relocs)
        out.push_back({r.offset, r.type, r.addend, symkey(*r.sym)});
    return out;
}

void expect_same(const Object &a, const Object &b) {
    EXPECT_EQ(a.machine, b.machine);
    EXPECT_EQ(a.file_type, b.file_type);
    auto sa = sections_of(a), sb = sections_of(b);
    std::set<std::string> na, nb;
    for (auto &[n, _] : sa)
        na.insert(n);
    for (auto &[n, _] : sb)
        nb.insert(n);
    EXPECT_EQ(na, nb);
    for (auto &[name, x] : sa) {
        auto it = sb.find(name);
        if (it == sb.end())
            continue;
        const elf::Section *y = it->second;
        SCOPED_TRACE("section " + name);
        EXPECT_EQ(x->hdr.sh_type, y->hdr.sh_type);
        EXPECT_EQ(x->hdr.sh_flags, y->hdr.sh_flags);
        EXPECT_EQ(x->hdr.sh_addralign, y->hdr.sh_addralign);
        if (x->hdr.sh_type == SHT_SYMTAB || x->hdr.sh_type == SHT_STRTAB || x->is_rela())
            continue; // regenerated (string tables need not share suffixes); compared below
        EXPECT_EQ(x->size(), y->size());
        EXPECT_EQ(x->data, y->data);
        EXPECT_EQ(x->hdr.sh_entsize, y->hdr.sh_entsize);
        EXPECT_EQ(x->rela != nullptr, y->rela != nullptr);
        if (x->rela && y->rela) {
            EXPECT_EQ(x->rela->name, y->rela->name);
            EXPECT_EQ(relocs_of(*x->rela), relocs_of(*y->rela));
        }
    }
    EXPECT_EQ(symbols_of(a), symbols_of(b));
}

class ElfModel : public ::testing::Test {
  protected:
    TempDir dir;
    std::filesystem::path obj = compile(dir, "src", "model", kSource);
};

TEST_F(ElfModel, ReadSeesWhatGccWrote) {
    auto o = Object::read(obj.string());
    EXPECT_EQ(o->machine, EM_X86_64);
    EXPECT_EQ(o->file_type, ET_REL);
    ASSERT_NE(o->find_section(".text.dispatch"), nullptr);
    ASSERT_NE(o->find_section(".text.dispatch")->rela, nullptr);
    EXPECT_EQ(o->find_section(".text.dispatch")->rela->base, o->find_section(".text.dispatch"));
    elf::Symbol *get = o->find_symbol("get");
    ASSERT_NE(get, nullptr);
    EXPECT_TRUE(get->is_func());
    EXPECT_EQ(get->bind, STB_GLOBAL);
    ASSERT_NE(get->sec, nullptr);
    EXPECT_EQ(get->sec->name, ".text.get");
    EXPECT_EQ(get->sec->owner, get);
    EXPECT_GT(get->size, 0u);
    elf::Symbol *counter = o->find_symbol("counter");
    ASSERT_NE(counter, nullptr);
    EXPECT_EQ(counter->sec->name, ".data.counter");
    ASSERT_EQ(counter->sec->data.size(), 4u);
    EXPECT_EQ(counter->sec->data[0], 5);
    elf::Symbol *fentry = o->find_symbol("__fentry__");
    ASSERT_NE(fentry, nullptr);
    EXPECT_TRUE(fentry->is_undefined());
    // The first relocation of every function is the call to __fentry__.
    const auto &relocs = get->sec->rela->relocs;
    ASSERT_FALSE(relocs.empty());
    EXPECT_EQ(relocs[0].sym, fentry);
    EXPECT_EQ(relocs[0].offset, 1u);
    EXPECT_EQ(relocs[0].addend, -4);
    EXPECT_EQ(relocs[0].type, R_X86_64_PLT32);
    // NOBITS sections keep their size without data.
    elf::Section *bss = o->find_section(".bss.table");
    ASSERT_NE(bss, nullptr);
    EXPECT_EQ(bss->hdr.sh_type, SHT_NOBITS);
    EXPECT_EQ(bss->size(), 64u);
}

TEST_F(ElfModel, RoundTripKeepsSectionsSymbolsRelocations) {
    auto first = Object::read(obj.string());
    std::string out = (dir / "written.o").string();
    first->write(out);
    auto second = Object::read(out);
    auto original = Object::read(obj.string());
    expect_same(*original, *second);
    // And once more: writing what was read from a written file is stable.
    std::string out2 = (dir / "written2.o").string();
    second->write(out2);
    auto third = Object::read(out2);
    expect_same(*second, *third);
}

TEST_F(ElfModel, ReadelfAcceptsWrittenObject) {
    auto o = Object::read(obj.string());
    std::string out = (dir / "written.o").string();
    o->write(out);
    RunResult r = run({"readelf", "-W", "-a", out});
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find("Warning"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("Warning"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Error"), std::string::npos) << r.err;
    // objdump can disassemble it and sees the same functions.
    RunResult d = run({"objdump", "-dr", out});
    ASSERT_TRUE(d.exited);
    EXPECT_EQ(d.status, 0) << d.err;
    EXPECT_NE(d.out.find("<dispatch>:"), std::string::npos);
    EXPECT_NE(d.out.find("R_X86_64_PLT32\t__fentry__-0x4"), std::string::npos) << d.out;
}

TEST_F(ElfModel, EditedModelIsWrittenConsistently) {
    auto o = Object::read(obj.string());
    // Add a symbol and a relocation; the regenerated tables must carry them.
    elf::Section *data = o->find_section(".data.counter");
    ASSERT_NE(data, nullptr);
    elf::Symbol *added = o->add_symbol("kpp_added", STB_GLOBAL, STT_OBJECT, data, 0, 4);
    elf::Section *rela = o->rela_for(o->find_section(".text.get"));
    ASSERT_NE(rela, nullptr);
    size_t before = rela->relocs.size();
    rela->relocs.push_back({0x2, R_X86_64_PC32, -4, added});
    std::string out = (dir / "edited.o").string();
    o->write(out);
    auto back = Object::read(out);
    elf::Symbol *s = back->find_symbol("kpp_added");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->sec->name, ".data.counter");
    EXPECT_EQ(s->size, 4u);
    const auto &relocs = back->find_section(".text.get")->rela->relocs;
    ASSERT_EQ(relocs.size(), before + 1);
    bool found = false;
    for (const auto &r : relocs)
        found |= r.sym->name == "kpp_added" && r.offset == 2 && r.addend == -4;
    EXPECT_TRUE(found);
    RunResult r = run({"readelf", "-W", "-a", out});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out.find("Warning"), std::string::npos);
    EXPECT_EQ(r.err.find("Warning"), std::string::npos) << r.err;
}

TEST(ElfModelErrors, NotElfThrowsErrorNamingFile) {
    TempDir dir;
    write_file(dir / "text.o", "this is not an ELF file\n");
    try {
        Object::read((dir / "text.o").string());
        FAIL() << "expected kpp::Error";
    } catch (const Refusal &) {
        FAIL() << "a malformed file is an Error, not a Refusal";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("text.o"), std::string::npos) << e.what();
    }
}

TEST(ElfModelErrors, MissingFileThrowsError) {
    EXPECT_THROW(Object::read("/nonexistent/kpp/none.o"), Error);
}

// A section's size and offset are checked against the file even when only
// the symbols are read (vmlinux look-ups), since later reads go by them.
TEST(ElfModelErrors, SectionPastEndOfFileThrowsErrorNamingSection) {
    TempDir dir;
    std::filesystem::path good = compile(dir, "good", "model", kSource);
    ElfBytes elf(read_file(good));
    size_t text = elf.section_index(".text.get");
    Elf64_Shdr shdr = elf.section(text);
    shdr.sh_size = 0xfffffffd0001;
    elf.set_section(text, shdr);
    write_file(dir / "huge.o", elf.bytes());
    for (bool symbols_only : {true, false}) {
        SCOPED_TRACE(symbols_only ? "read_symbols" : "read");
        try {
            if (symbols_only)
                Object::read_symbols((dir / "huge.o").string());
            else
                Object::read((dir / "huge.o").string());
            FAIL() << "expected kpp::Error";
        } catch (const Error &e) {
            EXPECT_NE(std::string(e.what()).find("section .text.get"), std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find("ends past the end of the file"),
                      std::string::npos)
                << e.what();
        }
    }
}

// A symbol defined in a table write() regenerates (fuzz_elf_read finding
// symbol-in-shstrtab-use-after-free): write() drops the table, and the
// symbol must lose its section before the table is freed, not after.
TEST(ElfModelErrors, SymbolInRegeneratedTableIsWrittenWithoutSection) {
    TempDir dir;
    std::filesystem::path good = compile(dir, "good", "model", kSource);
    ElfBytes elf(read_file(good));
    size_t get = elf.symbol_index("get");
    Elf64_Sym sym = elf.symbol(get);
    sym.st_shndx = static_cast<uint16_t>(elf.section_index(".shstrtab"));
    sym.st_size = 0;
    sym.st_value = 0;
    elf.set_symbol(get, sym);
    write_file(dir / "in-shstrtab.o", elf.bytes());
    auto obj = Object::read((dir / "in-shstrtab.o").string());
    obj->write((dir / "out.o").string());
    auto again = Object::read((dir / "out.o").string());
    const elf::Symbol *written = again->find_symbol("get");
    ASSERT_NE(written, nullptr);
    EXPECT_EQ(written->sec, nullptr);
    EXPECT_EQ(written->shndx, SHN_UNDEF);
}

} // namespace
