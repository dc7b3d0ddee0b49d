// kpatch-build: turn a kernel source patch into a livepatch module.
#include "kpatch-build/distro/cache_admin.h"
#include "kpatch-build/distro/release_cache.h"
#include "kpatch-build/kpatch_build.h"
#include "kpatch-build/options.h"
#include "kpatch-build/util/interrupt.h"
#include "kpatch-build/util/run_marker.h"
#include "libkpp/log.h"

#include <cstdio>

int main(int argc, char **argv) {
    using namespace kpp::build;
    kpp::log::set_program("kpatch-build");
    // Before anything can touch the tree, so no signal finds it half-changed
    // without a restore path.
    interrupt::install_handlers();
    // Every command started from here on can be found should this run die.
    mark_this_run();
    try {
        CommandLine command_line = parse_command_line({argv + 1, argv + argc});
        if (command_line.action == Action::ListCache || command_line.action == Action::PruneCache) {
            auto lines =
                command_line.action == Action::ListCache
                    ? distro::cache_listing(default_cache_dir())
                    : distro::prune_cache(default_cache_dir(), command_line.options.cache_prune);
            for (const auto &line : lines)
                std::printf("%s\n", line.c_str());
            return kpp::kExitOk;
        }
        if (command_line.action != Action::Build) {
            std::printf("%s\n", command_line.text.c_str());
            return kpp::kExitOk;
        }
        kpp::log::set_debug(command_line.options.debug);
        run_kpatch_build(command_line.options);
        // A signal that came after the last check still ends the run as one.
        if (interrupt::requested())
            interrupt::reraise();
        return kpp::kExitOk;
    } catch (const Interrupted &e) {
        kpp::log::error("{}; the source tree was restored", e.what());
        interrupt::reraise();
    } catch (const kpp::Error &e) {
        kpp::log::error("{}", e.what());
        if (interrupt::requested()) // e.g. make failed because it was stopped
            interrupt::reraise();
        return e.status();
    } catch (const std::exception &e) {
        kpp::log::error("{}", e.what());
        return kpp::kExitBadInput;
    }
}
