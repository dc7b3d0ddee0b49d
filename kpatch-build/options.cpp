#include "kpatch-build/options.h"

#include "kpatch-build/module/module_name.h"
#include "kpatch-build/packaging/patch_package.h"
#include "libkpp/error.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <sstream>
#include <thread>

#ifndef KPP_VERSION
#define KPP_VERSION "unknown"
#endif

namespace kpp::build {
namespace po = boost::program_options;

namespace {

po::options_description visible_options(Options &o) {
    po::options_description desc("Usage: kpatch-build [options] PATCH...\n\nOptions");
    // clang-format off
    desc.add_options()
        ("sourcedir,s", po::value(&o.source_dir)->value_name("DIR"),
         "configured and built kernel source tree; without it, the distribution's kernel")
        ("archversion,a", po::value(&o.release)->value_name("REL"),
         "without -s: the distribution kernel release to patch (default: uname -r)")
        ("config,c", po::value(&o.config)->value_name("FILE"), "kernel .config (default SRC/.config)")
        ("vmlinux,v", po::value(&o.vmlinux)->value_name("FILE"), "vmlinux (default SRC/vmlinux)")
        ("jobs,j", po::value(&o.jobs)->value_name("N"), "parallel make jobs and diff threads (default: CPUs)")
        ("target,t", po::value(&o.targets)->value_name("TARGET"), "extra make target, built with the objects (repeatable)")
        ("name,n", po::value(&o.name)->value_name("NAME"), "module NAME.ko; default livepatch-<first patch name>")
        ("output,o", po::value(&o.output_dir)->value_name("DIR"), "where NAME.ko goes (default: current directory)")
        ("debug,d", po::bool_switch(&o.debug), "debug log; keep the work directory")
        ("non-replace,R", po::bool_switch(&o.non_replace), "build a livepatch that does not replace loaded ones")
        ("core", po::bool_switch(&o.core), "build a patch module for kpatch.ko (kmod/core), not a livepatch; the default when the config lacks CONFIG_LIVEPATCH")
        ("skip-cleanup", po::bool_switch(&o.skip_cleanup), "keep the work directory")
        ("skip-compiler-check", po::bool_switch(&o.skip_compiler_check), "do not require the kernel's compiler version")
        ("oot-module", po::value(&o.oot_module)->value_name("FILE.ko"), "patch this out-of-tree module ...")
        ("oot-module-src", po::value(&o.oot_module_src)->value_name("DIR"), "... whose built source is DIR (make M=DIR)")
        ("sign-key", po::value(&o.sign_key)->value_name("KEY"), "sign NAME.ko with this private key (file or pkcs11: URI) ...")
        ("sign-cert", po::value(&o.sign_cert)->value_name("CERT"), "... and this X.509 certificate, using SRC/scripts/sign-file")
        ("package", po::value(&o.packages)->composing()->value_name("deb|rpm"), "also write the module as a package (repeat for both): kpatch-patch-REL-NAME_VERSION_ARCH.deb or kpatch-patch-REL-NAME-VERSION-1.ARCH.rpm in the output directory, installing it for kpatch.service")
        ("package-version", po::value(&o.package_version)->value_name("VERSION"), "the package's version (default 1); raise it for each rebuild of the same patch")
        ("update-to", po::value(&o.update_to)->value_name("VERSION"), "without -s and without a patch: one cumulative module of every change between the release's source version and this newer linux-source version that can be applied live, with a report of the rest (REVIEW IT before production)")
        ("cache-list", "list the cached distribution kernels (prepared releases, downloaded packages) with their sizes")
        ("cache-prune", po::value(&o.cache_prune)->multitoken()->value_name("REL...|unused|all"), "remove these releases from the cache with the packages only they used; unused: packages no release uses; all: everything")
        ("version", "print the version")
        ("help,h", "print this help");
    // clang-format on
    return desc;
}

void check_update_options(const Options &o) {
    if (!o.patches.empty())
        throw Error("--update-to takes no patch: the update's source difference is the patch");
    if (!o.source_dir.empty() || !o.oot_module.empty())
        throw Error("--update-to works on a distribution kernel (-a REL, default uname -r), not "
                    "on a built tree (-s) or an out-of-tree module");
    if (o.core)
        throw Error("--update-to builds a livepatch module; --core (kpatch.ko) patches vmlinux "
                    "only and is not supported with it");
}

void check_options(const po::variables_map &vm, Options &o) {
    if (!o.update_to.empty())
        check_update_options(o);
    else if (o.patches.empty())
        throw Error("no patch given; usage: kpatch-build [options] PATCH... (see --help)");
    if (!o.source_dir.empty() && !o.release.empty())
        throw Error("-a/--archversion names a distribution kernel, -s a built tree: give one");
    if (o.source_dir.empty() && (!o.config.empty() || !o.vmlinux.empty() || !o.oot_module.empty()))
        throw Error("-c, -v and --oot-module go with -s (a built tree); a distribution kernel "
                    "brings its own config and vmlinux");
    if (vm.count("jobs") && o.jobs == 0)
        throw Error("-j/--jobs must be at least 1");
    if (o.sign_key.empty() != o.sign_cert.empty())
        throw Error("--sign-key and --sign-cert go together: the private key and the X.509 "
                    "certificate the kernel trusts (e.g. SRC/certs/signing_key.pem and "
                    "SRC/certs/signing_key.x509)");
    if (o.oot_module.empty() != o.oot_module_src.empty())
        throw Error("--oot-module and --oot-module-src go together: the module's .ko and the "
                    "directory it was built from");
    for (const auto &format : o.packages)
        if (format != "deb" && format != "rpm")
            throw Error("--package {}: the package formats are deb and rpm", format);
    std::vector<std::string> formats;
    for (const auto &format : o.packages)
        if (std::find(formats.begin(), formats.end(), format) == formats.end())
            formats.push_back(format);
    o.packages = formats;
    if (vm.count("package-version") && o.packages.empty())
        throw Error("--package-version goes with --package");
    if (!o.packages.empty())
        packaging::validate_package_version(o.package_version);
    if (!o.oot_module.empty() && !o.oot_module.ends_with(".ko"))
        throw Error("--oot-module wants the module's .ko file, got '{}'", o.oot_module);
}

void fill_defaults(const po::variables_map &vm, Options &o) {
    if (!vm.count("jobs"))
        o.jobs = std::max(1u, std::thread::hardware_concurrency());
    if (o.name.empty() && !o.update_to.empty()) {
        // "6.1.190-1" -> livepatch-update-6_1_190-1 (a '.' would read as an extension)
        std::string version = o.update_to;
        std::replace(version.begin(), version.end(), '.', '_');
        o.name = default_module_name("update-" + version);
    } else if (o.name.empty())
        o.name = default_module_name(o.patches.front());
    else
        validate_module_name(o.name);
    if (o.output_dir.empty())
        o.output_dir = ".";
}

} // namespace

CommandLine parse_command_line(const std::vector<std::string> &args) {
    CommandLine result;
    Options &o = result.options;
    po::options_description visible = visible_options(o);
    po::options_description all;
    all.add(visible).add_options()("patch", po::value(&o.patches));
    po::positional_options_description positional;
    positional.add("patch", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error &e) {
        throw Error("{} (see --help)", e.what());
    }
    if (vm.count("help")) {
        std::ostringstream text;
        text << visible;
        result.action = Action::ShowHelp;
        result.text = text.str();
        return result;
    }
    if (vm.count("version")) {
        result.action = Action::ShowVersion;
        result.text = std::string("kpatch-build (kpatch++) ") + KPP_VERSION;
        return result;
    }
    if (vm.count("cache-list") || vm.count("cache-prune")) {
        if (vm.count("cache-list") && vm.count("cache-prune"))
            throw Error("--cache-list and --cache-prune go alone: give one");
        if (!o.patches.empty())
            throw Error("--cache-list and --cache-prune take no patch (see --help)");
        result.action = vm.count("cache-list") ? Action::ListCache : Action::PruneCache;
        return result;
    }
    check_options(vm, o);
    fill_defaults(vm, o);
    return result;
}

} // namespace kpp::build
