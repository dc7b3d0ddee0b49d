// The running kernel as the kpatch command sees it: livepatch sysfs, the
// install directory, /proc/<pid>/patch_state, and waiting for transitions.
#include "tools/kpatch_cli.h"

#include "libkpp/error.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace kpp::cli {

fs::path Env::livepatch_dir() const {
    return fs::path(sysfs_root) / "kernel" / "livepatch";
}
fs::path Env::patch_dir(const std::string &patch) const {
    return livepatch_dir() / patch;
}
fs::path Env::install_root() const {
    return fs::path(prefix.empty() ? "/" : prefix) / "var" / "lib" / "kpatch";
}
fs::path Env::install_dir(const std::string &rel) const {
    return install_root() / rel;
}

Env Env::from_environment() {
    Env env;
    auto get = [](const char *name, std::string &out) {
        if (const char *v = std::getenv(name); v && *v)
            out = v;
    };
    get("KPATCH_SYSFS_ROOT", env.sysfs_root);
    get("KPATCH_PROC_ROOT", env.proc_root);
    get("KPATCH_PREFIX", env.prefix);
    get("KPATCH_MODULES_DIR", env.modules_dir);
    get("KPATCH_KERNEL_RELEASE", env.release);
    if (env.release.empty()) {
        struct utsname u {};
        if (uname(&u) == 0)
            env.release = u.release;
    }
    return env;
}

namespace {

std::optional<std::string> read_line(const fs::path &file) {
    std::ifstream in(file);
    if (!in)
        return std::nullopt;
    std::string line;
    std::getline(in, line);
    if (in.bad())
        return std::nullopt;
    while (!line.empty() && (line.back() == '\n' || line.back() == ' '))
        line.pop_back();
    return line;
}

std::optional<long> read_number(const fs::path &file) {
    auto line = read_line(file);
    if (!line)
        return std::nullopt;
    long v = 0;
    auto [p, ec] = std::from_chars(line->data(), line->data() + line->size(), v);
    if (ec != std::errc() || p == line->data())
        return std::nullopt;
    return v;
}

std::vector<fs::path> sorted_entries(const fs::path &dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
}

bool is_dir(const fs::path &p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

LoadedPatch read_patch(const fs::path &dir) {
    LoadedPatch p;
    p.name = dir.filename().string();
    p.enabled = read_number(dir / "enabled").value_or(0) != 0;
    p.transition = read_number(dir / "transition").value_or(0) != 0;
    for (const auto &objdir : sorted_entries(dir)) {
        if (!is_dir(objdir))
            continue;
        LoadedObject obj;
        obj.name = objdir.filename().string();
        if (auto v = read_number(objdir / "patched"))
            obj.patched = *v != 0;
        for (const auto &fdir : sorted_entries(objdir)) {
            if (!is_dir(fdir))
                continue;
            std::string base = fdir.filename().string();
            LoadedFunction f;
            auto comma = base.rfind(',');
            f.name = base.substr(0, comma);
            if (comma != std::string::npos) {
                const char *b = base.data() + comma + 1;
                std::from_chars(b, base.data() + base.size(), f.sympos);
            }
            obj.functions.push_back(std::move(f));
        }
        p.objects.push_back(std::move(obj));
    }
    return p;
}

} // namespace

std::vector<LoadedPatch> loaded_patches(const Env &env) {
    std::vector<LoadedPatch> out;
    for (const auto &dir : sorted_entries(env.livepatch_dir()))
        if (is_dir(dir))
            out.push_back(read_patch(dir));
    return out;
}

std::optional<LoadedPatch> loaded_patch(const Env &env, const std::string &name) {
    if (name.empty() || name.find('/') != std::string::npos || !is_dir(env.patch_dir(name)))
        return std::nullopt;
    return read_patch(env.patch_dir(name));
}

bool module_loaded(const Env &env, const std::string &name) {
    return is_dir(fs::path(env.sysfs_root) / "module" / name);
}

std::vector<InstalledPatch> installed_patches(const Env &env) {
    std::vector<InstalledPatch> out;
    for (const auto &reldir : sorted_entries(env.install_root())) {
        if (!is_dir(reldir))
            continue;
        for (const auto &f : sorted_entries(reldir)) {
            if (f.extension() != ".ko")
                continue;
            out.push_back({reldir.filename().string(), f.stem().string(), f.string()});
        }
    }
    return out;
}

std::vector<UnpatchedTask> unpatched_tasks(const Env &env, int target) {
    std::vector<UnpatchedTask> out;
    for (const auto &dir : sorted_entries(env.proc_root)) {
        std::string pidstr = dir.filename().string();
        int pid = 0;
        auto [p, ec] = std::from_chars(pidstr.data(), pidstr.data() + pidstr.size(), pid);
        if (ec != std::errc() || p != pidstr.data() + pidstr.size())
            continue;
        auto state = read_number(dir / "patch_state");
        if (!state || *state == -1 || *state == target)
            continue;
        UnpatchedTask t;
        t.pid = pid;
        t.state = static_cast<int>(*state);
        t.comm = read_line(dir / "comm").value_or("?");
        std::ifstream st(dir / "stack");
        for (std::string line; st && std::getline(st, line);)
            t.stack.push_back(line);
        out.push_back(std::move(t));
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.pid < b.pid; });
    return out;
}

WaitResult wait_transition(const Env &env, const std::string &patch, const WaitOptions &opts) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto next_progress = start + opts.progress_every;
    const fs::path dir = env.patch_dir(patch);
    for (;;) {
        if (!is_dir(dir))
            return WaitResult::Gone;
        auto t = read_number(dir / "transition");
        if (!t) // the directory went away between the two reads
            return is_dir(dir) ? WaitResult::TimedOut : WaitResult::Gone;
        if (*t == 0)
            return WaitResult::Done;
        auto now = clock::now();
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
        // Progress first: a wait that overslept its deadline still reports once.
        if (opts.progress && now >= next_progress) {
            int target = read_number(dir / "enabled").value_or(1) != 0 ? 1 : 0;
            opts.progress(elapsed, unpatched_tasks(env, target).size());
            next_progress = now + opts.progress_every;
        }
        if (elapsed >= opts.timeout)
            return WaitResult::TimedOut;
        std::this_thread::sleep_for(opts.poll);
    }
}

bool wait_gone(const Env &env, const std::string &patch, const WaitOptions &opts) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + opts.timeout;
    while (is_dir(env.patch_dir(patch))) {
        if (clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(opts.poll);
    }
    return true;
}

void write_attr(const fs::path &file, std::string_view value) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        throw Error("cannot open {}: {}{}", file.string(), std::strerror(e),
                    e == EACCES || e == EPERM ? " (run as root)" : "");
    }
    ssize_t n = ::write(fd, value.data(), value.size());
    int e = errno;
    ::close(fd);
    if (n < 0)
        throw Error("writing '{}' to {} failed: {}", value, file.string(), std::strerror(e));
}

} // namespace kpp::cli
