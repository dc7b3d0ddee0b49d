#include "kpatch-build/distro/stock_kernel.h"

#include "kpatch-build/distro/distro.h"
#include "kpatch-build/distro/package_cache.h"
#include "kpatch-build/distro/release_cache.h"
#include "kpatch-build/kbuild/compile_units.h"
#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/cross_build.h"
#include "kpatch-build/kbuild/header_deps.h"
#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/kbuild/uncompiled_source.h"
#include "kpatch-build/module/module_name.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cstdlib>
#include <memory>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// $CC for this run unless set: the program of CONFIG_CC_VERSION_TEXT, with
// the cross prefix for another architecture's kernel (gcc-12 ->
// aarch64-linux-gnu-gcc-12).
void use_kernel_compiler(std::string_view config_text, std::string_view cross_prefix) {
    if (const char *cc = std::getenv("CC"); cc && *cc)
        return;
    auto version = config_compiler_version(config_text);
    if (!version)
        return; // check_compiler() says what is wrong
    std::string compiler = std::string(cross_prefix) + compiler_of_version_text(*version);
    log::debug("using the kernel's compiler {} (CC)", compiler);
    setenv("CC", compiler.c_str(), 1);
}

// "kernel/fs/binfmt_misc.ko" or "...ko.debug" -> "binfmt_misc"
std::string module_name_of(const std::string &binary, std::string_view suffix) {
    std::string file = fs::path(binary).filename().string();
    return kernel_module_name(file.substr(0, file.size() - suffix.size()));
}

} // namespace

std::unique_ptr<distro::Distro> stock_distro(const Progress &progress) {
    auto packages = std::make_shared<distro::PackageCache>(default_cache_dir() / "packages",
                                                           distro::apt_archive(), &progress);
    return distro::detect("/", nullptr, packages);
}

KernelTree find_stock_kernel_tree(const Options &options, const Progress &progress) {
    std::string release = options.release.empty() ? distro::running_release() : options.release;
    fs::path cache_dir = default_cache_dir();
    auto distro = stock_distro(progress);
    progress.stage(
        fmt::format("finding the packages of the {} kernel {}", distro->name(), release));
    distro::StockKernel stock = distro->locate(release);
    // The distribution's config, not the prepared tree's: preparing rewrites
    // CONFIG_CC_VERSION_TEXT with the compiler that prepares.
    std::string config_text = read_text_file_or_empty(stock.config);
    std::string prefix = cross_prefix(config_arch(config_text, release), host_machine());
    use_kernel_compiler(config_text, prefix);
    CompilerVerdict compiler;
    if (options.skip_compiler_check)
        log::warn("not checking that {} is the compiler that built the kernel", compiler_command());
    else
        compiler = check_compiler(stock.config, prefix);
    PreparedRelease prepared = prepared_release(stock, cache_dir, options.jobs, progress);
    log::info("using the prepared tree {}", prepared.tree.string());

    KernelTree kernel;
    kernel.source_dir = prepared.tree;
    kernel.config = prepared.tree / ".config";
    kernel.vmlinux = stock.vmlinux;
    kernel.symvers = prepared.tree / "Module.symvers";
    kernel.make_variables = prepared.make_variables;
    kernel.compiler = compiler;
    kernel.stock = StockTree{release,
                             stock.version,
                             stock.source,
                             prepared.units,
                             prepared.header_deps,
                             stock.debug_modules,
                             stock.debug_module_suffix};
    kernel.stock->cache_uses = std::move(stock.cache_uses);
    kernel.stock->cache_uses.push_back(prepared.use);
    return kernel;
}

ObjectLookup stock_object_lookup(const KernelTree &kernel, unsigned jobs, const fs::path &work_dir,
                                 const fs::path &log, const Progress &progress) {
    auto units = std::make_shared<CompileUnitIndex>(CompileUnitIndex::load(kernel.stock->units));
    auto readers = std::make_shared<HeaderReaders>(
        HeaderScanRequest{kernel.source_dir, units->objects(), kernel.make_variables, jobs,
                          kernel.stock->header_deps, log, work_dir / "backup-scan", units->goals()},
        progress);
    ObjectLookup lookup;
    lookup.builds = [units](const std::string &object) { return units->contains(object); };
    lookup.uncompiled = [tree = kernel.source_dir, config = read_text_file_or_empty(kernel.config)](
                            const std::string &source) {
        return uncompiled_source_reason(tree, source, config);
    };
    lookup.users_are_complete = true;
    lookup.prepare_objects_using = [readers](const std::vector<std::string> &paths) {
        readers->prepare(paths);
    };
    lookup.objects_using = [readers](const std::string &path) {
        auto users = readers->objects_using(path);
        if (users && users->empty())
            log::info("{}: no compile unit of vmlinux or its modules is built from it or reads it",
                      path);
        if (!users) {
            const auto &unscanned = readers->unscanned();
            log::info("{}: {} compile unit(s) could not be preprocessed in the prepared tree "
                      "(e.g. {}), and any of them might read it",
                      path, unscanned.size(), *unscanned.begin());
        }
        return users;
    };
    // Building every object one goal at a time is not a full build of a
    // distribution kernel: link-time units (.vmlinux.export.o) have no goal,
    // and objects of composite modules in other directories (virt/kvm/ in
    // kvm.ko) only build through their module's Makefile.
    lookup.all_objects = []() -> std::vector<std::string> {
        throw Error("kpatch-build cannot tell which objects of this kernel the patch affects (the "
                    "lines above say why) and does not rebuild a whole distribution kernel "
                    "without -s: build the kernel (about an hour) and use -s");
    };
    return lookup;
}

std::map<std::string, std::string> stock_object_goals(const KernelTree &kernel) {
    return CompileUnitIndex::load(kernel.stock->units).goals();
}

ParentIndex stock_parents(const KernelTree &kernel) {
    auto units = std::make_shared<CompileUnitIndex>(CompileUnitIndex::load(kernel.stock->units));
    StockTree stock = *kernel.stock;
    fs::path vmlinux = kernel.vmlinux;
    return ParentIndex::from_lookup(
        [units, stock, vmlinux](const std::string &object) -> std::optional<Parent> {
            std::string binary = units->binary_of(object);
            if (binary.empty())
                return std::nullopt;
            if (binary == "vmlinux")
                return Parent{"vmlinux", vmlinux};
            return Parent{module_name_of(binary, stock.debug_module_suffix),
                          stock.debug_modules / binary};
        });
}

} // namespace kpp::build
