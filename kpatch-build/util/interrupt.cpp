#include "kpatch-build/util/interrupt.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string.h>
#include <unistd.h>

namespace kpp::build {

Interrupted::Interrupted(int signal_number)
    : Error("interrupted by SIG{}", sigabbrev_np(signal_number)), signal_(signal_number) {}

namespace interrupt {
namespace {

std::atomic<int> g_signal{0};
std::atomic<pid_t> g_child_group{0};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<pid_t>::is_always_lock_free,
              "used from a signal handler");

constexpr int kHandledSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_signal(int sig) {
    int expected = 0;
    g_signal.compare_exchange_strong(expected, sig);
    pid_t group = g_child_group.load();
    if (group > 0)
        kill(-group, SIGTERM);
}

} // namespace

void install_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; // no SA_RESTART: a blocking waitpid() returns EINTR
    for (int sig : kHandledSignals)
        sigaction(sig, &action, nullptr);
}

bool requested() {
    return g_signal.load() != 0;
}
int signal_number() {
    return g_signal.load();
}

void throw_if_requested() {
    if (int sig = g_signal.load())
        throw Interrupted(sig);
}

void set_child_group(pid_t group) {
    g_child_group.store(group);
}

void reraise() {
    int sig = g_signal.load();
    if (sig == 0)
        std::_Exit(kExitBadInput);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
    std::_Exit(128 + sig);
}

} // namespace interrupt
} // namespace kpp::build
