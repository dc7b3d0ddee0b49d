// create-diff-object: the command-line face of the diff library.
//
//   create-diff-object [--debug] [--report FILE] ORIG PATCHED PARENT SYMTAB SYMVERS PATCHNAME
//   OUTPUT
//
// The positional form is kpatch's, so existing kpatch-build scripts and test
// suites drive this tool unchanged.
#include "create-diff-object/diff.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;
using namespace kpp;

namespace {

constexpr const char *kUsage =
    "usage: create-diff-object [options] ORIG.o PATCHED.o PARENT SYMTAB SYMVERS PATCHNAME "
    "OUTPUT.o\n"
    "\n"
    "Compares an object built before and after a source patch and writes OUTPUT.o with only\n"
    "the changed and new functions and what they need, for a live patch module.\n"
    "\n"
    "  PARENT     vmlinux, or the name of the module the object belongs to\n"
    "  SYMTAB     the parent's symbols: its ELF file or `readelf -s --wide` output\n"
    "  SYMVERS    Module.symvers (or /dev/null)\n"
    "  PATCHNAME  the patch module's name\n"
    "\n"
    "Struct sizes of special sections come from BUG_STRUCT_SIZE, JUMP_STRUCT_SIZE, ... in the\n"
    "environment, or from --vmlinux.\n"
    "Exit status: 0 changed functions written, 1 change refused, 2 bad input, 3 no change.\n";

int run(int argc, char **argv) {
    po::options_description named("options");
    named.add_options()("help,h", "show this help")("debug,d", "print debug messages")(
        "report,r", po::value<std::string>(), "write a JSON report of the changes to FILE")(
        "vmlinux", po::value<std::string>(), "read struct sizes from this vmlinux's DWARF");
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("args", -1);
    po::options_description all;
    all.add(named).add(hidden);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);

    if (vm.count("help")) {
        std::cout << kUsage << '\n' << named;
        return kExitOk;
    }
    log::set_debug(vm.count("debug") > 0);
    auto args =
        vm.count("args") ? vm["args"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (args.size() != 7)
        throw Error("expected 7 arguments, got {}; see --help", args.size());

    diff::Options options;
    options.orig_path = args[0];
    options.patched_path = args[1];
    options.parent_name = args[2];
    options.parent_symtab = args[3];
    options.symvers_path = args[4];
    options.patch_name = args[5];
    options.output_path = args[6];
    if (vm.count("report"))
        options.report_path = vm["report"].as<std::string>();
    options.sizes = diff::StructSizes::from_environment();
    if (vm.count("vmlinux"))
        options.sizes.merge(diff::StructSizes::from_dwarf(vm["vmlinux"].as<std::string>()));

    diff::Result result = diff::diff_objects(options);
    std::string object = std::filesystem::path(options.orig_path).filename().string();
    if (!result.changed) {
        std::cout << object << ": no changed functions\n";
        return kExitNoChange;
    }
    for (const auto &f : result.functions)
        std::cout << object << ": " << (f.is_new ? "new function: " : "changed function: ")
                  << f.name << '\n';
    return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
    log::set_program("create-diff-object");
    try {
        return run(argc, argv);
    } catch (const Error &e) {
        log::error("{}", e.what());
        return e.status();
    } catch (const po::error &e) {
        log::error("{}; see --help", e.what());
        return kExitBadInput;
    } catch (const std::exception &e) {
        log::error("{}", e.what());
        return kExitBadInput;
    }
}
