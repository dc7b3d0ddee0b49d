// kpatch-build without -s: a distribution's own kernel (`uname -r` or -a REL).
//
// The distribution's packages give the source, config, debug info and
// Module.symvers (distro/); the release cache gives a prepared tree
// (release_cache.h). The objects a patch touches and their parents come from
// the compile units in the kernel's debug info (compile_units.h), headers are
// traced with a cached kbuild dependency scan (header_deps.h).
#pragma once

#include "kpatch-build/distro/distro.h"
#include "kpatch-build/kbuild/changed_objects.h"
#include "kpatch-build/kbuild/object_parents.h"
#include "kpatch-build/options.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/tree/kernel_tree.h"

#include <filesystem>
#include <map>
#include <memory>

namespace kpp::build {

// The distribution of this machine, fetching missing packages into
// kpatch-build's package cache.
std::unique_ptr<distro::Distro> stock_distro(const Progress &progress);

// Locates the release's packages, makes the kernel's compiler
// (CONFIG_CC_VERSION_TEXT's program, e.g. gcc-12, or aarch64-linux-gnu-gcc-12
// for an arm64 kernel on x86_64: cross_build.h) $CC for this run unless CC is
// set, checks it against the distribution's config (unless
// --skip-compiler-check) and prepares (or reuses) the release's cached tree.
KernelTree find_stock_kernel_tree(const Options &options, const Progress &progress);

// Which objects of the stock kernel a file is compiled into or read by.
// `work_dir` holds the backups of a header scan (if one is needed).
ObjectLookup stock_object_lookup(const KernelTree &kernel, unsigned jobs,
                                 const std::filesystem::path &work_dir,
                                 const std::filesystem::path &log, const Progress &progress);

// Objects of the stock kernel that kbuild builds under another name
// (CompileUnitIndex::goals()).
std::map<std::string, std::string> stock_object_goals(const KernelTree &kernel);

// Parents from the compile units: vmlinux (the -dbg vmlinux) or the module's
// debug .ko file, which has the module's full symbol table.
ParentIndex stock_parents(const KernelTree &kernel);

} // namespace kpp::build
