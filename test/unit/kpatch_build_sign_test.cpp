// Module signing: the --sign-key/--sign-cert rules, reading the signing
// settings from .config, and the signing step with a stand-in sign-file.
#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/module/module_sign.h"
#include "kpatch-build/options.h"
#include "libkpp/error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdlib.h>

using namespace kpp::build;
namespace fs = std::filesystem;

namespace {

class ScratchDir {
  public:
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "kpp-sign-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~ScratchDir() { fs::remove_all(path_); }
    fs::path operator/(const std::string &name) const { return path_ / name; }
    const fs::path &path() const { return path_; }

  private:
    fs::path path_;
};

void write(const fs::path &path, const std::string &text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// A kernel tree with just the key pair and a sign-file stand-in that runs
// `script` (a shell snippet; $4 is the module, as for the real tool).
struct FakeTree {
    ScratchDir dir;
    fs::path key = dir / "certs/signing_key.pem";
    fs::path cert = dir / "certs/signing_key.x509";
    explicit FakeTree(const std::string &script) {
        write(key, "key");
        write(cert, "cert");
        write(dir / "scripts/sign-file", "#!/bin/sh\necho \"$@\" >\"$4.args\"\n" + script + "\n");
        fs::permissions(dir / "scripts/sign-file", fs::perms::owner_all);
    }
};

constexpr const char *kAppendSignature = "printf 'SIG~Module signature appended~\\n' >>\"$4\"";

const char *kForcedConfig = "CONFIG_MODULES=y\n"
                            "CONFIG_MODULE_SIG=y\n"
                            "CONFIG_MODULE_SIG_FORCE=y\n"
                            "CONFIG_MODULE_SIG_HASH=\"sha512\"\n";

TEST(KpatchBuildSignOptions, KeyAndCertificateGoTogether) {
    auto cl = parse_command_line(
        {"-s", "/src", "--sign-key", "k.pem", "--sign-cert", "c.x509", "x.patch"});
    EXPECT_EQ(cl.options.sign_key, "k.pem");
    EXPECT_EQ(cl.options.sign_cert, "c.x509");
    auto plain = parse_command_line({"-s", "/src", "x.patch"});
    EXPECT_TRUE(plain.options.sign_key.empty());
    EXPECT_TRUE(plain.options.sign_cert.empty());
    for (const auto &args : {std::vector<std::string>{"-s", "/s", "--sign-key", "k", "x.patch"},
                             std::vector<std::string>{"-s", "/s", "--sign-cert", "c", "x.patch"}}) {
        try {
            parse_command_line(args);
            ADD_FAILURE() << "accepted " << args[2] << " alone";
        } catch (const kpp::Error &e) {
            EXPECT_NE(std::string(e.what()).find("--sign-key and --sign-cert go together"),
                      std::string::npos)
                << e.what();
            EXPECT_EQ(e.status(), kpp::kExitBadInput);
        }
    }
}

TEST(KpatchBuildKconfig, ReadsValuesExactly) {
    const char *config = "# CONFIG_MODULE_SIG_ALL is not set\n"
                         "CONFIG_MODULE_SIG_FORCE=y\n"
                         "CONFIG_MODULE_SIG_HASH=\"sha384\"\n"
                         "CONFIG_NR_CPUS=8";
    EXPECT_EQ(config_value(config, "CONFIG_MODULE_SIG_HASH"), "sha384");
    EXPECT_EQ(config_value(config, "CONFIG_NR_CPUS"), "8"); // last line, no newline
    // A prefix of a set option is not that option.
    EXPECT_FALSE(config_value(config, "CONFIG_MODULE_SIG"));
    EXPECT_FALSE(config_value(config, "CONFIG_MODULE_SIG_ALL"));
    EXPECT_TRUE(config_enabled(config, "CONFIG_MODULE_SIG_FORCE"));
    EXPECT_FALSE(config_enabled(config, "CONFIG_MODULE_SIG"));
}

TEST(KpatchBuildSign, WarnsWhenTheKernelWillRefuseAnUnsignedModule) {
    SigningPlan forced = plan_signing("", "", kForcedConfig, "/nonexistent");
    EXPECT_FALSE(forced.signs());
    EXPECT_NE(forced.warning.find("CONFIG_MODULE_SIG_FORCE"), std::string::npos);
    EXPECT_NE(forced.warning.find("--sign-key"), std::string::npos);
    SigningPlan lax = plan_signing("", "", "CONFIG_MODULE_SIG=y\n", "/nonexistent");
    EXPECT_FALSE(lax.signs());
    EXPECT_TRUE(lax.warning.empty()) << lax.warning;
}

TEST(KpatchBuildSign, HashComesFromTheConfig) {
    FakeTree tree(kAppendSignature);
    SigningPlan plan =
        plan_signing(tree.key.string(), tree.cert.string(), kForcedConfig, tree.dir.path());
    ASSERT_TRUE(plan.signs());
    EXPECT_TRUE(plan.warning.empty()) << plan.warning;
    EXPECT_EQ(plan.hash, "sha512");
    EXPECT_EQ(sign_file_command(plan, "/w/m.ko"),
              (std::vector<std::string>{(tree.dir / "scripts/sign-file").string(), "sha512",
                                        tree.key.string(), tree.cert.string(), "/w/m.ko"}));
    SigningPlan defaulted = plan_signing(tree.key.string(), tree.cert.string(),
                                         "CONFIG_MODULE_SIG=y\n", tree.dir.path());
    EXPECT_EQ(defaulted.hash, "sha256");
}

TEST(KpatchBuildSign, MissingFilesAreNamedBeforeAnyBuild) {
    FakeTree tree(kAppendSignature);
    auto message = [&](const std::string &key, const std::string &cert, const fs::path &kdir) {
        try {
            plan_signing(key, cert, kForcedConfig, kdir);
        } catch (const kpp::Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    std::string missing_key =
        message((tree.dir / "nokey.pem").string(), tree.cert.string(), tree.dir.path());
    EXPECT_NE(missing_key.find("nokey.pem"), std::string::npos) << missing_key;
    std::string missing_cert = message(tree.key.string(), "/none/cert.x509", tree.dir.path());
    EXPECT_NE(missing_cert.find("/none/cert.x509"), std::string::npos) << missing_cert;
    fs::remove(tree.dir / "scripts/sign-file");
    std::string no_tool = message(tree.key.string(), tree.cert.string(), tree.dir.path());
    EXPECT_NE(no_tool.find("scripts/sign-file not found"), std::string::npos) << no_tool;
    // A PKCS#11 key is not a file and is passed on as it is.
    write(tree.dir / "scripts/sign-file", "");
    EXPECT_EQ(
        plan_signing("pkcs11:token=kpp", tree.cert.string(), kForcedConfig, tree.dir.path()).key,
        "pkcs11:token=kpp");
}

TEST(KpatchBuildSign, SignsInPlaceAndChecksTheMarker) {
    FakeTree tree(kAppendSignature);
    SigningPlan plan =
        plan_signing(tree.key.string(), tree.cert.string(), kForcedConfig, tree.dir.path());
    fs::path module = tree.dir / "livepatch-x.ko";
    write(module, "\x7f"
                  "ELF module bytes");
    EXPECT_FALSE(has_module_signature(module));
    sign_module(plan, module, tree.dir / "log");
    EXPECT_TRUE(has_module_signature(module));
    std::ifstream args(module.string() + ".args");
    std::string line;
    std::getline(args, line);
    EXPECT_EQ(line,
              "sha512 " + tree.key.string() + " " + tree.cert.string() + " " + module.string());
}

TEST(KpatchBuildSign, FailsWhenSignFileFailsOrLeavesNoSignature) {
    FakeTree silent("true");
    SigningPlan plan =
        plan_signing(silent.key.string(), silent.cert.string(), kForcedConfig, silent.dir.path());
    fs::path module = silent.dir / "m.ko";
    write(module, "module");
    EXPECT_THROW(sign_module(plan, module, silent.dir / "log"), kpp::Error);
    FakeTree failing("echo 'cannot read key' >&2; exit 1");
    plan = plan_signing(failing.key.string(), failing.cert.string(), kForcedConfig,
                        failing.dir.path());
    EXPECT_THROW(sign_module(plan, module, failing.dir / "log"), kpp::Error);
}

} // namespace
