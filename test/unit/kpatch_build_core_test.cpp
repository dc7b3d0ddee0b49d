// kpatch-build --core: the copy of kpatchpp-macros.h installed for a
// kpatch.ko module turns klp_shadow_*() calls into kpp_shadow_*() (checked
// by compiling against the real header, with stub kernel headers); the core
// conversion accepts kpatch.ko's exports but refuses calls into the
// livepatch core's shadow store, fills the old-function table from a linked
// stand-in for vmlinux, turns .klp.sym relocations into kpp_core_relocs and
// refuses them where the module loader reads them first.
#include "kpatch-build/module/core_convert.h"
#include "kpatch-build/util/data_dir.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kpp::build::convert_for_core;
using kpp::build::install_patch_headers;
using kpp::build::kMacrosHeaderInTree;
using kpp::build::macros_header_text;
using kpp::build::VmlinuxText;
using kpp::testing::TempDir;

// What the header needs from the kernel. `livepatch` says whether the
// stub <linux/livepatch.h> looks like CONFIG_LIVEPATCH=y (klp_shadow_*
// declared) or not (nothing).
void write_stub_kernel_headers(const TempDir &dir, bool livepatch) {
    fs::create_directories(dir / "include/linux");
    kpp::testing::write_file(dir / "include/linux/compiler.h", "");
    kpp::testing::write_file(dir / "include/linux/jiffies.h",
                             "extern unsigned long volatile jiffies;\n");
    kpp::testing::write_file(dir / "include/linux/syscalls.h", "");
    kpp::testing::write_file(dir / "include/linux/types.h",
                             "#ifndef STUB_TYPES\n#define STUB_TYPES\n#include <stddef.h>\n"
                             "typedef unsigned int gfp_t;\ntypedef _Bool bool;\n#endif\n");
    kpp::testing::write_file(
        dir / "include/linux/livepatch.h",
        livepatch ? "#include <linux/types.h>\n"
                    "typedef int (*klp_shadow_ctor_t)(void *, void *, void *);\n"
                    "typedef void (*klp_shadow_dtor_t)(void *, void *);\n"
                    "void *klp_shadow_get(void *obj, unsigned long id);\n"
                    "void *klp_shadow_alloc(void *obj, unsigned long id, size_t size,\n"
                    "    gfp_t gfp, klp_shadow_ctor_t ctor, void *ctor_data);\n"
                    "void *klp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,\n"
                    "    gfp_t gfp, klp_shadow_ctor_t ctor, void *ctor_data);\n"
                    "void klp_shadow_free(void *obj, unsigned long id, klp_shadow_dtor_t d);\n"
                    "void klp_shadow_free_all(unsigned long id, klp_shadow_dtor_t d);\n"
                  : "");
}

// A patched file as an author writes it: every klp_shadow_ name used once.
constexpr const char *kShadowUser = R"(#include <linux/kpatchpp-macros.h>
static int ctor(void *obj, void *data, void *arg) { *(int *)data = 1; return 0; }
static void dtor(void *obj, void *data) { }
int use_shadow(void *obj)
{
	klp_shadow_ctor_t c = ctor;
	klp_shadow_dtor_t d = dtor;
	int *a = klp_shadow_alloc(obj, 1, sizeof(int), 0, c, 0);
	int *b = klp_shadow_get_or_alloc(obj, 2, sizeof(int), 0, 0, 0);
	int *g = klp_shadow_get(obj, 1);
	klp_shadow_free(obj, 1, d);
	klp_shadow_free_all(2, 0);
	return (a ? *a : 0) + (b ? *b : 0) + (g ? *g : 0);
}
)";

const std::vector<std::string> kShadowNames = {"get", "alloc", "get_or_alloc", "free", "free_all"};

