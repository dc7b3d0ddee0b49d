// kpatch: load, inspect, install and unload live patch modules.
//   kpatch VERB [options] [ARGS]      kpatch VERB --help
#include "tools/kpatch_cli.h"

#include "libkpp/error.h"
#include "libkpp/log.h"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <unistd.h>

#ifndef KPP_VERSION
#define KPP_VERSION "unknown"
#endif

namespace po = boost::program_options;
using namespace kpp::cli;

namespace {

struct Verb {
    const char *name;
    const char *args;
    const char *summary;
};
constexpr Verb kVerbs[] = {
    {"load", "FILE.ko|NAME|--all", "insert a patch module and wait until every task is patched"},
    {"unload", "NAME|--all",
     "disable a patch, wait until no task runs patched code, remove the module"},
    {"list", "[--json]", "loaded patches (enabled, transition) and installed ones per kernel"},
    {"info", "NAME|FILE.ko [--json]", "what a patch is built for and which functions it replaces"},
    {"install", "FILE.ko [-k RELEASE]",
     "copy a patch module into <prefix>/var/lib/kpatch/RELEASE/"},
    {"uninstall", "NAME [-k RELEASE]", "remove an installed patch module"},
    {"signal", "[NAME]", "wake the tasks blocking a transition (see --help)"},
    {"force", "[NAME] --yes", "mark a stuck transition complete without checking stacks (unsafe)"},
    {"version", "", "print the version"},
};

void print_usage(FILE *to) {
    std::fputs("Usage: kpatch VERB [options] [ARGS]\n\nVerbs:\n", to);
    for (const auto &v : kVerbs)
        std::fprintf(to, "  %-10s %-24s %s\n", v.name, v.args, v.summary);
    std::fputs("\nEvery verb takes --help. Environment: KPATCH_SYSFS_ROOT, KPATCH_PROC_ROOT,\n"
               "KPATCH_PREFIX, KPATCH_MODULES_DIR, KPATCH_KERNEL_RELEASE (see kpatch(1)).\n",
               to);
}

const char *kExitHelp =
    "\nExit status: 0 done, 1 refused or failed (not a livepatch module, other kernel,\n"
    "transition timed out, kernel error), 2 bad usage or no such patch/file.\n";

class VerbParser {
  public:
    VerbParser(Env &env, const std::string &verb, const std::string &usage, const std::string &text)
        : env_(env), verb_(verb),
          desc_("Usage: kpatch " + verb + " " + usage + "\n\n" + text + "\n\nOptions") {
        desc_.add_options()("help,h", "print this help");
    }
    po::options_description_easy_init add() { return desc_.add_options(); }
    void add_paths(bool proc = true) {
        desc_.add_options()("sysfs-root", po::value(&env_.sysfs_root)->value_name("DIR"),
                            "sysfs mount (default /sys, env KPATCH_SYSFS_ROOT)");
        if (proc)
            desc_.add_options()("proc-root", po::value(&env_.proc_root)->value_name("DIR"),
                                "procfs mount (default /proc, env KPATCH_PROC_ROOT)");
    }
    void add_prefix() {
        desc_.add_options()(
            "prefix", po::value(&env_.prefix)->value_name("DIR"),
            "installed patches are in DIR/var/lib/kpatch/ (default /, env KPATCH_PREFIX)");
    }
    void add_modules_dir() {
        desc_.add_options()(
            "modules-dir", po::value(&env_.modules_dir)->value_name("DIR"),
            "libkmod module directory (default /lib/modules/RELEASE, env KPATCH_MODULES_DIR)");
    }
    void positional(const char *name, int max) { pos_.add(name, max); }
    void hidden(const char *name, const po::value_semantic *v) { hidden_.add_options()(name, v); }

    // Returns false when --help was printed.
    bool parse(const std::vector<std::string> &args) {
        po::options_description all;
        all.add(desc_).add(hidden_);
        po::variables_map vm;
        try {
            po::store(po::command_line_parser(args).options(all).positional(pos_).run(), vm);
            if (vm.count("help")) {
                std::cout << desc_ << kExitHelp;
                return false;
            }
            po::notify(vm);
        } catch (const po::error &e) {
            throw kpp::Error("{}: {} (see kpatch {} --help)", verb_, e.what(), verb_);
        }
        vm_ = std::move(vm);
        return true;
    }
    bool has(const char *name) const { return vm_.count(name) > 0; }

