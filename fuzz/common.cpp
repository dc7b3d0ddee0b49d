#include "common.h"

#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace kpp::fuzz {
namespace {

struct Scratch {
    std::string path;
    Scratch() {
        std::string base = "/tmp";
        if (std::filesystem::is_directory("/dev/shm"))
            base = "/dev/shm";
        else if (const char *t = std::getenv("TMPDIR"); t && *t)
            base = t;
        std::string templ = base + "/kpp-fuzz-XXXXXX";
        if (!mkdtemp(templ.data())) {
            std::fprintf(stderr, "kpp-fuzz: cannot create a scratch folder in %s: %s\n",
                         base.c_str(), std::strerror(errno));
            std::abort();
        }
        path = templ;
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

} // namespace

const std::string &scratch_dir() {
    static Scratch scratch;
    return scratch.path;
}

void write_file(const std::string &path, const uint8_t *data, size_t size) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::fprintf(stderr, "kpp-fuzz: cannot create %s: %s\n", path.c_str(),
                     std::strerror(errno));
        std::abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            std::fprintf(stderr, "kpp-fuzz: cannot write %s: %s\n", path.c_str(),
                         std::strerror(errno));
            std::abort();
        }
        done += static_cast<size_t>(n);
    }
    close(fd);
}

void finding(const std::string &what) {
    // stderr may be closed (-close_fd_mask=2 keeps the tool's own log lines
    // out of the fuzzer's output); the sanitizer's report stream is not.
    std::string line = "kpp-fuzz finding: " + what;
    std::fprintf(stderr, "==kpp-fuzz== %s\n", line.c_str());
    std::fflush(stderr);
    __sanitizer_report_error_summary(line.c_str());
    std::abort();
}

} // namespace kpp::fuzz
