#include "kpatch-build/kbuild/kbuild_progress.h"

#include "kpatch-build/progress.h"

#include <fmt/format.h>
#include <fstream>

namespace kpp::build {
namespace fs = std::filesystem;

bool is_kbuild_target_line(std::string_view line) {
    for (std::string_view tool : {"  CC ", "  CPP ", "  AS "})
        if (line.starts_with(tool))
            return true;
    return false;
}

KbuildProgressTicker::KbuildProgressTicker(const Progress &progress, fs::path log, std::string what,
                                           size_t total, std::chrono::milliseconds interval)
    : progress_(progress), log_(std::move(log)), what_(std::move(what)), total_(total),
      interval_(interval) {
    if (total_ < kMinimumTotal)
        return;
    std::error_code ec;
    offset_ = fs::file_size(log_, ec);
    if (ec)
        offset_ = 0;
    thread_ = std::thread([this] { run(); });
}

KbuildProgressTicker::~KbuildProgressTicker() {
    if (!thread_.joinable())
        return;
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

size_t KbuildProgressTicker::count_new_lines() {
    std::ifstream in(log_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    offset_ += text.size();
    text.insert(0, partial_line_);
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        if (is_kbuild_target_line(std::string_view(text).substr(start, end - start)))
            done_++;
    partial_line_ = text.substr(start);
    return done_;
}

void KbuildProgressTicker::run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stop_; }))
        progress_.stage(fmt::format("{}: {} of {}", what_, count_new_lines(), total_));
}

} // namespace kpp::build
