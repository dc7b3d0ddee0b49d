#include "kpatch-build/module_build.h"

#include "kpatch-build/command.h"
#include "kpatch-build/compiler_check.h"
#include "kpatch-build/data_dir.h"
#include "kpatch-build/klp_convert.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <cstdlib>
#include <fstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

void link_outputs(const ModuleRequest &request, const fs::path &log) {
    std::vector<std::string> argv = {"ld", "-r", "-o", (request.module_dir / "output.o").string()};
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

} // namespace

std::vector<std::string> module_make_command(const ModuleRequest &request) {
    std::vector<std::string> argv = {"make",
                                     "-C",
                                     request.kernel_dir.string(),
                                     fmt::format("-j{}", request.jobs),
                                     "M=" + request.module_dir.string(),
                                     "KPP_NAME=" + request.name,
                                     "KBUILD_MODPOST_WARN=1"};
    if (request.non_replace)
        argv.push_back("KPP_NO_REPLACE=1");
    argv.insert(argv.end(), request.make_variables.begin(), request.make_variables.end());
    if (std::getenv("CC"))
        argv.push_back("CC=" + compiler_command());
    argv.push_back("modules");
    return argv;
}

void build_patch_module(const ModuleRequest &request, const fs::path &log) {
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
