#include "libkpp/module_name.h"

#include <algorithm>

namespace kpp {

std::string kernel_module_name(std::string_view name) {
    std::string result(name);
    std::replace(result.begin(), result.end(), '-', '_');
    return result;
}

std::string symvers_module_name(std::string_view column) {
    return kernel_module_name(column.substr(column.rfind('/') + 1));
}

} // namespace kpp