// The undefined symbols of `obj` whose names contain "_shadow_".
std::vector<std::string> shadow_calls(const fs::path &obj) {
    std::vector<std::string> names;
    auto model = kpp::elf::Object::read(obj.string());
    for (const auto &sym : model->symbols)
        if (sym && sym->is_undefined() && sym->name.find("_shadow_") != std::string::npos)
            names.push_back(sym->name);
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> prefixed(const std::string &prefix) {
    std::vector<std::string> names;
    for (const auto &n : kShadowNames)
        names.push_back(prefix + n);
    std::sort(names.begin(), names.end());
    return names;
}

const std::vector<std::string> kPlainFlags = {"-O2", "-fno-pic", "-Wall", "-Werror"};

fs::path build_user(const TempDir &dir, bool livepatch, bool for_core) {
    write_stub_kernel_headers(dir, livepatch);
    install_patch_headers(dir.path(), for_core);
    return kpp::testing::compile(dir, "obj", "user", kShadowUser,
                                 {"-I" + (dir / "include").string()}, &kPlainFlags);
}

TEST(KpatchBuildCore, HeaderTextGetsKppCoreAfterTheSpdxLineOnlyForTheCore) {
    const std::string header = "/* SPDX-License-Identifier: GPL-2.0 */\n#ifndef X\n#endif\n";
    EXPECT_EQ(macros_header_text(header, false), header);
    std::string core = macros_header_text(header, true);
    EXPECT_TRUE(core.starts_with("/* SPDX-License-Identifier: GPL-2.0 */\n")) << core;
    EXPECT_NE(core.find("#define KPP_CORE 1\n"), std::string::npos) << core;
    EXPECT_TRUE(core.ends_with("#ifndef X\n#endif\n")) << core;
}

TEST(KpatchBuildCore, InstalledHeaderLeavesKlpShadowCallsAloneForLivepatch) {
    TempDir dir;
    EXPECT_EQ(shadow_calls(build_user(dir, true, false)), prefixed("klp_shadow_"));
    EXPECT_EQ(kpp::testing::read_file(dir / kMacrosHeaderInTree),
              kpp::testing::read_file(kpp::build::find_module_template() / "kpatchpp-macros.h"));
}

TEST(KpatchBuildCore, InstalledHeaderMapsKlpShadowToKppShadowForTheCore) {
    TempDir dir;
    EXPECT_EQ(shadow_calls(build_user(dir, true, true)), prefixed("kpp_shadow_"));
}

// A kernel without CONFIG_LIVEPATCH declares no klp_shadow_* (nor their
// ctor/dtor types): the header alone must make the same source compile.
TEST(KpatchBuildCore, InstalledHeaderWorksWithoutLivepatchDeclarations) {
    TempDir dir;
    EXPECT_EQ(shadow_calls(build_user(dir, false, true)), prefixed("kpp_shadow_"));
}

// A patch written for kpatch: `#include "kpatch-macros.h"` (found through
// the kernel's -I include, where kpatch-build installs it), a callback
// taking kpatch's `patch_object *` and KPATCH_PRINTK compile, the callback
// lands in the section the template reads and the printk is called. The compiler.h stub has the
// kernel's definitions of what the annotations use.
TEST(KpatchBuildCore, KpatchMacrosHeaderCompilesKpatchStyleCallbacks) {
    TempDir dir;
    write_stub_kernel_headers(dir, true);
    kpp::testing::write_file(
        dir / "include/linux/compiler.h",
        "#define ___PASTE(a, b) a##b\n"
        "#define __PASTE(a, b) ___PASTE(a, b)\n"
        "#define __UNIQUE_ID(p) __PASTE(__PASTE(__UNIQUE_ID_, p), __COUNTER__)\n"
        "#define __section(s) __attribute__((__section__(s)))\n"
        "#define __used __attribute__((__used__))\n"
        "#define __aligned(x) __attribute__((__aligned__(x)))\n"
        "#define __maybe_unused __attribute__((__unused__))\n");
    install_patch_headers(dir.path(), false);
    for (const auto &header : kpp::build::kPatchHeaders)
        EXPECT_TRUE(fs::is_regular_file(dir / header.in_tree)) << header.in_tree;
    const std::string source = "#define CONFIG_LIVEPATCH 1\n"
                               "#include \"kpatch-macros.h\"\n"
                               "struct klp_object { const char *name; };\n"
                               "static int pre(patch_object *obj) { return obj->name != 0; }\n"
                               "KPATCH_PRE_PATCH_CALLBACK(pre);\n"
                               "int printk(const char *fmt, ...);\n"
                               "void say(int v) { KPATCH_PRINTK(\"v=%d\\n\", v); }\n";
    fs::path obj = kpp::testing::compile(dir, "obj", "kpatch_user", source,
                                         {"-I" + (dir / "include").string()}, &kPlainFlags);
    auto model = kpp::elf::Object::read(obj.string());
    const kpp::elf::Section *table = model->find_section(".kpatchpp.callbacks.pre_patch");
    ASSERT_NE(table, nullptr);
    ASSERT_NE(table->rela, nullptr);
    ASSERT_FALSE(table->rela->relocs.empty());
    // The entry's first field points at the callback (through its own
    // symbol or its section's, as gcc chooses for a static function).
    const kpp::elf::Symbol *pre = model->find_symbol("pre");
    ASSERT_NE(pre, nullptr);
    const auto &fn = table->rela->relocs.front();
    EXPECT_EQ(fn.offset, 0u);
    EXPECT_EQ(fn.sym->sec, pre->sec) << fn.sym->name;
    const kpp::elf::Symbol *printk = model->find_symbol("printk");
    ASSERT_NE(printk, nullptr);
    EXPECT_TRUE(printk->is_undefined());
}

class CoreConvert : public ::testing::Test {
  protected:
    void SetUp() override {
        vmlinux_ = kpp::testing::compile(dir_, "vmlinux", "vmlinux", "char _text[16];\n", {},
                                         &kPlainFlags);
    }

    // The core conversion of a patch whose only code calls `callee`.
    void convert_call(const std::string &callee, const kpp::klp::Symvers &symvers) {
        std::string source = "void *" + callee + "(void *obj, unsigned long id);\n";
        source += "void *f(void *p) { return " + callee + "(p, 1); }\n";
        fs::path obj = kpp::testing::compile(dir_, "patch", "output", source, {}, &kPlainFlags);
        auto model = kpp::elf::Object::read(obj.string());
        VmlinuxText text(vmlinux_.string());
        convert_for_core(*model, text, symvers);
    }

    TempDir dir_;
    fs::path vmlinux_;
};

TEST_F(CoreConvert, AcceptsCallsToKpatchKoExports) {
    kpp::klp::Symvers symvers{{"kpp_shadow_get", {"kpatch", "EXPORT_SYMBOL_GPL", ""}}};
    EXPECT_NO_THROW(convert_call("kpp_shadow_get", symvers));
    EXPECT_THROW(convert_call("kpp_shadow_get", {}), kpp::Error);
}

TEST_F(CoreConvert, RefusesTheLivepatchCoresShadowStoreNamingTheHeader) {
    kpp::klp::Symvers symvers{{"klp_shadow_get", {"vmlinux", "EXPORT_SYMBOL_GPL", ""}}};
    try {
        convert_call("klp_shadow_get", symvers);
        FAIL() << "klp_shadow_get was accepted";
    } catch (const kpp::Error &e) {
        std::string what = e.what();
        EXPECT_NE(what.find("klp_shadow_get"), std::string::npos) << what;
        EXPECT_NE(what.find("linux/kpatchpp-macros.h"), std::string::npos) << what;
    }
}

// The patch side of a conversion: one replacement function `f` that reads
// `secret`, a symbol of vmlinux that is not exported (renamed to its klp
// form after compiling, as klp_convert names it), with its .kpatchpp.funcs
// entry; `more` adds C at the end.
std::string patch_source(const std::string &objname, uint64_t old_size, const std::string &more) {
    return fmt::format(R"(struct kpp_patch_func {{
	unsigned long new_addr, old_size, new_size, sympos;
	const char *old_name, *objname;
}};
extern int secret;
int f(void) {{ return secret + 1; }}
static const struct kpp_patch_func funcs[] __attribute__((section(".kpatchpp.funcs"), used)) = {{
	{{ (unsigned long)f, {}, 0, 0, "f", "{}" }},
}};
{}
)",
                       old_size, objname, more);
}

