// The files beside a built tree (-s) must come from that very build: the
// symbol table and struct sizes of vmlinux, and the config, describe the
// kernel the objects built here are linked against. A vmlinux of another
// build would give wrong symbol positions and sizes; a config other than
// the one kbuild builds with would describe another kernel.
#pragma once

#include "kpatch-build/tree/kernel_tree.h"

#include <filesystem>
#include <optional>
#include <string>

namespace kpp::build {

// The string `linux_banner` holds in an ELF file ("Linux version REL (...)
// ... #1 SMP ..."), without its newline; nullopt if it has none.
std::optional<std::string> read_linux_banner(const std::filesystem::path &elf);

// The release in a banner: "Linux version 6.1.192 (x@y) ..." -> "6.1.192".
std::string banner_release(const std::string &banner);

// The first CONFIG_ option whose value differs between two .config texts,
// as "CONFIG_X=y in A, not set in B"; empty if they agree.
std::string first_config_difference(const std::string &a_text, const std::string &a_name,
                                    const std::string &b_text, const std::string &b_name);

// Throws kpp::Error when the vmlinux or the config of `tree` (a -s tree)
// does not belong to it.
void check_tree_files_match(const KernelTree &tree);

} // namespace kpp::build
