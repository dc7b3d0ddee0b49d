#include "kpatch-build/util/run_marker.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <unistd.h>
#include <vector>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

constexpr const char *kVariable = "KPP_BUILD_RUN";

std::string &run_id_storage() {
    static std::string id;
    return id;
}

bool carries(const fs::path &environ_file, const std::string &entry) {
    std::ifstream in(environ_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Entries are NUL-separated: match a whole one.
    for (size_t at = text.find(entry); at != std::string::npos; at = text.find(entry, at + 1))
        if ((at == 0 || text[at - 1] == '\0') &&
            (at + entry.size() == text.size() || text[at + entry.size()] == '\0'))
            return true;
    return false;
}

std::vector<pid_t> processes_carrying(const std::string &entry) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto &item : fs::directory_iterator("/proc", ec)) {
        const std::string name = item.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        if (pid != ::getpid() && carries(item.path() / "environ", entry))
            pids.push_back(pid);
    }
    return pids;
}

} // namespace

void mark_this_run() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    run_id_storage() = fmt::format(
        "{}-{}", ::getpid(), std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    ::setenv(kVariable, run_id_storage().c_str(), 1);
}

std::string this_run_id() {
    return run_id_storage();
}

size_t stop_commands_of_run(const std::string &run_id) {
    if (run_id.empty() || run_id == this_run_id())
        return 0;
    const std::string entry = fmt::format("{}={}", kVariable, run_id);
    std::set<pid_t> killed;
    // A make being killed may still fork: look again until nothing is left
    // (a killed process's environ reads empty once it is a zombie).
    for (int round = 0; round < 100; ++round) {
        auto pids = processes_carrying(entry);
        if (pids.empty())
            break;
        for (pid_t pid : pids)
            if (::kill(pid, SIGKILL) == 0)
                killed.insert(pid);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return killed.size();
}

} // namespace kpp::build