constexpr const char *kSecretKlpName = ".klp.sym.vmlinux.secret,2";

class CoreConvertPatch : public ::testing::Test {
  protected:
    void SetUp() override {
        // f is 20 bytes: a 5-byte nop (the __fentry__ site) and fifteen rets.
        vmlinux_ = kpp::testing::link_static(
            dir_, "vmlinux", "vmlinux",
            {{"vmlinux", "\t.text\n\t.globl _text\n_text:\n\t.globl f\n\t.type f,@function\n"
                         "f:\n\t.byte 0x0f,0x1f,0x44,0,0\n\t.fill 15,1,0xc3\n\t.size f, 20\n"
                         "\t.section __mcount_loc,\"a\"\n\t.globl __start_mcount_loc\n"
                         "__start_mcount_loc:\n\t.quad f\n\t.globl __stop_mcount_loc\n"
                         "__stop_mcount_loc:\n"}});
    }

    // The compiled patch as a model, `secret` renamed to its klp form.
    std::unique_ptr<kpp::elf::Object> patch(const std::string &objname = "vmlinux",
                                            uint64_t old_size = 20, const std::string &more = "") {
        fs::path obj = kpp::testing::compile(
            dir_, "patch", "output", patch_source(objname, old_size, more), {}, &kPlainFlags);
        auto model = kpp::elf::Object::read(obj.string());
        kpp::elf::Symbol *secret = model->find_symbol("secret");
        EXPECT_TRUE(secret && secret->is_undefined());
        secret->name = kSecretKlpName;
        return model;
    }

