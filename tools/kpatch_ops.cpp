// load, unload, install, uninstall; module insertion/removal through libkmod.
#include "tools/kpatch_cli.h"

#include "libkpp/error.h"

#include <libkmod.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace kpp::cli {

namespace {

class KmodOps : public ModuleOps {
  public:
    explicit KmodOps(const std::string &modules_dir) {
        ctx_ = kmod_new(modules_dir.empty() ? nullptr : modules_dir.c_str(), nullptr);
        if (!ctx_)
            throw Error("libkmod: cannot create a context{}",
                        modules_dir.empty() ? "" : " for " + modules_dir);
        kmod_set_log_priority(ctx_, 0);
    }
    ~KmodOps() override { kmod_unref(ctx_); }
    KmodOps(const KmodOps &) = delete;
    KmodOps &operator=(const KmodOps &) = delete;

    void insert(const std::string &path) override {
        struct kmod_module *mod = nullptr;
        int err = kmod_module_new_from_path(ctx_, path.c_str(), &mod);
        if (err < 0)
            throw Error("{}: {}", path, std::strerror(-err));
        err = kmod_module_insert_module(mod, 0, nullptr);
        std::string name = kmod_module_get_name(mod);
        kmod_module_unref(mod);
        if (err == 0)
            return;
        switch (-err) {
        case EEXIST:
            throw Refusal("{} is already loaded", name);
        case EPERM:
            throw Error("inserting {}: operation not permitted (run as root)", name);
        case ENOEXEC:
            throw Refusal("the kernel refused {}: invalid module format (built for another kernel? "
                          "see dmesg)",
                          path);
        default:
            throw Refusal("the kernel refused {}: {} (see dmesg)", path, std::strerror(-err));
        }
    }

    int remove(const std::string &name) override {
        struct kmod_module *mod = nullptr;
        int err = kmod_module_new_from_name(ctx_, name.c_str(), &mod);
        if (err < 0)
            return err;
        err = kmod_module_remove_module(mod, KMOD_REMOVE_NOLOG);
        kmod_module_unref(mod);
        return err;
    }

  private:
    struct kmod_ctx *ctx_ = nullptr;
};

std::string describe_tasks_hint(const Env &env, bool enabled) {
    auto tasks = unpatched_tasks(env, enabled ? 1 : 0);
    return fmt::format("{} task(s) not yet {}", tasks.size(), enabled ? "patched" : "unpatched");
}

} // namespace

std::unique_ptr<ModuleOps> make_kmod_ops(const std::string &modules_dir) {
    return std::make_unique<KmodOps>(modules_dir);
}

std::string resolve_module_file(const Env &env, const std::string &arg) {
    std::error_code ec;
    if (arg.find('/') != std::string::npos || arg.ends_with(".ko") ||
        fs::is_regular_file(arg, ec)) {
        if (!fs::is_regular_file(arg, ec))
            throw Error("{}: no such module file", arg);
        return arg;
    }
    fs::path installed = env.install_dir(env.release) / (module_name_from(arg) + ".ko");
    if (fs::is_regular_file(installed, ec))
        return installed.string();
    throw Error("no such patch module: {} (not a file, not installed in {})", arg,
                env.install_dir(env.release).string());
}

LoadResult load_patch(const Env &env, const std::string &arg, ModuleOps &ops,
                      const WaitOptions &wait) {
    const auto start = std::chrono::steady_clock::now();
    LoadResult res;
    res.path = resolve_module_file(env, arg);
    ModuleInfo info = read_module_info(res.path);
    check_patch_module(info, env.release);
    res.name = info.name;
    if (module_loaded(env, info.name) || fs::exists(env.patch_dir(info.name)))
        throw Refusal("{} is already loaded", info.name);
    ops.insert(res.path);
    if (!fs::is_directory(env.patch_dir(info.name)))
        throw Refusal("{} was inserted but {} does not exist", info.name,
                      env.patch_dir(info.name).string());
    if (wait.timeout.count() > 0) {
        switch (wait_transition(env, info.name, wait)) {
        case WaitResult::Done:
            break;
        case WaitResult::Gone:
            throw Refusal("{} disappeared from {} during its transition", info.name,
                          env.livepatch_dir().string());
        case WaitResult::TimedOut:
            throw Refusal(
                "{}: transition not finished after {}s, {}; the kernel keeps trying "
                "(`kpatch unload {}` reverts it, `kpatch force {}` completes it unsafely)",
                info.name, wait.timeout.count() / 1000.0, describe_tasks_hint(env, true), info.name,
                info.name);
        }
    }
    res.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return res;
}

