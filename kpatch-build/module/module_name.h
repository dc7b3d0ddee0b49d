// The livepatch module's name: NAME.ko on disk, and the name the kernel gives
// the module and the livepatch (/sys/kernel/livepatch/NAME).
#pragma once

#include "libkpp/module_name.h" // kernel_module_name()

#include <string>
#include <string_view>

namespace kpp::build {

// The kernel keeps module names in char[MODULE_NAME_LEN], 64 - sizeof(long)
// bytes including the terminating NUL.
inline constexpr size_t kMaxModuleNameLength = 55;

// "livepatch-" + the first patch's file name without directory and extension,
// every character outside [A-Za-z0-9_-] replaced by '_', cut to the limit.
std::string default_module_name(std::string_view first_patch_path);

// Throws kpp::Error if the kernel would not accept `name` as a module name.
void validate_module_name(std::string_view name);

} // namespace kpp::build
