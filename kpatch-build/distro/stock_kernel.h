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

// Locates the release's packages, prepares (or reuses) its cached tree and
// makes the kernel's compiler (CONFIG_CC_VERSION_TEXT's program, e.g.
// gcc-12) $CC for this run unless CC is set.
KernelTree find_stock_kernel_tree(const Options &options, const Progress &progress);

// "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0" -> "gcc-12".
std::string compiler_of_version_text(std::string_view version_text);

// The architecture a kernel .config is for, as `uname -m` says it
// ("x86_64", "aarch64"); empty for one kpatch++ does not know.
std::string config_machine(std::string_view config_text);

// Throws kpp::Error when the kernel of `release` (its .config text) is for
// another architecture than `host_machine` (`uname -m`): kpatch-build builds
// for the machine's own architecture only (kpatch.ko itself cross-builds
// for arm64, docs/core.md; the rest is issue 15).
void require_host_architecture(std::string_view release, std::string_view config_text,
                               std::string_view host_machine);

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
