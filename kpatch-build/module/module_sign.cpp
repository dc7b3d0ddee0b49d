#include "kpatch-build/module/module_sign.h"

#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/util/command.h"
#include "libkpp/error.h"

#include <fstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// What the kernel's module loader looks for at the end of a signed module
// (MODULE_SIG_STRING in include/linux/module_signature.h).
constexpr std::string_view kSignatureMarker = "~Module signature appended~\n";

void require_readable(const fs::path &path, std::string_view what) {
    if (!fs::is_regular_file(path) || !std::ifstream(path))
        throw Error("{} {} not found or not readable", what, path.string());
}

} // namespace

SigningPlan plan_signing(const std::string &key, const std::string &cert,
                         std::string_view config_text, const fs::path &kernel_dir) {
    SigningPlan plan;
    if (key.empty()) {
        if (config_enabled(config_text, "CONFIG_MODULE_SIG_FORCE"))
            plan.warning = "the kernel config has CONFIG_MODULE_SIG_FORCE=y: the kernel will "
                           "refuse this unsigned module; pass --sign-key KEY --sign-cert CERT "
                           "(a key whose certificate the kernel trusts)";
        return plan;
    }
    // sign-file also takes a PKCS#11 URI instead of a key file.
    if (!key.starts_with("pkcs11:"))
        require_readable(key, "--sign-key: private key");
    require_readable(cert, "--sign-cert: certificate");
    plan.key = key;
    plan.cert = cert;
    if (auto hash = config_value(config_text, "CONFIG_MODULE_SIG_HASH"); hash && !hash->empty())
        plan.hash = *hash;
    plan.sign_file = kernel_dir / "scripts" / "sign-file";
    if (!fs::is_regular_file(plan.sign_file))
        throw Error("{} not found: the kernel tree builds it when CONFIG_MODULE_SIG is set "
                    "(make -C {} scripts)",
                    plan.sign_file.string(), kernel_dir.string());
    if (!config_enabled(config_text, "CONFIG_MODULE_SIG"))
        plan.warning = "signing the module, but the kernel config has no CONFIG_MODULE_SIG=y: "
                       "the kernel will not check the signature";
    return plan;
}

std::vector<std::string> sign_file_command(const SigningPlan &plan, const fs::path &module) {
    return {plan.sign_file.string(), plan.hash, plan.key, plan.cert.string(), module.string()};
}

bool has_module_signature(const fs::path &module) {
    std::ifstream in(module, std::ios::binary | std::ios::ate);
    auto size = static_cast<std::streamoff>(in.tellg());
    auto marker = static_cast<std::streamoff>(kSignatureMarker.size());
    if (!in || size < marker)
        return false;
    std::string tail(kSignatureMarker.size(), '\0');
    in.seekg(size - marker);
    in.read(tail.data(), marker);
    return in && tail == kSignatureMarker;
}

void sign_module(const SigningPlan &plan, const fs::path &module, const fs::path &log) {
    run_logged(sign_file_command(plan, module), log);
    if (!has_module_signature(module))
        throw Error("{} did not sign {} (see {})", plan.sign_file.string(), module.string(),
                    log.string());
}

} // namespace kpp::build