    kpp::build::CoreConvertResult convert(kpp::elf::Object &model) {
        VmlinuxText text(vmlinux_.string());
        return convert_for_core(model, text, {});
    }

    // The message of the kpp::Error the conversion throws; `refusal`: a
    // kpp::Refusal (exit status 1: the change cannot be applied with --core).
    std::string convert_error(kpp::elf::Object &model, bool refusal = false) {
        try {
            convert(model);
        } catch (const kpp::Refusal &e) {
            EXPECT_TRUE(refusal) << "a refusal: " << e.what();
            return e.what();
        } catch (const kpp::Error &e) {
            EXPECT_FALSE(refusal) << "not a refusal: " << e.what();
            return e.what();
        }
        return "";
    }

    TempDir dir_;
    fs::path vmlinux_;
};

template <typename T> T field(const kpp::elf::Section &sec, size_t offset) {
    T value;
    EXPECT_LE(offset + sizeof(T), sec.data.size()) << sec.name;
    std::memcpy(&value, sec.data.data() + offset, sizeof(T));
    return value;
}

// The relocation of `sec` at `offset`, or none.
const kpp::elf::Relocation *reloc_at(const kpp::elf::Section &sec, uint64_t offset) {
    if (sec.rela)
        for (const auto &r : sec.rela->relocs)
            if (r.offset == offset)
                return &r;
    return nullptr;
}

TEST_F(CoreConvertPatch, OldFunctionTableHoldsTheVmlinuxAddressBytesAndMask) {
    auto model = patch();
    auto result = convert(*model);
    EXPECT_EQ(result.functions, 1u);

    kpp::build::OldFunction f = VmlinuxText(vmlinux_.string()).function("f", 0);
    const kpp::elf::Section *olds = model->find_section(".kpatchpp.core.olds");
    ASSERT_TRUE(olds);
    ASSERT_EQ(olds->data.size(), 8 + 2 * kpp::build::kOldBytes);
    EXPECT_EQ(field<uint64_t>(*olds, 0), f.addr);
    EXPECT_TRUE(std::equal(f.bytes.begin(), f.bytes.end(), olds->data.begin() + 8));
    EXPECT_TRUE(std::equal(f.mask.begin(), f.mask.end(), olds->data.begin() + 8 + 16));
    EXPECT_EQ(olds->data[8 + 16], 0) << "the __fentry__ site is not masked";
    EXPECT_EQ(olds->data[8 + 16 + 5], 0xff) << "bytes after the __fentry__ site are masked";
}

