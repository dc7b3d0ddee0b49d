// Signing the patch module, for kernels that check module signatures
// (CONFIG_MODULE_SIG; with CONFIG_MODULE_SIG_FORCE they refuse unsigned
// modules). The signature is appended last, after the livepatch conversion:
// any later change to the file would invalidate it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

struct SigningPlan {
    std::string key;                 // private key file or PKCS#11 URI; empty: do not sign
    std::filesystem::path cert;      // X.509 certificate the kernel trusts
    std::string hash = "sha256";     // CONFIG_MODULE_SIG_HASH
    std::filesystem::path sign_file; // the tree's scripts/sign-file
    std::string warning;             // for the user, e.g. "the kernel will refuse ..."
    bool signs() const { return !key.empty(); }
};

// Decides from --sign-key/--sign-cert and the target's .config text. When
// signing, checks that the key, the certificate and scripts/sign-file exist
// (kpp::Error naming the missing one). Without a key, warns when the config
// enforces signatures. Logs nothing itself.
SigningPlan plan_signing(const std::string &key, const std::string &cert,
                         std::string_view config_text, const std::filesystem::path &kernel_dir);

// scripts/sign-file HASH KEY CERT MODULE (signs in place).
std::vector<std::string> sign_file_command(const SigningPlan &plan,
                                           const std::filesystem::path &module);

// Whether the file ends with the kernel's module signature marker.
bool has_module_signature(const std::filesystem::path &module);

// Signs `module` in place; throws kpp::Error when sign-file fails or leaves
// no signature.
void sign_module(const SigningPlan &plan, const std::filesystem::path &module,
                 const std::filesystem::path &log);

} // namespace kpp::build
