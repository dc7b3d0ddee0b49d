// kpatch CLI: reading patch modules (.modinfo, .kpatchpp.funcs), install and
// uninstall, and the kpatch binary itself against a fake tree.
#include "libkpp/error.h"
#include "tools/kpatch_cli.h"
#include "tools/testing/fake_tree.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sys/wait.h>

using namespace kpp::cli;
using kpp_cli_test::FakeTree;
using kpp_cli_test::write_patch_module;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

const std::string kLivepatchInfo =
    "license=GPL\0description=test patch\0name=livepatch_m\0vermagic=6.1.192 SMP mod_unload \0livepatch=Y"s;

TEST(KpatchCliModule, ModuleNameFromArgument) {
    EXPECT_EQ(module_name_from("/x/y/livepatch-meminfo-string.ko"), "livepatch_meminfo_string");
    EXPECT_EQ(module_name_from("livepatch_a"), "livepatch_a");
    EXPECT_EQ(module_name_from(".ko"), ".ko");
}

TEST(KpatchCliModule, ReadsModinfoAndReplacedFunctions) {
    FakeTree t;
    std::string ko = (t.root / "m.ko").string();
    write_patch_module(ko, kLivepatchInfo,
                       {{"meminfo_proc_show", "vmlinux", 0, 2176}, {"ext4_foo", "ext4", 2, 32}});
    ModuleInfo m = read_module_info(ko);
    EXPECT_EQ(m.name, "livepatch_m");
    EXPECT_EQ(m.vermagic, "6.1.192 SMP mod_unload ");
    EXPECT_EQ(m.release, "6.1.192");
    EXPECT_TRUE(m.livepatch);
    EXPECT_EQ(m.description, "test patch");
    EXPECT_EQ(m.license, "GPL");
    ASSERT_EQ(m.functions.size(), 2u);
    EXPECT_EQ(m.functions[0].name, "meminfo_proc_show");
    EXPECT_EQ(m.functions[0].objname, "vmlinux");
    EXPECT_EQ(m.functions[0].sympos, 0u);
    EXPECT_EQ(m.functions[0].new_size, 2176u);
    EXPECT_EQ(m.functions[0].old_size, 2177u);
    EXPECT_EQ(m.functions[1].name, "ext4_foo");
    EXPECT_EQ(m.functions[1].objname, "ext4");
    EXPECT_EQ(m.functions[1].sympos, 2u);
    EXPECT_NO_THROW(check_patch_module(m, "6.1.192"));
    EXPECT_THROW(check_patch_module(m, "6.1.0"), kpp::Refusal);

    auto j = nlohmann::json::parse(to_json(m).dump());
    EXPECT_EQ(j["functions"][1]["objname"], "ext4");
    EXPECT_EQ(j["functions"][1]["sympos"], 2);
    EXPECT_EQ(j["livepatch"], true);
    std::string text = info_text(m);
    EXPECT_NE(text.find("ext4:ext4_foo,2"), std::string::npos) << text;
    EXPECT_NE(text.find("kernel:      6.1.192"), std::string::npos) << text;
}

TEST(KpatchCliModule, RejectsNonModules) {
    FakeTree t;
    EXPECT_THROW(read_module_info((t.root / "missing.ko").string()), kpp::Error);
    FakeTree::put(t.root / "text.ko", "not an ELF file at all");
    EXPECT_THROW(read_module_info((t.root / "text.ko").string()), kpp::Error);
    // An ELF object without .modinfo is not a module.
    kpp::elf::Object obj;
    obj.symbols.push_back(std::make_unique<kpp::elf::Symbol>());
    obj.sections.push_back(std::make_unique<kpp::elf::Section>());
    obj.add_section(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16)->data.assign(4, 0x90);
    obj.write((t.root / "plain.o").string());
    EXPECT_THROW(read_module_info((t.root / "plain.o").string()), kpp::Refusal);
    // A truncated .kpatchpp.funcs is malformed input.
    std::string ko = (t.root / "m.ko").string();
    write_patch_module(ko, kLivepatchInfo, {{"f", "vmlinux", 0, 1}});
    auto o = kpp::elf::Object::read(ko);
    o->find_section(".kpatchpp.funcs")->data.resize(40);
    o->find_section(".kpatchpp.funcs")->rela->relocs.pop_back();
    o->write(ko);
    EXPECT_THROW(read_module_info(ko), kpp::Error);
}

// A real module as Debian ships it: the stock kernel scripts/setup.sh
// installs (integration.cli reads kpatch-build's modules in the guest).
TEST(KpatchCliModule, ReadsAStockDebianModule) {
    fs::path ko;
    std::error_code ec;
    for (fs::directory_iterator it("/lib/modules", ec), end; !ec && it != end; it.increment(ec)) {
        if (fs::is_regular_file(it->path() / "kernel/fs/binfmt_misc.ko", ec)) {
            ko = it->path() / "kernel/fs/binfmt_misc.ko";
            break;
        }
    }
    ASSERT_FALSE(ko.empty()) << "no /lib/modules/*/kernel/fs/binfmt_misc.ko: run scripts/setup.sh "
                                "(it installs the Debian stock kernel)";
    ModuleInfo m = read_module_info(ko.string());
    EXPECT_EQ(m.name, "binfmt_misc");
    EXPECT_FALSE(m.livepatch);
    EXPECT_EQ(m.release, ko.parent_path().parent_path().parent_path().filename().string())
        << m.vermagic;
    EXPECT_THROW(check_patch_module(m, m.release), kpp::Refusal);
}

