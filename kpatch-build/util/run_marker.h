// Finds the commands of a kpatch-build that died without stopping them.
//
// make and the compiler run in process groups of their own (command.h), so
// a kpatch-build killed with SIGKILL leaves them running: they go on
// writing into the kernel tree. The run that replays the dead run's journal
// must stop them first, or they would write over the restored files. Each
// run puts its id into its environment, which every command it starts
// inherits; /proc/PID/environ then tells which processes belong to it.
#pragma once

#include <cstddef>
#include <string>

namespace kpp::build {

// Gives this process a run id ("PID-NANOSECONDS") and exports it as
// KPP_BUILD_RUN for the commands it starts. Call before the first command.
void mark_this_run();

// The id mark_this_run() gave this process; "" before.
std::string this_run_id();

// SIGKILLs every process (of those this user may inspect) that carries
// `run_id`, other than this one, until none is left or a few seconds have
// passed. Returns how many it killed. Does nothing for "" or our own id.
size_t stop_commands_of_run(const std::string &run_id);

} // namespace kpp::build
