// Errors shared by every kpatch++ tool.
//
// A tool reports a problem by throwing one of these; its main() prints the
// message as a single line and exits with the matching status. Messages name
// the file, section or function at fault and, where there is one, the fix.
#pragma once

#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace kpp {

// Exit statuses, kept apart so that scripts (kpatch-build, the test suites)
// can tell a refused patch from broken input.
enum ExitStatus : int {
    kExitOk = 0,
    kExitRefused = 1,  // the change is not safe to apply to a running kernel
    kExitBadInput = 2, // malformed input, bad usage, or an environment problem
    kExitNoChange = 3, // the objects are equivalent: nothing to patch
};

// Input we cannot work with: not ELF, truncated, wrong machine, bad usage.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string &msg) : std::runtime_error(msg) {}
    template <class... Args>
    explicit Error(fmt::format_string<Args...> format, Args &&...args)
        : std::runtime_error(fmt::format(format, std::forward<Args>(args)...)) {}
    virtual ExitStatus status() const { return kExitBadInput; }
};

// A well-formed change that cannot be applied live.
class Refusal : public Error {
  public:
    using Error::Error;
    ExitStatus status() const override { return kExitRefused; }
};

} // namespace kpp
