// kpatch-build --core and shadow variables: the copy of kpatchpp-macros.h
// installed for a kpatch.ko module turns klp_shadow_*() calls into
// kpp_shadow_*() (checked by compiling against the real header, with stub
// kernel headers), and the core conversion accepts kpatch.ko's exports but
// refuses calls into the livepatch core's shadow store.
#include "kpatch-build/core_convert.h"
#include "kpatch-build/data_dir.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kpp::build::convert_for_core;
using kpp::build::install_macros_header;
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
    kpp::testing::write_file(dir / "include/linux/types.h",
                             "#ifndef STUB_TYPES\n#define STUB_TYPES\n#include <stddef.h>\n"
                             "typedef unsigned int gfp_t;\n#endif\n");
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
    install_macros_header(dir.path(), for_core);
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

} // namespace
