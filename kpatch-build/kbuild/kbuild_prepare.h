// Files kbuild's "prepare" stage rewrites when the compiler flags change.
//
// Every make with a single-object goal runs prepare first, and prepare
// compiles a few files with the kernel's C flags — asm-offsets.s, bounds.s,
// scripts/mod/empty.o (from which modpost is rebuilt) — plus
// scripts/checksyscalls.sh, which rewrites .missing-syscalls.d on every run.
// KCFLAGS="-ffunction-sections -fdata-sections" changes those flags, so these
// files are rebuilt too and must be protected like the objects themselves.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

// Paths relative to kernel_dir; only ones that exist (a file that does not
// exist yet is left alone: it is not ours to delete).
std::vector<std::string> files_prepare_may_rewrite(const std::filesystem::path &kernel_dir);

} // namespace kpp::build
