// Tests for kpatch-build/klp_convert: objects built with the ELF model (and
// one compiled by gcc at test time) are converted, written, read back and
// checked for the livepatch sections, flags, symbols and relocations.
#include "kpatch-build/module/klp_convert.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using kpp::elf::Object;
using kpp::elf::Section;
using kpp::elf::Symbol;

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "kpp-klp-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string &name) const { return (path_ / name).string(); }

  private:
    fs::path path_;
};

void put64(Section *sec, uint64_t off, uint64_t v) {
    if (sec->data.size() < off + 8)
        sec->data.resize(off + 8);
    std::memcpy(sec->data.data() + off, &v, 8);
}

// A patch module in miniature, shaped like create-diff-object's output
// after kbuild linked it: one new function for vmlinux (cmdline_proc_show)
// and one for module "ext4" (ext4_foo), a data table, debug info.
struct Fixture {
    std::unique_ptr<Object> obj = std::make_unique<Object>();
    Section *text = nullptr, *text2 = nullptr, *data = nullptr, *funcs = nullptr,
            *strings = nullptr, *debug = nullptr, *modinfo = nullptr;
    Symbol *fn = nullptr, *fn2 = nullptr, *klp_cmdline = nullptr, *klp_constprop = nullptr,
           *klp_ext4 = nullptr, *printk = nullptr, *strsym = nullptr;
    kpp::klp::Symvers symvers{{"_printk", {"vmlinux", "EXPORT_SYMBOL", ""}},
                              {"__fentry__", {"vmlinux", "EXPORT_SYMBOL", ""}}};
    uint64_t str_off = 0;

    Fixture() {
        obj->path = "fixture.ko";
        obj->symbols.push_back(std::make_unique<Symbol>());
        obj->sections.push_back(std::make_unique<Section>());
        text = obj->add_section(".text.cmdline_proc_show", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
                                16);
        text->data.assign(64, 0x90);
        text2 = obj->add_section(".text.ext4_foo", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16);
        text2->data.assign(32, 0x90);
        data = obj->add_section(".data.table", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
        data->data.assign(16, 0);
        strings = obj->add_section(".kpatchpp.strings", SHT_PROGBITS, SHF_ALLOC, 1);
        funcs = obj->add_section(".kpatchpp.funcs", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
        debug = obj->add_section(".debug_info", SHT_PROGBITS, 0, 1);
        debug->data.assign(32, 0);
        modinfo = obj->add_section(".modinfo", SHT_PROGBITS, SHF_ALLOC, 1);
        const char mi[] = "license=GPL\0livepatch=Y";
        modinfo->data.assign(mi, mi + sizeof(mi));

        strsym = obj->add_symbol("", STB_LOCAL, STT_SECTION, strings, 0, 0);
        fn = obj->add_symbol("cmdline_proc_show", STB_LOCAL, STT_FUNC, text, 0, 64);
        fn2 = obj->add_symbol("ext4_foo", STB_LOCAL, STT_FUNC, text2, 0, 32);
        klp_cmdline = undef(".klp.sym.vmlinux.saved_command_line,0");
        klp_constprop = undef(".klp.sym.vmlinux.show_val.constprop.0,2");
        klp_ext4 = undef(".klp.sym.ext4.ext4_helper,1");
        printk = undef("_printk");
        undef("__fentry__");

        add_func(fn, "cmdline_proc_show", "vmlinux");
        add_func(fn2, "ext4_foo", "ext4");

        reloc(text, 1, R_X86_64_PLT32, obj->find_symbol("__fentry__"), -4);
        reloc(text, 8, R_X86_64_PC32, klp_cmdline, -4);
        reloc(text, 16, R_X86_64_PLT32, printk, -4);
        reloc(text, 24, R_X86_64_PLT32, klp_constprop, -4);
        reloc(text, 32, R_X86_64_PC32, klp_cmdline, -4);
        reloc(text2, 4, R_X86_64_PLT32, klp_ext4, -4);
        reloc(data, 0, R_X86_64_64, klp_constprop, 0);
        reloc(data, 8, R_X86_64_64, fn, 0);
        reloc(debug, 0, R_X86_64_64, klp_cmdline, 0);
        reloc(debug, 8, R_X86_64_64, fn, 0);
    }

    Symbol *undef(const std::string &name) {
        return obj->add_symbol(name, STB_GLOBAL, STT_NOTYPE, nullptr, 0, 0);
    }

    uint64_t add_string(const std::string &s) {
        uint64_t at = strings->data.size();
        strings->data.insert(strings->data.end(), s.begin(), s.end());
        strings->data.push_back(0);
        return at;
    }

    void add_func(Symbol *newfn, const std::string &name, const std::string &objname) {
        uint64_t e = funcs->data.size();
        funcs->data.resize(e + 48, 0);
        put64(funcs, e + 16, newfn->size);
        reloc(funcs, e, R_X86_64_64, newfn, 0);
        reloc(funcs, e + 32, R_X86_64_64, strsym, static_cast<int64_t>(add_string(name)));
        reloc(funcs, e + 40, R_X86_64_64, strsym, static_cast<int64_t>(add_string(objname)));
    }

    void reloc(Section *sec, uint64_t off, uint32_t type, Symbol *sym, int64_t addend) {
        obj->rela_for(sec)->relocs.push_back({off, type, addend, sym});
    }

    std::unique_ptr<Object> convert_and_reread(const TempDir &dir,
                                               kpp::klp::ConvertResult *result = nullptr) {
        std::string in = dir.file("in.ko"), out = dir.file("out.ko"),
                    symvers_path = dir.file("Module.symvers");
        obj->write(in);
        std::ofstream sv(symvers_path);
        for (const auto &[name, e] : symvers)
            sv << "0x00000000\t" << name << '\t' << e.module << '\t' << e.export_type << '\t'
               << e.ns << '\n';
        sv.close();
        auto r = kpp::klp::convert_module(in, out, symvers_path);
        if (result)
            *result = r;
        return Object::read(out);
    }
};

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const kpp::Error &e) {
        return e.what();
    }
    return "(no error)";
}

