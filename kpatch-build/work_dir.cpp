#include "kpatch-build/work_dir.h"

#include "libkpp/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace kpp::build {
namespace fs = std::filesystem;

WorkDir::WorkDir() {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/kpatch-build.XXXXXX";
    if (!mkdtemp(pattern.data()))
        throw Error("cannot create a work directory {}: {}", pattern, std::strerror(errno));
    path_ = pattern;
}

WorkDir::~WorkDir() {
    if (keep_)
        return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

} // namespace kpp::build