TEST_F(CoreConvertPatch, DescriptorPointsAtTheTablesAndCarriesText) {
    auto model = patch();
    convert(*model);
    const kpp::elf::Symbol *desc_sym = model->find_symbol("kpp_core_desc");
    ASSERT_TRUE(desc_sym);
    EXPECT_EQ(desc_sym->bind, STB_GLOBAL);
    EXPECT_EQ(desc_sym->size, 128u);
    const kpp::elf::Section &desc = *desc_sym->sec;
    EXPECT_EQ(desc.name, ".kpatchpp.core");
    auto target_of = [&](size_t offset) {
        const kpp::elf::Relocation *r = reloc_at(desc, offset);
        return r && r->sym && r->sym->sec ? r->sym->sec->name : std::string("(none)");
    };
    EXPECT_EQ(target_of(0), ".kpatchpp.funcs");
    EXPECT_EQ(field<uint64_t>(desc, 8), 1u);
    EXPECT_EQ(target_of(16), ".kpatchpp.core.olds");
    EXPECT_EQ(target_of(24), ".kpatchpp.core.relocs");
    EXPECT_EQ(field<uint64_t>(desc, 32), 1u);
    EXPECT_EQ(field<uint64_t>(desc, 120), VmlinuxText(vmlinux_.string()).text_addr());
}

TEST_F(CoreConvertPatch, KlpSymbolReferenceInTextBecomesACoreRelocation) {
    auto model = patch();
    auto result = convert(*model);
    EXPECT_EQ(result.relocations, 1u);
    EXPECT_EQ(model->find_symbol(kSecretKlpName), nullptr);

    const kpp::elf::Section *relocs = model->find_section(".kpatchpp.core.relocs");
    ASSERT_TRUE(relocs);
    ASSERT_EQ(relocs->data.size(), 64u);
    // loc: the place in f's text the relocation was at; then name, objname.
    const kpp::elf::Relocation *loc = reloc_at(*relocs, 0);
    ASSERT_TRUE(loc && loc->sym && loc->sym->sec);
    EXPECT_EQ(loc->sym->sec->name, ".text");
    EXPECT_EQ(reloc_at(*loc->sym->sec, static_cast<uint64_t>(loc->addend)), nullptr)
        << "the relocation stayed in .text";
    EXPECT_EQ(field<uint64_t>(*relocs, 24), 2u);                      // sympos
    EXPECT_EQ(field<int64_t>(*relocs, 32), -4);                       // addend
    EXPECT_EQ(field<uint32_t>(*relocs, 40), uint32_t{R_X86_64_PC32}); // type
    EXPECT_EQ(field<uint64_t>(*relocs, 48), 0u);                      // addr: none
    EXPECT_EQ(field<uint64_t>(*relocs, 56), 0u);                      // veneer: none
    const kpp::elf::Relocation *name = reloc_at(*relocs, 8);
    ASSERT_TRUE(name && name->sym && name->sym->sec);
    const auto &strings = name->sym->sec->data;
    EXPECT_STREQ(reinterpret_cast<const char *>(strings.data() + name->addend), "secret");
}