size_t relocs_against(const Section *rela, std::string_view symname) {
    return std::count_if(rela->relocs.begin(), rela->relocs.end(),
                         [&](const auto &r) { return r.sym->name == symname; });
}

TEST(KlpConvert, ConvertsHandBuiltModule) {
    TempDir dir;
    Fixture f;
    kpp::klp::ConvertResult result;
    auto out = f.convert_and_reread(dir, &result);

    EXPECT_EQ(result.klp_symbols, 3u);
    EXPECT_EQ(result.klp_relocations, 5u);
    EXPECT_EQ(result.dropped_relocations, 1u);

    for (const char *name :
         {".klp.sym.vmlinux.saved_command_line,0", ".klp.sym.vmlinux.show_val.constprop.0,2",
          ".klp.sym.ext4.ext4_helper,1"}) {
        Symbol *s = out->find_symbol(name);
        ASSERT_NE(s, nullptr) << name;
        EXPECT_EQ(s->shndx, kpp::elf::kShnLivepatch) << name;
        EXPECT_EQ(s->sec, nullptr);
        EXPECT_EQ(s->bind, STB_GLOBAL);
    }
    EXPECT_EQ(out->find_symbol("_printk")->shndx, SHN_UNDEF);

    Section *vm = out->find_section(".klp.rela.vmlinux..text.cmdline_proc_show");
    ASSERT_NE(vm, nullptr);
    EXPECT_EQ(vm->hdr.sh_type, static_cast<uint32_t>(SHT_RELA));
    EXPECT_EQ(vm->hdr.sh_flags, SHF_ALLOC | SHF_INFO_LINK | kpp::elf::kShfRelaLivepatch);
    EXPECT_EQ(vm->hdr.sh_entsize, sizeof(Elf64_Rela));
    ASSERT_NE(vm->base, nullptr);
    EXPECT_EQ(vm->base->name, ".text.cmdline_proc_show");
    EXPECT_EQ(vm->hdr.sh_info, vm->base->index);
    ASSERT_EQ(vm->relocs.size(), 3u);
    EXPECT_EQ(relocs_against(vm, ".klp.sym.vmlinux.saved_command_line,0"), 2u);
    EXPECT_EQ(relocs_against(vm, ".klp.sym.vmlinux.show_val.constprop.0,2"), 1u);
    EXPECT_EQ(vm->relocs[0].offset, 8u);
    EXPECT_EQ(vm->relocs[0].type, static_cast<uint32_t>(R_X86_64_PC32));
    EXPECT_EQ(vm->relocs[0].addend, -4);

    // The ordinary relocations stay where they were.
    Section *rtext = out->find_section(".rela.text.cmdline_proc_show");
    ASSERT_NE(rtext, nullptr);
    EXPECT_EQ(rtext->relocs.size(), 2u);
    EXPECT_EQ(relocs_against(rtext, "_printk"), 1u);
    EXPECT_EQ(relocs_against(rtext, "__fentry__"), 1u);

    Section *ext4 = out->find_section(".klp.rela.ext4..text.ext4_foo");
    ASSERT_NE(ext4, nullptr);
    EXPECT_EQ(ext4->relocs.size(), 1u);
    EXPECT_EQ(ext4->hdr.sh_flags & kpp::elf::kShfRelaLivepatch, kpp::elf::kShfRelaLivepatch);
    // All of .text.ext4_foo's relocations moved: its .rela section is gone.
    EXPECT_EQ(out->find_section(".rela.text.ext4_foo"), nullptr);

    Section *data = out->find_section(".klp.rela.vmlinux..data.table");
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->relocs.size(), 1u);
    EXPECT_EQ(data->relocs[0].type, static_cast<uint32_t>(R_X86_64_64));
    EXPECT_EQ(out->find_section(".rela.data.table")->relocs.size(), 1u);

    // Debug info keeps its other relocations; the livepatch one is dropped.
    Section *rdebug = out->find_section(".rela.debug_info");
    ASSERT_NE(rdebug, nullptr);
    EXPECT_EQ(rdebug->relocs.size(), 1u);
    EXPECT_EQ(relocs_against(rdebug, ".klp.sym.vmlinux.saved_command_line,0"), 0u);

    EXPECT_EQ(result.klp_sections.size(), 3u);
    EXPECT_EQ(result.removed_sections, std::vector<std::string>{".rela.text.ext4_foo"});
}

