#include "kpatch-build/kbuild/kbuild_config.h"

#include <fstream>
#include <sstream>

namespace kpp::build {

std::optional<std::string> recorded_make_variable(std::string_view auto_conf_cmd,
                                                  std::string_view name) {
    std::string key = "ifneq \"$(" + std::string(name) + ")\" \"";
    size_t start = auto_conf_cmd.find(key);
    if (start == std::string_view::npos)
        return std::nullopt;
    start += key.size();
    size_t end = auto_conf_cmd.find('"', start);
    if (end == std::string_view::npos)
        return std::nullopt;
    return std::string(auto_conf_cmd.substr(start, end - start));
}

std::vector<std::string> tree_make_variables(const std::filesystem::path &kernel_dir) {
    std::ifstream in(kernel_dir / "include/config/auto.conf.cmd");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> variables;
    // Only what a user chooses on the command line; the rest (SRCARCH, CC,
    // LD, ...) the top Makefile derives from it and the environment.
    for (std::string_view name : {"ARCH", "LLVM", "CROSS_COMPILE"})
        if (auto value = recorded_make_variable(text.str(), name); value && !value->empty())
            variables.push_back(std::string(name) + "=" + *value);
    return variables;
}

} // namespace kpp::build
