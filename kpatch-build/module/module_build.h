// Turning the diff outputs into the livepatch module NAME.ko.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

struct ModuleRequest {
    std::vector<std::filesystem::path> diff_outputs;
    std::filesystem::path kernel_dir;
    std::filesystem::path module_dir; // WORK/module
    std::filesystem::path symvers;
    std::string name; // NAME.ko
    bool non_replace = false;
    bool core = false;             // for kpatch.ko (kmod/core), not the livepatch core
    std::filesystem::path vmlinux; // --core: old addresses and first bytes
    unsigned jobs = 1;
    std::vector<std::string> make_variables; // ARCH=... as for the objects
    std::filesystem::path output;            // OUT/NAME.ko
};

// ld -r the outputs into module_dir/output.o, copy the template beside it,
// build it with kbuild, then let klp_convert turn the result into a proper
// livepatch module at `output`. With `core`: convert output.o for the
// kmod/core template (core_convert.h), build kpatch.ko in
// module_dir/../core, the module against its Module.symvers, and put
// kpatch.ko next to `output`.
void build_patch_module(const ModuleRequest &request, const std::filesystem::path &log);

// The kbuild command for the template (documented in kmod/patch/Kbuild).
std::vector<std::string> module_make_command(const ModuleRequest &request);

} // namespace kpp::build
