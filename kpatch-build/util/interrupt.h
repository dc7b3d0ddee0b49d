// SIGINT/SIGTERM/SIGHUP handling.
//
// The handler only records the signal and forwards SIGTERM to the command
// running at that moment (kill() is async-signal-safe), so that make stops
// promptly. Everything else — restoring the source tree, removing the work
// directory — runs on the normal path: the next check throws Interrupted, the
// stack unwinds through the TreeGuard, and main() re-raises the signal at the
// very end so the caller sees the usual "killed by SIGINT" status.
#pragma once

#include "libkpp/error.h"

#include <sys/types.h>

namespace kpp::build {

class Interrupted : public Error {
  public:
    explicit Interrupted(int signal_number);
    int signal_number() const { return signal_; }

  private:
    int signal_;
};

namespace interrupt {

void install_handlers();
bool requested();
int signal_number(); // 0 if none arrived
void throw_if_requested();

// The process group of the command being waited for (0: none).
void set_child_group(pid_t group);

// Resets the handlers to the default and raises the recorded signal.
[[noreturn]] void reraise();

} // namespace interrupt
} // namespace kpp::build
