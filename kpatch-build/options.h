// kpatch-build's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kpp::build {

struct Options {
    std::vector<std::string> patches;
    std::string source_dir;           // -s: a configured and built kernel tree
    std::string release;              // -a: without -s, the distribution kernel (default uname -r)
    std::string config;               // -c: default SRC/.config
    std::string vmlinux;              // -v: default SRC/vmlinux
    unsigned jobs = 1;                // -j
    std::vector<std::string> targets; // -t: extra make targets built with the objects
    std::string name;                 // -n: module file name without .ko
    std::string output_dir;           // -o: default the current directory
    bool debug = false;               // -d: debug log, keep the work dir
    bool non_replace = false;         // -R: do not replace earlier livepatches
    bool core = false;                // --core: a patch module for kpatch.ko (kmod/core)
    bool skip_cleanup = false;        // keep the work dir
    bool skip_compiler_check = false;
    std::string oot_module;               // an out-of-tree module's .ko ...
    std::string oot_module_src;           // ... and its source directory (built with M=)
    std::string sign_key;                 // --sign-key: sign NAME.ko with this key ...
    std::string sign_cert;                // --sign-cert: ... and this X.509 certificate
    std::vector<std::string> cache_prune; // --cache-prune: releases, "unused" or "all"
    std::vector<std::string> packages;    // --package (repeatable): deb, rpm; each once, in order
    std::string package_version = "1";    // --package-version
    // --update-to: without -s, one cumulative module of the source difference
    // between the release's own linux-source version and this newer one
    // (update/update_mode.h); takes no patch.
    std::string update_to;
};

// ListCache and PruneCache work on the cache of distribution kernels
// (distro/cache_admin.h) and take no patch.
enum class Action { Build, ShowHelp, ShowVersion, ListCache, PruneCache };

struct CommandLine {
    Action action = Action::Build;
    Options options;
    std::string text; // the help or version text, for ShowHelp / ShowVersion
};

// Throws kpp::Error (exit status 2) naming the bad option. Fills defaults that
// need no file system (name, jobs, output); the kernel tree fills the rest.
CommandLine parse_command_line(const std::vector<std::string> &args);

} // namespace kpp::build