void unload_patch(const Env &env, const std::string &arg, ModuleOps &ops, const WaitOptions &wait) {
    const std::string name = module_name_from(arg);
    const fs::path dir = env.patch_dir(name);
    const bool has_sysfs = fs::is_directory(dir);
    if (!has_sysfs && !module_loaded(env, name))
        throw Error("{} is not loaded", name);
    if (has_sysfs) {
        auto p = loaded_patch(env, name);
        // enabled=1: disable it (a transition in progress is reversed);
        // enabled=0 in transition: it is being disabled already.
        if (p && p->enabled)
            write_attr(dir / "enabled", "0");
        switch (wait_transition(env, name, wait)) {
        case WaitResult::Done:
        case WaitResult::Gone:
            break;
        case WaitResult::TimedOut:
            throw Refusal("{}: unpatching not finished after {}s, {}; the kernel keeps trying "
                          "(`kpatch force {}` completes it unsafely)",
                          name, wait.timeout.count() / 1000.0, describe_tasks_hint(env, false),
                          name);
        }
        if (!wait_gone(env, name, wait))
            throw Refusal("{}: {} still present {}s after the patch was disabled", name,
                          dir.string(), wait.timeout.count() / 1000.0);
    }
    if (!module_loaded(env, name))
        return;
    // The livepatch core drops its module reference asynchronously after
    // freeing the patch: retry while the module is busy.
    const auto deadline = std::chrono::steady_clock::now() + wait.timeout;
    for (;;) {
        int err = ops.remove(name);
        if (err == 0 || err == -ENOENT)
            return;
        if ((err != -EAGAIN && err != -EBUSY && err != -EWOULDBLOCK) ||
            std::chrono::steady_clock::now() >= deadline) {
            if (err == -EPERM)
                throw Error("removing {}: operation not permitted (run as root)", name);
            throw Refusal("removing {} failed: {}", name, std::strerror(-err));
        }
        std::this_thread::sleep_for(wait.poll);
    }
}

std::string install_patch(const Env &env, const std::string &file, const std::string &rel) {
    ModuleInfo info = read_module_info(file);
    check_patch_module(info, rel);
    fs::path dir = env.install_dir(rel);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create {}: {}{}", dir.string(), ec.message(),
                    ec == std::errc::permission_denied ? " (run as root)" : "");
    fs::path dest = dir / (info.name + ".ko");
    fs::path tmp = dir / ("." + info.name + ".ko.tmp");
    fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec)
        throw Error("cannot copy {} to {}: {}", file, tmp.string(), ec.message());
    fs::permissions(tmp,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    ec);
    fs::rename(tmp, dest, ec);
    if (ec) {
        fs::remove(tmp);
        throw Error("cannot install {}: {}", dest.string(), ec.message());
    }
    return dest.string();
}

void uninstall_patch(const Env &env, const std::string &arg, const std::string &rel) {
    fs::path dest = env.install_dir(rel) / (module_name_from(arg) + ".ko");
    std::error_code ec;
    if (!fs::is_regular_file(dest, ec))
        throw Error("{} is not installed for kernel {} (no {})", module_name_from(arg), rel,
                    dest.string());
    if (!fs::remove(dest, ec) || ec)
        throw Error("cannot remove {}: {}{}", dest.string(), ec.message(),
                    ec == std::errc::permission_denied ? " (run as root)" : "");
    fs::remove(env.install_dir(rel), ec); // only succeeds when empty
}

} // namespace kpp::cli