  private:
    Env &env_;
    std::string verb_;
    po::options_description desc_;
    po::options_description hidden_;
    po::positional_options_description pos_;
    po::variables_map vm_;
};

void require_root(const std::string &verb) {
    if (geteuid() != 0)
        throw kpp::Error("{}: must be run as root", verb);
}

WaitOptions wait_options(double timeout_s, bool quiet, const std::string &what) {
    WaitOptions w;
    w.timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    const bool tty = isatty(STDERR_FILENO);
    w.progress_every = tty ? std::chrono::seconds(1) : std::chrono::seconds(5);
    if (!quiet)
        w.progress = [what, tty](std::chrono::milliseconds elapsed, size_t left) {
            std::fprintf(stderr, "%skpatch: %s: %zu task(s) left, %.0fs%s", tty ? "\r" : "",
                         what.c_str(), left, elapsed.count() / 1000.0, tty ? "   " : "\n");
        };
    return w;
}

void end_progress() {
    if (isatty(STDERR_FILENO))
        std::fputs("\r\033[K", stderr);
}

// Transitions stuck at the end of a wait: print who blocks them.
void print_blockers(const Env &env, bool patching) {
    auto tasks = unpatched_tasks(env, patching ? 1 : 0);
    if (tasks.empty())
        return;
    std::fprintf(stderr, "kpatch: tasks still %s:\n%s", patching ? "unpatched" : "patched",
                 tasks_text(tasks).c_str());
}

int cmd_load(Env &env, const std::vector<std::string> &args) {
    std::vector<std::string> files;
    double timeout = 60;
    bool all = false, quiet = false;
    VerbParser p(
        env, "load", "FILE.ko|NAME...|--all",
        "Insert patch modules (a file, or NAME installed for the running kernel) through libkmod\n"
        "and wait until the livepatch transition has moved every task to the patched code.\n"
        "When it stalls, the tasks still unpatched (/proc/PID/patch_state) are listed.");
    p.add()("all,a", po::bool_switch(&all), "load every patch installed for the running kernel")(
        "timeout,t", po::value(&timeout)->value_name("SECONDS"),
        "wait at most this long for each transition (default 60; 0 = do not wait)")(
        "quiet,q", po::bool_switch(&quiet), "no progress lines");
    p.add_paths();
    p.add_prefix();
    p.add_modules_dir();
    p.hidden("module", po::value(&files));
    p.positional("module", -1);
    if (!p.parse(args))
        return 0;
    if (all == !files.empty())
        throw kpp::Error("load: give FILE.ko or NAME, or --all (see kpatch load --help)");
    if (all) {
        for (const auto &i : installed_patches(env))
            if (i.release == env.release)
                files.push_back(i.path);
        if (files.empty()) {
            std::printf("no patch installed for %s in %s\n", env.release.c_str(),
                        env.install_dir(env.release).c_str());
            return 0;
        }
    }
    require_root("load");
    auto ops = make_kmod_ops(env.modules_dir);
    int status = 0;
    for (const auto &f : files) {
        if (all &&
            (module_loaded(env, module_name_from(f)) || loaded_patch(env, module_name_from(f)))) {
            std::printf("%s: already loaded\n", module_name_from(f).c_str());
            continue;
        }
        try {
            auto res = load_patch(env, f, *ops,
                                  wait_options(timeout, quiet, module_name_from(f) + ": patching"));
            end_progress();
            std::printf("%s: loaded, %s (%.1fs)\n", res.name.c_str(),
                        timeout > 0 ? "transition complete" : "transition started",
                        res.took.count() / 1000.0);
        } catch (const kpp::Error &e) {
            end_progress();
            if (auto lp = loaded_patch(env, module_name_from(f)); lp && lp->transition)
                print_blockers(env, lp->enabled);
            if (!all)
                throw;
            kpp::log::error("{}", e.what());
            status = std::max(status, static_cast<int>(e.status()));
        }
    }
    return status;
}

int cmd_unload(Env &env, const std::vector<std::string> &args) {
    std::vector<std::string> names;
    double timeout = 60;
    bool all = false, quiet = false;
    VerbParser p(
        env, "unload", "NAME...|--all",
        "Disable patches (write 0 to /sys/kernel/livepatch/NAME/enabled), wait for the\n"
        "transition back to the original code and for the patch to be freed, then remove the\n"
        "module through libkmod.");
    p.add()("all,a", po::bool_switch(&all), "unload every loaded patch")(
        "timeout,t", po::value(&timeout)->value_name("SECONDS"),
        "wait at most this long (default 60)")("quiet,q", po::bool_switch(&quiet),
                                               "no progress lines");
    p.add_paths();
    p.add_modules_dir();
    p.hidden("module", po::value(&names));
    p.positional("module", -1);
    if (!p.parse(args))
        return 0;
    if (all == !names.empty())
        throw kpp::Error("unload: give NAME or --all (see kpatch unload --help)");
    if (all) {
        auto loaded = loaded_patches(env);
        for (auto it = loaded.rbegin(); it != loaded.rend(); ++it)
            names.push_back(it->name);
        if (names.empty()) {
            std::printf("no patch loaded\n");
            return 0;
        }
    }
    require_root("unload");
    auto ops = make_kmod_ops(env.modules_dir);
    for (const auto &n : names) {
        const std::string name = module_name_from(n);
        try {
            unload_patch(env, name, *ops,
                         wait_options(std::max(timeout, 0.1), quiet, name + ": unpatching"));
        } catch (const kpp::Error &) {
            end_progress();
            if (auto lp = loaded_patch(env, name); lp && lp->transition)
                print_blockers(env, lp->enabled);
            throw;
        }
        end_progress();
        std::printf("%s: unloaded\n", name.c_str());
    }
    return 0;
}

int cmd_list(Env &env, const std::vector<std::string> &args) {
    bool json = false;
    VerbParser p(env, "list", "[--json]",
                 "Loaded patches (from /sys/kernel/livepatch) with their state, and the patches\n"
                 "installed under <prefix>/var/lib/kpatch/<release>/ for every kernel release.");
    p.add()("json", po::bool_switch(&json), "one JSON document on stdout");
    p.add_paths(false);
    p.add_prefix();
    if (!p.parse(args))
        return 0;
    auto loaded = loaded_patches(env);
    auto installed = installed_patches(env);
    if (json)
        std::cout << list_json(loaded, installed, env.release).dump(2) << "\n";
    else
        std::cout << list_text(loaded, installed, env.release);
    return 0;
}

int cmd_info(Env &env, const std::vector<std::string> &args) {
    std::string what;
    bool json = false;
    VerbParser p(
        env, "info", "NAME|FILE.ko [--json]",
        "For a file (or a patch installed for the running kernel): its name, the kernel it is\n"
        "built for (vermagic), whether it is a livepatch module, and the functions it replaces\n"
        "(object, name, sympos) from .kpatchpp.funcs. For a loaded NAME: the live state from\n"
        "/sys/kernel/livepatch/NAME/, plus the installed file's details when there is one.");
    p.add()("json", po::bool_switch(&json), "one JSON document on stdout");
    p.add_paths(false);
    p.add_prefix();
    p.hidden("module", po::value(&what)->required());
    p.positional("module", 1);
    if (!p.parse(args))
        return 0;
    std::error_code ec;
    const bool is_file = what.find('/') != std::string::npos || what.ends_with(".ko") ||
                         std::filesystem::is_regular_file(what, ec);
    std::optional<LoadedPatch> loaded;
    if (!is_file)
        loaded = loaded_patch(env, module_name_from(what));
    std::optional<ModuleInfo> file;
    if (is_file) {
        file = read_module_info(resolve_module_file(env, what));
    } else {
        auto installed = env.install_dir(env.release) / (module_name_from(what) + ".ko");
        if (std::filesystem::is_regular_file(installed, ec))
            file = read_module_info(installed.string());
        else if (!loaded)
            throw kpp::Error(
                "info: no such patch module: {} (not a file, not loaded, not installed for {})",
                what, env.release);
    }
    if (json) {
        nlohmann::json j = file ? to_json(*file) : nlohmann::json{{"name", loaded->name}};
        j["loaded"] = loaded ? to_json(*loaded) : nlohmann::json(nullptr);
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    if (loaded)
        std::cout << info_text(*loaded);
    if (loaded && file)
        std::cout << "\n";
    if (file)
        std::cout << info_text(*file);
    return 0;
}

int cmd_install(Env &env, const std::vector<std::string> &args, bool install) {
    std::string what, release = env.release;
    VerbParser p(
        env, install ? "install" : "uninstall",
        install ? "FILE.ko [-k RELEASE]" : "NAME [-k RELEASE]",
        install
            ? "Check that FILE.ko is a livepatch module built for RELEASE (default: the running\n"
              "kernel) and copy it to <prefix>/var/lib/kpatch/RELEASE/<name>.ko, where\n"
              "`kpatch load --all` (run at boot) finds it."
            : "Remove <prefix>/var/lib/kpatch/RELEASE/NAME.ko. A loaded patch stays loaded.");
    p.add()("kernel-release,k", po::value(&release)->value_name("RELEASE"),
            "kernel release (default: uname -r)");
    p.add_prefix();
    p.hidden("module", po::value(&what)->required());
    p.positional("module", 1);
    if (!p.parse(args))
        return 0;
    if (install)
        std::printf("installed %s\n", install_patch(env, what, release).c_str());
    else {
        uninstall_patch(env, what, release);
        std::printf("uninstalled %s for %s\n", module_name_from(what).c_str(), release.c_str());
    }
    return 0;
}

std::vector<LoadedPatch> in_transition(const Env &env, const std::vector<std::string> &names) {
    std::vector<LoadedPatch> out;
    if (names.empty()) {
        for (auto &lp : loaded_patches(env))
            if (lp.transition)
                out.push_back(lp);
        return out;
    }
    for (const auto &n : names) {
        auto lp = loaded_patch(env, module_name_from(n));
        if (!lp)
            throw kpp::Error("{} is not loaded", module_name_from(n));
        if (!lp->transition)
            throw kpp::Refusal("{} is not in transition", lp->name);
        out.push_back(*lp);
    }
    return out;
}

int cmd_signal(Env &env, const std::vector<std::string> &args) {
    std::vector<std::string> names;
    VerbParser p(
        env, "signal", "[NAME...]",
        "Wake the tasks that block a patch's transition. Kernels before 5.1 have\n"
        "/sys/kernel/livepatch/NAME/signal and kpatch writes 1 to it. Linux 6.1 has no such\n"
        "file: its livepatch core sends the fake signal to blocking tasks itself every 15\n"
        "seconds, so kpatch lists the blocking tasks instead. Without NAME: every patch in\n"
        "transition.");
    p.add_paths();
    p.hidden("module", po::value(&names));
    p.positional("module", -1);
    if (!p.parse(args))
        return 0;
    auto patches = in_transition(env, names);
    if (patches.empty()) {
        std::printf("no patch is in transition\n");
        return 0;
    }
    require_root("signal");
    for (const auto &lp : patches) {
        auto file = env.patch_dir(lp.name) / "signal";
        if (std::filesystem::exists(file)) {
            write_attr(file, "1");
            std::printf("%s: signalled the blocking tasks\n", lp.name.c_str());
        } else {
            std::printf("%s: this kernel has no %s; its livepatch core signals the blocking tasks "
                        "every 15s\n",
                        lp.name.c_str(), file.c_str());
        }
        auto tasks = unpatched_tasks(env, lp.enabled ? 1 : 0);
        std::printf("%s: %zu task(s) still %s\n%s", lp.name.c_str(), tasks.size(),
                    lp.enabled ? "unpatched" : "patched", tasks_text(tasks).c_str());
    }
    return 0;
}

int cmd_force(Env &env, const std::vector<std::string> &args) {
    std::vector<std::string> names;
    bool yes = false;
    VerbParser p(
        env, "force", "[NAME...] --yes",
        "Write 1 to /sys/kernel/livepatch/NAME/force: the kernel marks every task as switched\n"
        "without checking its stack. A task that is still running the old code of a replaced\n"
        "function can then misbehave, and the forced patch's module (and every replaced patch's)\n"
        "can never be removed. Use only when the blocking tasks are known to be safe. Without\n"
        "NAME: every patch in transition.");
    p.add()("yes,y", po::bool_switch(&yes), "confirm that the consistency model may be broken");
    p.add_paths();
    p.hidden("module", po::value(&names));
    p.positional("module", -1);
    if (!p.parse(args))
        return 0;
    auto patches = in_transition(env, names);
    if (patches.empty()) {
        std::printf("no patch is in transition\n");
        return 0;
    }
    kpp::log::warn(
        "forcing skips the consistency model: tasks still in old code are marked switched, and "
        "the module can no longer be removed");
    if (!yes)
        throw kpp::Refusal("force: not done; add --yes to confirm");
    require_root("force");
    for (const auto &lp : patches) {
        print_blockers(env, lp.enabled);
        write_attr(env.patch_dir(lp.name) / "force", "1");
        std::printf("%s: transition forced\n", lp.name.c_str());
    }
    return 0;
}

int run(int argc, char **argv) {
    Env env = Env::from_environment();
    if (argc < 2) {
        print_usage(stderr);
        return kpp::kExitBadInput;
    }
    std::string verb = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    if (verb == "--help" || verb == "-h" || verb == "help") {
        print_usage(stdout);
        return 0;
    }
    if (verb == "version" || verb == "--version") {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::printf("Usage: kpatch version\n\nPrint the kpatch++ version.\n");
            return 0;
        }
        std::printf("kpatch (kpatch++) %s\n", KPP_VERSION);
        return 0;
    }
    if (verb == "load")
        return cmd_load(env, args);
    if (verb == "unload")
        return cmd_unload(env, args);
    if (verb == "list")
        return cmd_list(env, args);
    if (verb == "info")
        return cmd_info(env, args);
    if (verb == "install")
        return cmd_install(env, args, true);
    if (verb == "uninstall")
        return cmd_install(env, args, false);
    if (verb == "signal")
        return cmd_signal(env, args);
    if (verb == "force")
        return cmd_force(env, args);
    throw kpp::Error("unknown verb '{}' (see kpatch --help)", verb);
}

} // namespace

int main(int argc, char **argv) {
    kpp::log::set_program("kpatch");
    try {
        return run(argc, argv);
    } catch (const kpp::Error &e) {
        kpp::log::error("{}", e.what());
        return e.status();
    } catch (const std::exception &e) {
        kpp::log::error("{}", e.what());
        return kpp::kExitBadInput;
    }
}
