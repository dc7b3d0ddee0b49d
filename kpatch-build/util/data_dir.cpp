#include "kpatch-build/util/data_dir.h"

#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#ifndef KPP_SOURCE_DIR
#error "KPP_SOURCE_DIR must name the source tree (set by kpatch-build/CMakeLists.txt)"
#endif

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

fs::path executable_dir() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self.parent_path();
}

bool has_template(const fs::path &dir) {
    return fs::is_regular_file(dir / "Kbuild");
}

} // namespace

fs::path find_module_template() {
    std::vector<fs::path> candidates;
    if (fs::path dir = executable_dir(); !dir.empty())
        candidates.push_back(dir.parent_path() / "share/kpatchpp/kmod/patch");
    candidates.push_back(fs::path(KPP_SOURCE_DIR) / "kmod/patch");
    for (const auto &candidate : candidates)
        if (has_template(candidate))
            return candidate;
    throw Error("patch module template not found (looked in {} and {})",
                candidates.front().string(), candidates.back().string());
}

fs::path find_core_sources() {
    std::vector<fs::path> candidates;
    if (fs::path dir = executable_dir(); !dir.empty())
        candidates.push_back(dir.parent_path() / "share/kpatchpp/kmod/core");
    candidates.push_back(fs::path(KPP_SOURCE_DIR) / "kmod/core");
    for (const auto &candidate : candidates)
        if (fs::is_regular_file(candidate / "Kbuild") &&
            fs::is_regular_file(candidate / "template/Kbuild"))
            return candidate;
    throw Error("kmod/core (kpatch.ko and its patch template) not found (looked in {} and {})",
                candidates.front().string(), candidates.back().string());
}

std::string macros_header_text(const std::string &header, bool for_core) {
    if (!for_core)
        return header;
    size_t eol = header.find('\n');
    size_t split = eol == std::string::npos ? header.size() : eol + 1;
    std::string text = header.substr(0, split);
    if (eol == std::string::npos)
        text += '\n';
    text += "/* Installed by kpatch-build for a kpatch.ko (kmod/core) patch module. */\n"
            "#ifndef KPP_CORE\n#define KPP_CORE 1\n#endif\n";
    return text + header.substr(split);
}

void install_patch_headers(const fs::path &kernel_dir, bool for_core) {
    if (!fs::is_directory(kernel_dir / "include/linux"))
        throw Error("{} has no include/linux/: it does not look like a kernel source tree",
                    kernel_dir.string());
    for (const PatchHeader &header : kPatchHeaders) {
        fs::path source = find_module_template() / header.template_file;
        if (!fs::is_regular_file(source))
            throw Error("{} not found: the patch module template is incomplete", source.string());
        std::string text = read_text_file(source);
        if (std::string_view(header.in_tree) == kMacrosHeaderInTree)
            text = macros_header_text(text, for_core);
        fs::path destination = kernel_dir / header.in_tree;
        write_text_file_atomically(destination, text);
        fs::permissions(destination, fs::perms::owner_read | fs::perms::owner_write |
                                         fs::perms::group_read | fs::perms::others_read);
    }
}

} // namespace kpp::build