TEST(KlpConvert, ConvertingTwiceChangesNothing) {
    TempDir dir;
    Fixture f;
    auto once = f.convert_and_reread(dir);
    std::string symvers = dir.file("Module.symvers");
    kpp::klp::ConvertResult again =
        kpp::klp::convert_module(dir.file("out.ko"), dir.file("out2.ko"), symvers);
    EXPECT_EQ(again.klp_symbols, 3u);
    EXPECT_EQ(again.klp_relocations, 0u);
    auto twice = Object::read(dir.file("out2.ko"));
    EXPECT_EQ(twice->find_section(".klp.rela.vmlinux..text.cmdline_proc_show")->relocs.size(), 3u);
}

TEST(KlpConvert, RefusesUnexportedPlainSymbol) {
    TempDir dir;
    Fixture f;
    Symbol *hidden = f.undef("saved_command_line");
    f.reloc(f.text, 40, R_X86_64_PC32, hidden, -4);
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("'saved_command_line'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not exported"), std::string::npos) << msg;
    EXPECT_NE(msg.find(".klp.sym."), std::string::npos) << msg;
}

TEST(KlpConvert, AcceptsWeakUndefinedSymbol) {
    TempDir dir;
    Fixture f;
    f.undef("maybe_there")->bind = STB_WEAK;
    EXPECT_NO_THROW(f.convert_and_reread(dir));
}

