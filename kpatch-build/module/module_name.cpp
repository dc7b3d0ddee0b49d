#include "kpatch-build/module/module_name.h"

#include "libkpp/error.h"

#include <algorithm>
#include <filesystem>

namespace kpp::build {
namespace {

bool is_module_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

} // namespace

std::string default_module_name(std::string_view first_patch_path) {
    std::string stem = std::filesystem::path(first_patch_path).stem().string();
    if (stem.empty())
        stem = "patch";
    std::replace_if(
        stem.begin(), stem.end(), [](char c) { return !is_module_name_char(c); }, '_');
    std::string name = "livepatch-" + stem;
    if (name.size() > kMaxModuleNameLength)
        name.resize(kMaxModuleNameLength);
    return name;
}

void validate_module_name(std::string_view name) {
    if (name.empty())
        throw Error("module name is empty");
    if (name.size() > kMaxModuleNameLength)
        throw Error("module name '{}' is {} characters long; the kernel allows at most {}", name,
                    name.size(), kMaxModuleNameLength);
    auto bad =
        std::find_if(name.begin(), name.end(), [](char c) { return !is_module_name_char(c); });
    if (bad != name.end())
        throw Error("module name '{}' contains '{}'; use only letters, digits, '_' and '-'", name,
                    *bad);
}

} // namespace kpp::build
