#include "kpatch-build/data_dir.h"

#include "kpatch-build/text_file.h"
#include "libkpp/error.h"

#include <string>
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

fs::path install_macros_header(const fs::path &kernel_dir, bool for_core) {
    fs::path header = find_module_template() / "kpatchpp-macros.h";
    if (!fs::is_regular_file(header))
        throw Error("{} not found: the patch module template is incomplete", header.string());
    fs::path destination = kernel_dir / kMacrosHeaderInTree;
    if (!fs::is_directory(destination.parent_path()))
        throw Error("{} is not a directory: {} does not look like a kernel source tree",
                    destination.parent_path().string(), kernel_dir.string());
    write_text_file_atomically(destination, macros_header_text(read_text_file(header), for_core));
    fs::permissions(destination, fs::perms::owner_read | fs::perms::owner_write |
                                     fs::perms::group_read | fs::perms::others_read);
    return destination;
}

} // namespace kpp::build