TEST(KlpConvert, RefusesNamespaceNotImported) {
    TempDir dir;
    Fixture f;
    f.symvers["ns_func"] = {"vmlinux", "EXPORT_SYMBOL_GPL", "CRYPTO_INTERNAL"};
    f.undef("ns_func");
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("MODULE_IMPORT_NS(CRYPTO_INTERNAL)"), std::string::npos) << msg;

    const char more[] = "import_ns=CRYPTO_INTERNAL";
    f.modinfo->data.insert(f.modinfo->data.end(), more, more + sizeof(more));
    TempDir dir2;
    EXPECT_NO_THROW(f.convert_and_reread(dir2));
}

TEST(KlpConvert, RefusesMalformedSymbolNames) {
    const char *bad[] = {
        ".klp.sym.vmlinux.saved_command_line",   // no sympos
        ".klp.sym.vmlinux.saved_command_line,x", // sympos not a number
        ".klp.sym.vmlinux.saved_command_line,",  // empty sympos
        ".klp.sym.vmlinux.,0",                   // empty symbol
        ".klp.sym.vmlinux",                      // no symbol at all
        ".klp.sym..foo,0",                       // empty object name
        ".klp.sym.bad!mod.foo,0",                // invalid object name
        ".klp.sym.vmlinux.a,b,0",                // ',' in the symbol
    };
    for (const char *name : bad) {
        TempDir dir;
        Fixture f;
        f.reloc(f.text, 40, R_X86_64_PC32, f.undef(name), -4);
        std::string msg = error_of([&] { f.convert_and_reread(dir); });
        EXPECT_NE(msg.find("is malformed"), std::string::npos) << name << ": " << msg;
        EXPECT_NE(msg.find(name), std::string::npos) << name << ": " << msg;
    }
    std::string longobj = ".klp.sym." + std::string(56, 'm') + ".foo,0";
    EXPECT_THROW(kpp::klp::parse_klp_symbol(longobj), kpp::Error);
    EXPECT_NO_THROW(kpp::klp::parse_klp_symbol(".klp.sym." + std::string(55, 'm') + ".foo,0"));
}

TEST(KlpConvert, ParsesSymbolNames) {
    auto p = kpp::klp::parse_klp_symbol(".klp.sym.btrfs.can_modify.isra.3,12");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->objname, "btrfs");
    EXPECT_EQ(p->symbol, "can_modify.isra.3");
    EXPECT_EQ(p->sympos, 12u);
    EXPECT_FALSE(kpp::klp::parse_klp_symbol("saved_command_line"));
    EXPECT_TRUE(kpp::klp::is_valid_objname("nf_conntrack-x"));
    EXPECT_FALSE(kpp::klp::is_valid_objname("a.b"));
}

TEST(KlpConvert, QuotedLivepatchNameFromClangsAssemblerIsUnquoted) {
    // extern ... __asm__("\".klp.sym.vmlinux.text_poke_set,0\""): gcc's
    // assembler text drops the quotes, clang's integrated assembler keeps them.
    TempDir dir;
    Fixture f;
    f.reloc(f.text2, 12, R_X86_64_PLT32, f.undef("\".klp.sym.vmlinux.text_poke_set,0\""), -4);
    auto out = f.convert_and_reread(dir);
    Symbol *sym = out->find_symbol(".klp.sym.vmlinux.text_poke_set,0");
    ASSERT_NE(sym, nullptr);
    EXPECT_EQ(sym->shndx, kpp::elf::kShnLivepatch);
    EXPECT_EQ(out->find_symbol("\".klp.sym.vmlinux.text_poke_set,0\""), nullptr);
    Section *klp = out->find_section(".klp.rela.vmlinux..text.ext4_foo");
    ASSERT_NE(klp, nullptr);
    EXPECT_EQ(relocs_against(klp, ".klp.sym.vmlinux.text_poke_set,0"), 1u);
}

TEST(KlpConvert, RefusesDefinedLivepatchSymbol) {
    TempDir dir;
    Fixture f;
    f.obj->add_symbol(".klp.sym.vmlinux.oops,0", STB_GLOBAL, STT_OBJECT, f.data, 0, 8);
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("is defined in the module"), std::string::npos) << msg;
}

