#include "kpatch-build/progress.h"

#include "libkpp/log.h"

#include <cstdio>
#include <fmt/format.h>

namespace kpp::build {

double Progress::elapsed_seconds() const {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    return elapsed.count();
}

void Progress::stage(std::string_view what) const {
    std::string line = fmt::format("[{:5.1f}s] {}", elapsed_seconds(), what);
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
    log::debug("stage {}", line);
}

} // namespace kpp::build
