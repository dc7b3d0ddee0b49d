// Logging shared by every kpatch++ tool: plain lines on stderr, optionally
// mirrored into a log file, with a debug level switched on by --debug.
#pragma once

#include <fmt/format.h>
#include <string>
#include <string_view>

namespace kpp::log {

void set_debug(bool on);
bool debug_enabled();
// Prefix for every line, normally the program name ("create-diff-object").
void set_program(std::string_view name);
// Also append every line (debug ones included) to this file.
void set_file(const std::string &path);

void write(std::string_view level, std::string_view msg);

template <class... Args> void debug(fmt::format_string<Args...> format, Args &&...args) {
    if (debug_enabled())
        write("debug", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args> void info(fmt::format_string<Args...> format, Args &&...args) {
    write("", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args> void warn(fmt::format_string<Args...> format, Args &&...args) {
    write("warning", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args> void error(fmt::format_string<Args...> format, Args &&...args) {
    write("error", fmt::format(format, std::forward<Args>(args)...));
}

} // namespace kpp::log
