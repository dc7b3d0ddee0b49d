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
    if (auto llvm = llvm_of_tools(recorded_make_variable(text.str(), "CC").value_or(""),
                                  recorded_make_variable(text.str(), "LD").value_or(""));
        llvm && !recorded_make_variable(text.str(), "LLVM").value_or("").size())
        variables.push_back("LLVM=" + *llvm);
    return variables;
}

std::optional<std::string> llvm_of_tools(std::string_view cc, std::string_view ld) {
    size_t slash = cc.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? "" : cc.substr(0, slash + 1);
    std::string_view program = cc.substr(dir.size());
    std::string_view linker =
        ld.substr(ld.rfind('/') == std::string_view::npos ? 0 : ld.rfind('/') + 1);
    if (!program.starts_with("clang") || !linker.starts_with("ld.lld"))
        return std::nullopt;
    std::string_view suffix = program.substr(5);
    if (!dir.empty())
        return suffix.empty() ? std::optional(std::string(dir)) : std::nullopt;
    return suffix.empty() ? "1" : std::string(suffix);
}

std::optional<std::string> llvm_compiler(const std::vector<std::string> &make_variables) {
    for (const auto &variable : make_variables) {
        if (!variable.starts_with("LLVM="))
            continue;
        std::string value = variable.substr(5);
        if (value == "1")
            return "clang";
        return value.ends_with('/') ? value + "clang" : "clang" + value;
    }
    return std::nullopt;
}

} // namespace kpp::build