// A stand-in vmlinux whose `secret`s are local data in two files (so
// sympos 2 is the second in address order), plus `secret_text` (a function)
// and `secret_percpu` (per-CPU data): only data outside per-CPU sections
// gets an address for the core (kpp_core_reloc.addr).
fs::path vmlinux_with_data(const TempDir &dir) {
    const std::string data = "\t.data\n\t.balign 8\n\t.quad 0\nsecret:\n\t.long 1\n";
    // --unique: .data..percpu stays a section of its own, as in vmlinux.
    return kpp::testing::link_static(
        dir, "vmlinux-data", "vmlinux",
        {{"a", "\t.text\n\t.globl _text\n_text:\n\tret\nsecret_text:\n\tret\n" + data},
         {"b", data + "\t.section .data..percpu,\"aw\"\nsecret_percpu:\n\t.long 2\n"}},
        {"-Wl,--unique=.data..percpu"});
}

TEST_F(CoreConvertPatch, DataSymbolsGetTheirVmlinuxAddress) {
    fs::path vmlinux = vmlinux_with_data(dir_);
    VmlinuxText text(vmlinux.string());
    auto linked = kpp::elf::Object::read(vmlinux.string());
    std::vector<uint64_t> secrets;
    for (const auto &sym : linked->symbols)
        if (sym && sym->name == "secret")
            secrets.push_back(sym->value);
    ASSERT_EQ(secrets.size(), 2u);
    std::sort(secrets.begin(), secrets.end());
    EXPECT_EQ(text.data_address("secret", 1), secrets[0]);
    EXPECT_EQ(text.data_address("secret", 2), secrets[1]);
    EXPECT_EQ(text.data_address("secret", 0), std::nullopt) << "two of them: needs a sympos";
    EXPECT_EQ(text.data_address("secret", 3), std::nullopt);
    EXPECT_EQ(text.data_address("secret_text", 0), std::nullopt) << "text: kallsyms has it";
    EXPECT_EQ(text.data_address("secret_percpu", 0), std::nullopt) << "per-CPU: not moved";
    EXPECT_EQ(text.data_address("nothing", 0), std::nullopt);

    // Through the conversion: the relocation against secret,2 carries it.
    vmlinux_ = vmlinux;
    auto model = patch();
    model->find_section(".kpatchpp.funcs")->data.clear(); // f is not in this vmlinux
    convert(*model);
    const kpp::elf::Section *relocs = model->find_section(".kpatchpp.core.relocs");
    ASSERT_TRUE(relocs);
    ASSERT_EQ(relocs->data.size(), 64u);
    EXPECT_EQ(field<uint64_t>(*relocs, 48), secrets[1]);
}

TEST_F(CoreConvertPatch, KlpSymbolReferenceInATableTheLoaderReadsIsRefused) {
    auto model = patch("vmlinux", 20,
                       "static int *const tbl[] __attribute__((section(\"__jump_table\"), used)) "
                       "= { &secret };\n");
    std::string what = convert_error(*model, true);
    EXPECT_NE(what.find("__jump_table refers to secret"), std::string::npos) << what;
    EXPECT_NE(what.find("not supported with --core"), std::string::npos) << what;
}

TEST_F(CoreConvertPatch, KlpSymbolReferenceInDebugInfoIsDropped) {
    auto model = patch("vmlinux", 20,
                       "static int *const dbg[] __attribute__((section(\".debug_kpp\"), used)) "
                       "= { &secret };\n");
    auto result = convert(*model);
    EXPECT_EQ(result.relocations, 1u);
    EXPECT_EQ(result.dropped_relocations, 1u);
}

TEST_F(CoreConvertPatch, ModuleFunctionsAreRefusedNamingTheModule) {
    auto model = patch("ext4");
    std::string what = convert_error(*model, true);
    EXPECT_NE(what.find("f is a function of module ext4"), std::string::npos) << what;
}

TEST_F(CoreConvertPatch, SizeDisagreementWithVmlinuxIsRefused) {
    auto model = patch("vmlinux", 21);
    std::string what = convert_error(*model);
    EXPECT_NE(what.find("f is 20 bytes in vmlinux, the diff says 21"), std::string::npos) << what;
}