TEST(KpatchCliModule, InstallChecksAndCopiesUninstallRemoves) {
    FakeTree t;
    std::string ko = (t.root / "build-output.ko").string();
    write_patch_module(ko, kLivepatchInfo, {{"f", "vmlinux", 0, 1}});
    std::string dest = install_patch(t.env, ko, "6.1.192");
    EXPECT_EQ(dest, (fs::path(t.env.prefix) / "var/lib/kpatch/6.1.192/livepatch_m.ko").string());
    EXPECT_EQ(fs::file_size(dest), fs::file_size(ko));
    auto installed = installed_patches(t.env);
    ASSERT_EQ(installed.size(), 1u);
    EXPECT_EQ(installed[0].name, "livepatch_m");
    EXPECT_EQ(resolve_module_file(t.env, "livepatch_m"), dest);
    EXPECT_EQ(resolve_module_file(t.env, "livepatch-m"), dest);

    // Another release: refused, nothing written.
    EXPECT_THROW(install_patch(t.env, ko, "6.1.100"), kpp::Refusal);
    EXPECT_FALSE(fs::exists(t.env.install_dir("6.1.100")));
    std::string plain = (t.root / "plain.ko").string();
    write_patch_module(plain, "name=plain\0vermagic=6.1.192 SMP "s, {});
    EXPECT_THROW(install_patch(t.env, plain, "6.1.192"), kpp::Refusal);

    EXPECT_THROW(uninstall_patch(t.env, "livepatch_m", "6.1.100"), kpp::Error);
    uninstall_patch(t.env, "livepatch_m", "6.1.192");
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_TRUE(installed_patches(t.env).empty());
    EXPECT_THROW(uninstall_patch(t.env, "livepatch_m", "6.1.192"), kpp::Error);
}

struct Result {
    int status;
    std::string out;
};
Result run(const std::string &cmd) {
    Result r{-1, {}};
    FILE *p = popen(cmd.c_str(), "r");
    if (!p)
        return r;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

TEST(KpatchCliBinary, ListJsonInfoAndErrorsAgainstAFakeTree) {
    FakeTree t;
    t.add_patch("livepatch_m", true, false, {{"vmlinux", "meminfo_proc_show,1"}});
    std::string ko = (t.root / "m.ko").string();
    write_patch_module(ko, kLivepatchInfo, {{"meminfo_proc_show", "vmlinux", 0, 64}});
    const std::string env = "KPATCH_SYSFS_ROOT=" + t.env.sysfs_root +
                            " KPATCH_PROC_ROOT=" + t.env.proc_root +
                            " KPATCH_PREFIX=" + t.env.prefix + " KPATCH_KERNEL_RELEASE=6.1.192 ";
    const std::string k = env + KPP_KPATCH_BIN;

    Result r = run(k + " install " + ko);
    ASSERT_EQ(r.status, 0) << r.out;
    r = run(k + " list --json");
    ASSERT_EQ(r.status, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["loaded"][0]["name"], "livepatch_m");
    EXPECT_EQ(j["installed"][0]["running_kernel"], true);

    r = run(k + " info --json livepatch_m");
    ASSERT_EQ(r.status, 0) << r.out;
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["functions"][0]["name"], "meminfo_proc_show");
    EXPECT_EQ(j["loaded"]["enabled"], true);
    EXPECT_EQ(j["loaded"]["objects"][0]["functions"][0]["sympos"], 1);

    r = run(k + " info " + ko);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("vmlinux:meminfo_proc_show,0"), std::string::npos) << r.out;

    r = run(k + " info livepatch_nothing 2>&1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find("kpatch: error: info: no such patch module: livepatch_nothing"),
              std::string::npos)
        << r.out;
    r = run(k + " install -k 6.2.0 " + ko + " 2>&1");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("built for kernel 6.1.192, not 6.2.0"), std::string::npos) << r.out;
    r = run(k + " frobnicate 2>&1");
    EXPECT_EQ(r.status, 2);
    r = run(k + " list --bogus 2>&1");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find("see kpatch list --help"), std::string::npos) << r.out;
    r = run(k + " force 2>&1");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("no patch is in transition"), std::string::npos) << r.out;
    r = run(k + " version");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out.rfind("kpatch (kpatch++) ", 0), 0u) << r.out;
    for (const char *verb :
         {"load", "unload", "list", "info", "install", "uninstall", "signal", "force", "version"}) {
        r = run(k + " " + verb + " --help");
        EXPECT_EQ(r.status, 0) << verb;
        EXPECT_NE(r.out.find(std::string("kpatch ") + verb), std::string::npos)
            << verb << ": " << r.out;
    }
}

} // namespace
