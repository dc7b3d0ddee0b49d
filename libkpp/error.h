// Errors shared by every kpatch++ tool.
//
// A tool reports a problem by throwing one of these; its main() prints the
// message as a single line and exits with the matching status. Messages name
// the file, section or function at fault and, where there is one, the fix.
#pragma once

#include <fmt/format.h>
#include <stdexcept>
#include <string>
#include <string_view>

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

// Why a change cannot be applied live, for reports that count refusals by
// reason (kpatch-build --update-to).
enum class RefusalKind {
    Other,
    DataChange,      // initialized data changed (value or layout)
    LayoutChange,    // a type the running kernel's code and data use changed layout
    InitCode,        // init (or meminit) code changed after it ran
    ExitCode,        // a module's exit code or data changed
    NoFtraceHook,    // a changed function cannot be redirected
    SharedSection,   // a changed section holds several functions
    UnmatchedStatic, // a static local cannot be paired with the kernel's
    MissingSymbol,   // the change refers to something the kernel has no symbol for
    FunctionPointer, // a pointer to a replaced function's copy would escape
};

// "data_change", ... as the reports write it.
std::string_view refusal_kind_name(RefusalKind kind);

// A well-formed change that cannot be applied live.
class Refusal : public Error {
  public:
    using Error::Error;
    template <class... Args>
    Refusal(RefusalKind kind, fmt::format_string<Args...> format, Args &&...args)
        : Error(format, std::forward<Args>(args)...), kind_(kind) {}
    ExitStatus status() const override { return kExitRefused; }
    RefusalKind kind() const { return kind_; }

  private:
    RefusalKind kind_ = RefusalKind::Other;
};

} // namespace kpp
