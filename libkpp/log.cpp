#include "libkpp/log.h"

#include <cstdio>
#include <fstream>
#include <mutex>

namespace kpp::log {
namespace {

struct State {
    std::mutex lock; // kpatch-build diffs objects on several threads
    bool debug = false;
    std::string program = "kpatch++";
    std::ofstream file;
};

State &state() {
    static State s;
    return s;
}

} // namespace

void set_debug(bool on) {
    state().debug = on;
}
bool debug_enabled() {
    return state().debug;
}
void set_program(std::string_view name) {
    state().program = name;
}

void set_file(const std::string &path) {
    std::lock_guard guard(state().lock);
    state().file.open(path, std::ios::app);
}

void write(std::string_view level, std::string_view msg) {
    State &s = state();
    std::lock_guard guard(s.lock);
    std::string line = s.program + ": ";
    if (!level.empty())
        line += std::string(level) + ": ";
    line += msg;
    line += '\n';
    if (level != "debug" || s.debug)
        std::fputs(line.c_str(), stderr);
    if (s.file.is_open())
        s.file << line << std::flush;
}

} // namespace kpp::log
