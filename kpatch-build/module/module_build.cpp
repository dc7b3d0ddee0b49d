#include "kpatch-build/module/module_build.h"

#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/cross_build.h"
#include "kpatch-build/module/core_convert.h"
#include "kpatch-build/module/klp_convert.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/data_dir.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cstdlib>
#include <fstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

void link_outputs(const ModuleRequest &request, const fs::path &log) {
    std::vector<std::string> argv = {kbuild_tool(request.make_variables, "ld"), "-r", "-o",
                                     (request.module_dir / "output.o").string()};
    for (const auto &output : request.diff_outputs)
        argv.push_back(output.string());
    run_logged(argv, log);
    // With CONFIG_MODVERSIONS, modpost (6.1) reads each object's .cmd file
    // for "#SYMVER" lines and fails if it is missing. output.o exports
    // nothing, so its .cmd file has none; kbuild has no rule for output.o, so
    // it never runs a command from it.
    std::ofstream(request.module_dir / ".output.o.cmd")
        << "# output.o: linked by kpatch-build from the diff outputs; exports no symbols\n";
}

void copy_template(const fs::path &from, const fs::path &to) {
    for (const auto &entry : fs::directory_iterator(from))
        if (entry.is_regular_file())
            fs::copy_file(entry.path(), to / entry.path().filename(),
                          fs::copy_options::overwrite_existing);
}

// make -C KERNEL -jN M=dir VARS... [CC=...] modules.
std::vector<std::string> kbuild_modules(const ModuleRequest &request, const fs::path &dir,
                                        std::vector<std::string> vars) {
    std::vector<std::string> argv = {"make", "-C", request.kernel_dir.string(),
                                     fmt::format("-j{}", request.jobs), "M=" + dir.string()};
    argv.insert(argv.end(), vars.begin(), vars.end());
    argv.insert(argv.end(), request.make_variables.begin(), request.make_variables.end());
    if (std::getenv("CC"))
        argv.push_back("CC=" + compiler_command());
    argv.push_back("modules");
    return argv;
}

// kpatch.ko's sources (not its tests) into `to`, built there.
void build_core(const ModuleRequest &request, const fs::path &to, const fs::path &log) {
    fs::path sources = find_core_sources();
    // kpatch.ko's sources: kmod/core's files and its arch/ folder (the
    // per-architecture parts), not the test modules or the patch template.
    fs::create_directories(to / "arch");
    copy_template(sources, to);
    copy_template(sources / "arch", to / "arch");
    run_logged(kbuild_modules(request, to, {}), log);
    if (!fs::is_regular_file(to / "kpatch.ko") || !fs::is_regular_file(to / "Module.symvers"))
        throw Error("kbuild did not produce kpatch.ko in {} (see {})", to.string(), log.string());
}

void build_core_patch_module(const ModuleRequest &request, const fs::path &log) {
    fs::create_directories(request.module_dir);
    // kpatch.ko first: the patched code may call its exports (kpp_shadow_*),
    // which the conversion must find in its Module.symvers.
    fs::path core = request.module_dir.parent_path() / "core";
    build_core(request, core, log);
    link_outputs(request, log);
    fs::path linked = request.module_dir / "output-linked.o";
    fs::rename(request.module_dir / "output.o", linked);
    convert_for_core(linked.string(), (request.module_dir / "output.o").string(),
                     request.vmlinux.string(), request.symvers.string(),
                     (core / "Module.symvers").string());
    copy_template(find_core_sources() / "template", request.module_dir);
    fs::copy_file(find_core_sources() / "kpatchpp-core.h", request.module_dir / "kpatchpp-core.h",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(find_module_template() / "kpatchpp-macros.h",
                  request.module_dir / "kpatchpp-macros.h", fs::copy_options::overwrite_existing);
    run_logged(kbuild_modules(request, request.module_dir,
                              {"KPP_NAME=" + request.name,
                               "KBUILD_EXTRA_SYMBOLS=" + (core / "Module.symvers").string()}),
               log);
    fs::path built = request.module_dir / (request.name + ".ko");
    if (!fs::is_regular_file(built))
        throw Error("kbuild did not produce {} (see {})", built.string(), log.string());
    fs::create_directories(request.output.parent_path());
    fs::copy_file(built, request.output, fs::copy_options::overwrite_existing);
    fs::copy_file(core / "kpatch.ko", request.output.parent_path() / "kpatch.ko",
                  fs::copy_options::overwrite_existing);
}

} // namespace

std::vector<std::string> module_make_command(const ModuleRequest &request) {
    std::vector<std::string> vars = {"KPP_NAME=" + request.name, "KBUILD_MODPOST_WARN=1"};
    if (request.non_replace)
        vars.push_back("KPP_NO_REPLACE=1");
    return kbuild_modules(request, request.module_dir, vars);
}

void build_patch_module(const ModuleRequest &request, const fs::path &log) {
    if (request.core)
        return build_core_patch_module(request, log);
    fs::create_directories(request.module_dir);
    link_outputs(request, log);
    copy_template(find_module_template(), request.module_dir);
    run_logged(module_make_command(request), log);
    fs::path built = request.module_dir / (request.name + ".ko");
    if (!fs::is_regular_file(built))
        throw Error("kbuild did not produce {} (see {})", built.string(), log.string());
    fs::create_directories(request.output.parent_path());
    log::debug("converting {} into {}", built.string(), request.output.string());
    klp::convert_module(built.string(), request.output.string(), request.symvers.string());
}

} // namespace kpp::build
