#include "kpatch-build/util/disk_space.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

namespace kpp::build {

std::optional<uint64_t> free_bytes(const std::filesystem::path &path) {
    struct statvfs st;
    if (statvfs(path.c_str(), &st) != 0)
        return std::nullopt;
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string human_size(uint64_t bytes) {
    if (bytes >= (uint64_t{1} << 30))
        return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (uint64_t{1} << 30));
    if (bytes >= (uint64_t{1} << 20))
        return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (uint64_t{1} << 20));
    return fmt::format("{} KiB", bytes / 1024);
}

std::optional<std::string> describe_full_place(const std::vector<WritePlace> &places) {
    for (const auto &place : places) {
        auto free = free_bytes(place.path);
        if (!free || *free >= kFullBelowBytes)
            continue;
        return fmt::format("no space left on device: {} ({}) has {} KiB free; free some space "
                           "there{} and run kpatch-build again",
                           place.path.string(), place.role, *free / 1024,
                           place.role == "TMPDIR" ? " or point TMPDIR at a larger filesystem" : "");
    }
    return std::nullopt;
}

} // namespace kpp::build