// Sections the module loader or the template read while the patch module
// loads. Linux 6.1 applies .klp.rela.vmlinux.* before reading any of them
// (load_module() -> apply_relocations() -> klp_apply_section_relocs()), and
// .klp.rela.<module>.* only when that module loads (klp_module_coming()).
const char *const kLoadTimeSections[] = {
    "__jump_table",  ".static_call_sites", ".altinstructions", ".altinstr_replacement",
    "__mcount_loc",  "__ex_table",         "__bug_table",      ".orc_unwind_ip",
    ".return_sites", "__dyndbg",           ".init.text",       ".kpatchpp.force",
    "__param",
};

TEST(KlpConvert, AcceptsVmlinuxSymbolInLoadTimeSections) {
    for (const char *name : kLoadTimeSections) {
        TempDir dir;
        Fixture f;
        Section *sec = f.obj->add_section(name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
        sec->data.assign(32, 0);
        // The shape of a __jump_table entry: code, target, key (+ branch bit).
        f.reloc(sec, 0, R_X86_64_PC32, f.fn, 0);
        f.reloc(sec, 4, R_X86_64_PC32, f.fn, 12);
        f.reloc(sec, 8, R_X86_64_PC64, f.undef(".klp.sym.vmlinux.__tracepoint_task_newtask,0"),
                8 + 1);
        f.reloc(sec, 16 + 8, R_X86_64_PC64, f.klp_cmdline, 0);
        kpp::klp::ConvertResult result;
        std::unique_ptr<Object> out;
        ASSERT_NO_THROW(out = f.convert_and_reread(dir, &result)) << name;
        EXPECT_EQ(result.klp_symbols, 4u) << name;
        EXPECT_EQ(result.klp_relocations, 7u) << name;
        Section *klp = out->find_section(std::string(".klp.rela.vmlinux.") + name);
        ASSERT_NE(klp, nullptr) << name;
        EXPECT_EQ(klp->hdr.sh_flags, SHF_ALLOC | SHF_INFO_LINK | kpp::elf::kShfRelaLivepatch)
            << name;
        ASSERT_NE(klp->base, nullptr) << name;
        EXPECT_EQ(klp->base->name, name);
        EXPECT_EQ(klp->hdr.sh_info, klp->base->index) << name;
        ASSERT_EQ(klp->relocs.size(), 2u) << name;
        EXPECT_EQ(klp->relocs[0].offset, 8u) << name;
        EXPECT_EQ(klp->relocs[0].type, static_cast<uint32_t>(R_X86_64_PC64)) << name;
        EXPECT_EQ(klp->relocs[0].addend, 9) << name;
        EXPECT_EQ(klp->relocs[0].sym->name, ".klp.sym.vmlinux.__tracepoint_task_newtask,0");
        EXPECT_EQ(klp->relocs[0].sym->shndx, kpp::elf::kShnLivepatch) << name;
        EXPECT_EQ(klp->relocs[1].offset, 24u) << name;
        // The entry's references into the module stay ordinary relocations.
        Section *plain = out->find_section(std::string(".rela") + name);
        ASSERT_NE(plain, nullptr) << name;
        EXPECT_EQ(plain->relocs.size(), 2u) << name;
        EXPECT_EQ(relocs_against(plain, "cmdline_proc_show"), 2u) << name;
    }
}

TEST(KlpConvert, RefusesModuleSymbolInLoadTimeSections) {
    for (const char *name : kLoadTimeSections) {
        TempDir dir;
        Fixture f;
        Section *sec = f.obj->add_section(name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
        sec->data.assign(16, 0);
        f.reloc(sec, 0, R_X86_64_PC32, f.fn2, 0);
        // ext4 is one of the patch's objects, so only the section refuses it.
        f.reloc(sec, 8, R_X86_64_PC64, f.undef(".klp.sym.ext4.ext4_key,0"), 0);
        std::string msg = error_of([&] { f.convert_and_reread(dir); });
        EXPECT_NE(msg.find(std::string(name) + "+0x8"), std::string::npos) << name << ": " << msg;
        EXPECT_NE(msg.find("'.klp.sym.ext4.ext4_key,0' of module ext4"), std::string::npos)
            << name << ": " << msg;
        EXPECT_NE(msg.find("klp_module_coming"), std::string::npos) << name << ": " << msg;
    }
}

TEST(KlpConvert, AcceptsModuleSymbolInModuleCode) {
    // Control for the test above: the same symbol from ext4's new function.
    TempDir dir;
    Fixture f;
    f.reloc(f.text2, 12, R_X86_64_PC32, f.undef(".klp.sym.ext4.ext4_key,0"), -4);
    auto out = f.convert_and_reread(dir);
    Section *ext4 = out->find_section(".klp.rela.ext4..text.ext4_foo");
    ASSERT_NE(ext4, nullptr);
    EXPECT_EQ(ext4->relocs.size(), 2u);
    EXPECT_EQ(relocs_against(ext4, ".klp.sym.ext4.ext4_key,0"), 1u);
}

TEST(KlpConvert, RefusesLivepatchRelocationInSectionsTheLoaderDrops) {
    // setup_load_info() and layout_and_allocate() clear SHF_ALLOC of these,
    // so apply_relocations() never applies their relocations, vmlinux or not.
    for (const char *name : {".modinfo", "__versions", ".data..percpu"}) {
        for (bool vmlinux : {true, false}) {
            TempDir dir;
            Fixture f;
            Section *sec = f.obj->find_section(name);
            if (!sec)
                sec = f.obj->add_section(name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
            sec->data.resize(std::max<size_t>(sec->data.size(), 64), 0);
            f.reloc(sec, 40, R_X86_64_64, vmlinux ? f.klp_cmdline : f.klp_ext4, 0);
            std::string msg = error_of([&] { f.convert_and_reread(dir); });
            EXPECT_NE(msg.find(std::string(name) + "+0x28"), std::string::npos)
                << name << ": " << msg;
            EXPECT_NE(msg.find("clears SHF_ALLOC"), std::string::npos) << name << ": " << msg;
        }
    }
}

// The shape gcc gives a static branch in kernel code (arch_static_branch()
// in arch/x86/include/asm/jump_label.h): a __jump_table entry whose key is a
// non-exported vmlinux static key, here named as create-diff-object names it.
TEST(KlpConvert, ConvertsGccStaticBranchOnVmlinuxKey) {
    TempDir dir;
    std::string src = dir.file("jl.c"), obj = dir.file("jl.o");
    std::ofstream(src) << R"(
struct static_key { int enabled; };
extern struct static_key key __asm__("\".klp.sym.vmlinux.__tracepoint_task_newtask,0\"");
extern int traced(int);
int patched_fn(int x)
{
        asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n\t"
                 ".pushsection __jump_table, \"aw\"\n\t"
                 ".balign 8\n\t"
                 ".long 1b - ., %l[l_yes] - .\n\t"
                 ".quad %c0 + %c1 - .\n\t"
                 ".popsection\n\t"
                 : : "i" (&key), "i" (0) : : l_yes);
        return x + 1;
l_yes:
        return traced(x);
}
)";
    std::string cmd =
        "gcc -c -O2 -fno-pic -mcmodel=kernel -ffunction-sections -o '" + obj + "' '" + src + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ofstream(dir.file("Module.symvers")) << "0x1\ttraced\tvmlinux\tEXPORT_SYMBOL\t\n";
    auto r = kpp::klp::convert_module(obj, dir.file("out.o"), dir.file("Module.symvers"));
    EXPECT_EQ(r.klp_symbols, 1u);
    EXPECT_EQ(r.klp_relocations, 1u);
    auto out = Object::read(dir.file("out.o"));
    Section *klp = out->find_section(".klp.rela.vmlinux.__jump_table");
    ASSERT_NE(klp, nullptr);
    ASSERT_EQ(klp->relocs.size(), 1u);
    EXPECT_EQ(klp->relocs[0].offset, 8u);
    EXPECT_EQ(klp->relocs[0].type, static_cast<uint32_t>(R_X86_64_PC64));
    EXPECT_EQ(klp->relocs[0].sym->shndx, kpp::elf::kShnLivepatch);
    Section *plain = out->find_section(".rela__jump_table");
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(plain->relocs.size(), 2u); // code and target, into .text.patched_fn
    EXPECT_EQ(relocs_against(plain, ".klp.sym.vmlinux.__tracepoint_task_newtask,0"), 0u);
}

TEST(KlpConvert, RefusesLivepatchRelocationInUnloadedSection) {
    TempDir dir;
    Fixture f;
    Section *note = f.obj->add_section(".comment.data", SHT_PROGBITS, 0, 8);
    note->data.assign(8, 0);
    f.reloc(note, 0, R_X86_64_64, f.klp_cmdline, 0);
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("not loaded into memory"), std::string::npos) << msg;
}

