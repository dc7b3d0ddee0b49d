// Counts for a long kbuild run: while make builds hundreds of objects (a
// stable update, a release's first header patch), a stage line every half
// minute says how far it got — "[ 230.1s] preprocessing: 1025 of 4640" —
// from kbuild's own one-line-per-target output ("  CC [M]  fs/x.o") in the
// build log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace kpp::build {

class Progress;

// kbuild's quiet line for one compiled, preprocessed or assembled target.
bool is_kbuild_target_line(std::string_view line);

class KbuildProgressTicker {
  public:
    // Ticks only for `total` of at least kMinimumTotal targets: short runs
    // need no counts.
    KbuildProgressTicker(const Progress &progress, std::filesystem::path log, std::string what,
                         size_t total,
                         std::chrono::milliseconds interval = std::chrono::seconds(30));
    ~KbuildProgressTicker();
    KbuildProgressTicker(const KbuildProgressTicker &) = delete;
    KbuildProgressTicker &operator=(const KbuildProgressTicker &) = delete;

    static constexpr size_t kMinimumTotal = 50;

  private:
    size_t count_new_lines();
    void run();

    const Progress &progress_;
    std::filesystem::path log_;
    std::string what_;
    size_t total_;
    std::chrono::milliseconds interval_;
    std::uintmax_t offset_ = 0;
    std::string partial_line_;
    size_t done_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace kpp::build
