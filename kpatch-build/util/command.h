// Running external commands (make, patch, ld, gcc --version).
//
// Output goes to the build log, never to the terminal: the user sees one
// progress line per stage and, on failure, the last lines of the failed
// command's output with the log's path.
#pragma once

#include "libkpp/error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

class CommandFailed : public Error {
  public:
    using Error::Error;
};

// Runs argv with stdout and stderr appended to `log`. Throws CommandFailed
// (with the command's last output lines and the log path) on a non-zero exit,
// Interrupted if a signal arrived meanwhile.
void run_logged(const std::vector<std::string> &argv, const std::filesystem::path &log);

// Runs argv and returns its stdout+stderr; throws CommandFailed on failure.
std::string capture_output(const std::vector<std::string> &argv);

// Like capture_output but returns the exit status instead of throwing.
int run_capturing(const std::vector<std::string> &argv, std::string &output);

// The last `count` non-empty lines of `text`, for error messages.
std::string last_lines(std::string_view text, size_t count);

// For a failed build: the first lines naming an error (make -j keeps going
// for a while after the real failure, so the tail alone often misses it),
// then the last lines; each "  | "-prefixed.
std::string relevant_lines(std::string_view text, size_t errors, size_t tail);

std::string shell_quote_join(const std::vector<std::string> &argv);

// The command for a message: long goal lists (hundreds of objects) cut short.
std::string abbreviated_command(const std::vector<std::string> &argv, size_t max_args = 12);

} // namespace kpp::build