TEST(KlpConvert, RefusesSymbolOfModuleThePatchDoesNotTouch) {
    TempDir dir;
    Fixture f;
    f.reloc(f.text2, 12, R_X86_64_PLT32, f.undef(".klp.sym.xfs.xfs_thing,0"), -4);
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("changes nothing in xfs"), std::string::npos) << msg;
}

TEST(KlpConvert, AnotherModulesExportGoesWithThePatchedFunctionsModule) {
    // ext4's new function calls jbd2's export: applied when ext4 loads
    // (jbd2 is loaded then: ext4 depends on it), not when jbd2 does, which
    // the patch does not touch.
    TempDir dir;
    Fixture f;
    f.symvers["jbd2_journal_start"] = {"fs/jbd2/jbd2", "EXPORT_SYMBOL", ""};
    f.reloc(f.text2, 12, R_X86_64_PLT32, f.undef(".klp.sym.jbd2.jbd2_journal_start,0"), -4);
    auto out = f.convert_and_reread(dir);
    Section *ext4 = out->find_section(".klp.rela.ext4..text.ext4_foo");
    ASSERT_NE(ext4, nullptr);
    EXPECT_EQ(relocs_against(ext4, ".klp.sym.jbd2.jbd2_journal_start,0"), 1u);
    EXPECT_EQ(out->find_section(".klp.rela.jbd2..text.ext4_foo"), nullptr);
    // The same from ext4_foo's .cold piece, which .kpatchpp.funcs does not
    // list: ext4 is the only module the patch changes.
    TempDir dir3;
    Fixture h;
    h.symvers["jbd2_journal_start"] = {"fs/jbd2/jbd2", "EXPORT_SYMBOL", ""};
    Section *cold =
        h.obj->add_section(".text.unlikely.ext4_foo", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16);
    cold->data.assign(16, 0x90);
    h.reloc(cold, 4, R_X86_64_PLT32, h.undef(".klp.sym.jbd2.jbd2_journal_start,0"), -4);
    auto out3 = h.convert_and_reread(dir3);
    Section *piece = out3->find_section(".klp.rela.ext4..text.unlikely.ext4_foo");
    ASSERT_NE(piece, nullptr);
    EXPECT_EQ(relocs_against(piece, ".klp.sym.jbd2.jbd2_journal_start,0"), 1u);
    // Not exported by jbd2: a symbol of a module the patch does not touch.
    TempDir dir2;
    Fixture g;
    g.reloc(g.text2, 12, R_X86_64_PLT32, g.undef(".klp.sym.jbd2.jbd2_internal,0"), -4);
    std::string msg = error_of([&] { g.convert_and_reread(dir2); });
    EXPECT_NE(msg.find("changes nothing in jbd2"), std::string::npos) << msg;
}

