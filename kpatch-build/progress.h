// One line per stage with the time since start: "[  3.2s] building original objects (2)".
#pragma once

#include <chrono>
#include <string_view>

namespace kpp::build {

class Progress {
  public:
    Progress() : start_(std::chrono::steady_clock::now()) {}
    double elapsed_seconds() const;
    // Prints to stdout and records the line in the log.
    void stage(std::string_view what) const;

  private:
    std::chrono::steady_clock::time_point start_;
};

} // namespace kpp::build