// arm64: a call to an unexported vmlinux function (BL, R_AARCH64_CALL26)
// may not reach it from module text, so the conversion reserves a veneer
// for kpatch.ko; the ADRP/ADD pair to `secret` needs none. The pointers of
// the tables are R_AARCH64_ABS64.
TEST(CoreConvertArm64, BranchesToSymbolsTheCoreResolvesGetVeneerSpace) {
    TempDir dir;
    fs::path vmlinux = kpp::testing::link_static(
        dir, "vmlinux", "vmlinux",
        {{"vmlinux", "\t.text\n\t.globl _text\n_text:\n\t.globl f\n\t.type f,%function\n"
                     "f:\n\tnop\n\tnop\n\tret\n\t.size f, .-f\n"
                     "\t.section __mcount_loc,\"a\"\n\t.globl __start_mcount_loc\n"
                     "__start_mcount_loc:\n\t.quad f\n\t.globl __stop_mcount_loc\n"
                     "__stop_mcount_loc:\n"}},
        {}, kpp::testing::kAarch64Compiler);
    const std::string source = R"(struct kpp_patch_func {
	unsigned long new_addr, old_size, new_size, sympos;
	const char *old_name, *objname;
};
extern int secret;
int hidden(void);
int f(void) { return secret + hidden(); }
static const struct kpp_patch_func funcs[] __attribute__((section(".kpatchpp.funcs"), used)) = {
	{ (unsigned long)f, 12, 0, 0, "f", "vmlinux" },
};
)";
    const std::vector<std::string> flags = {"-O2", "-fno-pic", "-mgeneral-regs-only"};
    fs::path obj = kpp::testing::compile(dir, "patch", "output", source, {}, &flags,
                                         kpp::testing::kAarch64Compiler);
    auto model = kpp::elf::Object::read(obj.string());
    for (const char *name : {"secret", "hidden"}) {
        kpp::elf::Symbol *sym = model->find_symbol(name);
        ASSERT_TRUE(sym && sym->is_undefined()) << name;
        sym->name = fmt::format(".klp.sym.vmlinux.{},0", name);
    }
    auto result = convert_for_core(*model, VmlinuxText(vmlinux.string()), {});
    EXPECT_EQ(result.relocations, 3u); // adrp + ldr of secret, bl hidden
    EXPECT_EQ(result.veneers, 1u);

    const kpp::elf::Section *veneers = model->find_section(".text.kpatchpp.veneers");
    ASSERT_TRUE(veneers);
    EXPECT_EQ(veneers->hdr.sh_flags & (SHF_ALLOC | SHF_EXECINSTR), SHF_ALLOC | SHF_EXECINSTR);
    EXPECT_EQ(veneers->data, std::vector<uint8_t>(16, 0));
    const kpp::elf::Section *relocs = model->find_section(".kpatchpp.core.relocs");
    ASSERT_TRUE(relocs);
    ASSERT_EQ(relocs->data.size(), 3 * 64u);
    for (size_t e = 0; e < 3; e++) {
        const auto type = field<uint32_t>(*relocs, e * 64 + 40);
        const kpp::elf::Relocation *veneer = reloc_at(*relocs, e * 64 + 56);
        if (type != R_AARCH64_CALL26) {
            EXPECT_EQ(veneer, nullptr) << "entry " << e << " of type " << type;
            continue;
        }
        ASSERT_TRUE(veneer && veneer->sym) << "the call has no veneer";
        EXPECT_EQ(veneer->sym->sec, veneers);
        EXPECT_EQ(veneer->type, uint32_t{R_AARCH64_ABS64});
        EXPECT_EQ(veneer->addend, 0);
    }
    for (const auto &r : model->find_section(".kpatchpp.core")->rela->relocs)
        EXPECT_EQ(r.type, uint32_t{R_AARCH64_ABS64});
}

TEST_F(CoreConvertPatch, ConvertingTwiceIsRefused) {
    auto model = patch();
    convert(*model);
    std::string what = convert_error(*model);
    EXPECT_NE(what.find("converted twice"), std::string::npos) << what;
}

} // namespace