TEST(KlpConvert, RefusesVmlinuxCodeUsingModuleSymbol) {
    TempDir dir;
    Fixture f;
    f.reloc(f.text, 40, R_X86_64_PLT32, f.klp_ext4, -4);
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("a symbol of module ext4"), std::string::npos) << msg;
}

TEST(KlpConvert, RefusesBadFuncsTable) {
    TempDir dir;
    Fixture f;
    f.funcs->data.resize(100); // two entries and 4 stray bytes
    std::string msg = error_of([&] { f.convert_and_reread(dir); });
    EXPECT_NE(msg.find("not a multiple of the 48-byte entry"), std::string::npos) << msg;
}

TEST(KlpConvert, RefusesMissingSymvers) {
    TempDir dir;
    Fixture f;
    f.obj->write(dir.file("in.ko"));
    std::string msg = error_of(
        [&] { kpp::klp::convert_module(dir.file("in.ko"), dir.file("out.ko"), dir.file("nope")); });
    EXPECT_NE(msg.find("cannot read"), std::string::npos) << msg;
    std::ofstream(dir.file("bad.symvers")) << "garbage line\n";
    msg = error_of([&] { kpp::klp::read_symvers(dir.file("bad.symvers")); });
    EXPECT_NE(msg.find("bad.symvers:1"), std::string::npos) << msg;
}

// gcc produces the same shapes create-diff-object does: a livepatch symbol
// through an asm label, a .kpatchpp.funcs entry through section attributes.
TEST(KlpConvert, ConvertsGccCompiledObject) {
    TempDir dir;
    std::string src = dir.file("patch.c"), obj = dir.file("patch.o");
    std::ofstream(src) << R"(
struct kpp_patch_func {
        unsigned long new_addr, old_size, new_size, sympos;
        const char *old_name, *objname;
};
extern char *klp_cmdline __asm__("\".klp.sym.vmlinux.saved_command_line,0\"");
extern int seq_puts(void *m, const char *s);
static int cmdline_proc_show(void *m, void *v)
{
        seq_puts(m, klp_cmdline);
        return 0;
}
static const char n1[] __attribute__((section(".kpatchpp.strings"))) = "cmdline_proc_show";
static const char n2[] __attribute__((section(".kpatchpp.strings"))) = "vmlinux";
static struct kpp_patch_func f __attribute__((used, section(".kpatchpp.funcs"), aligned(8))) = {
        (unsigned long)cmdline_proc_show, 0, 0, 0, n1, n2,
};
)";
    std::string cmd =
        "gcc -c -O2 -fno-pic -mcmodel=kernel -ffunction-sections -o '" + obj + "' '" + src + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ofstream(dir.file("Module.symvers")) << "0x1\tseq_puts\tvmlinux\tEXPORT_SYMBOL\t\n";
    auto r = kpp::klp::convert_module(obj, dir.file("out.o"), dir.file("Module.symvers"));
    EXPECT_EQ(r.klp_symbols, 1u);
    EXPECT_EQ(r.klp_relocations, 1u);
    auto out = Object::read(dir.file("out.o"));
    Section *klp = out->find_section(".klp.rela.vmlinux..text.cmdline_proc_show");
    ASSERT_NE(klp, nullptr);
    EXPECT_EQ(klp->relocs.size(), 1u);
    EXPECT_EQ(klp->relocs[0].sym->shndx, kpp::elf::kShnLivepatch);
    EXPECT_EQ(klp->hdr.sh_flags, SHF_ALLOC | SHF_INFO_LINK | kpp::elf::kShfRelaLivepatch);
    Section *plain = out->find_section(".rela.text.cmdline_proc_show");
    ASSERT_NE(plain, nullptr);
    EXPECT_EQ(relocs_against(plain, "seq_puts"), 1u);
    EXPECT_EQ(relocs_against(plain, ".klp.sym.vmlinux.saved_command_line,0"), 0u);

    // Without seq_puts in Module.symvers the same object is refused.
    std::ofstream(dir.file("empty.symvers")) << "";
    std::string msg = error_of(
        [&] { kpp::klp::convert_module(obj, dir.file("out2.o"), dir.file("empty.symvers")); });
    EXPECT_NE(msg.find("'seq_puts'"), std::string::npos) << msg;
}

} // namespace
