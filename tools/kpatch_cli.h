// The `kpatch` command's library: everything the verbs do, with the kernel's
// interfaces (sysfs, /proc, module insertion) behind paths and an interface
// so that unit tests run it against a fake tree in a temporary directory.
//
// Kernel interfaces used (Linux 6.1, kernel/livepatch/core.c, fs/proc/base.c):
//   /sys/kernel/livepatch/<patch>/{enabled,transition,force}
//   /sys/kernel/livepatch/<patch>/<object>/patched
//   /sys/kernel/livepatch/<patch>/<object>/<function>,<sympos>/
//   /proc/<pid>/patch_state   -1 no transition, 0 unpatched, 1 patched
//   /sys/module/<name>/       a loaded module
// 6.1 has no /sys/kernel/livepatch/<patch>/signal (removed in 5.1): the
// livepatch core signals the blocking tasks itself every 15 seconds.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::cli {

// Where the kernel's files are. Defaults are the real ones; the environment
// (KPATCH_SYSFS_ROOT, KPATCH_PROC_ROOT, KPATCH_PREFIX, KPATCH_MODULES_DIR,
// KPATCH_KERNEL_RELEASE) or command-line options override them.
struct Env {
    std::string sysfs_root = "/sys";
    std::string proc_root = "/proc";
    std::string prefix;      // installed patches live in <prefix>/var/lib/kpatch/<release>/
    std::string modules_dir; // libkmod's module directory; empty = its default
    std::string release;     // the running kernel's release (uname -r)

    std::filesystem::path livepatch_dir() const;
    std::filesystem::path patch_dir(const std::string &patch) const;
    std::filesystem::path install_root() const;
    std::filesystem::path install_dir(const std::string &rel) const;

    // Defaults, then the KPATCH_* environment variables.
    static Env from_environment();
};

// ---- loaded patches (sysfs) ----

struct LoadedFunction {
    std::string name;
    uint64_t sympos = 0;
};
struct LoadedObject {
    std::string name; // "vmlinux" or a module name
    std::optional<bool> patched;
    std::vector<LoadedFunction> functions;
};
struct LoadedPatch {
    std::string name;
    bool enabled = false;
    bool transition = false;
    std::vector<LoadedObject> objects;
};

std::vector<LoadedPatch> loaded_patches(const Env &env);
std::optional<LoadedPatch> loaded_patch(const Env &env, const std::string &name);
bool module_loaded(const Env &env, const std::string &name);

// ---- installed patches ----

struct InstalledPatch {
    std::string release;
    std::string name;
    std::string path;
};
std::vector<InstalledPatch> installed_patches(const Env &env);

// ---- a patch module file ----

struct PatchFunction {
    std::string name;
    std::string objname;
    uint64_t sympos = 0;
    uint64_t old_size = 0;
    uint64_t new_size = 0;
};
struct ModuleInfo {
    std::string path;
    std::string name;     // modinfo name= (KBUILD_MODNAME)
    std::string vermagic; // modinfo vermagic=
    std::string release;  // first word of vermagic
    bool livepatch = false;
    std::string description, license, srcversion;
    std::vector<PatchFunction> functions; // from .kpatchpp.funcs, in table order
};

// Reads .modinfo and .kpatchpp.funcs/.kpatchpp.strings with libkpp's ELF model.
// Throws kpp::Error when the file is missing or not an ELF relocatable object.
ModuleInfo read_module_info(const std::string &path);
// Throws kpp::Refusal unless the module is a livepatch module built for `rel`.
void check_patch_module(const ModuleInfo &info, const std::string &rel);

// "dir/livepatch-foo.ko" -> "livepatch_foo" (kbuild's module name form).
std::string module_name_from(std::string_view arg);

// ---- transitions ----

struct UnpatchedTask {
    int pid = 0;
    std::string comm;
    int state = 0;
    std::vector<std::string> stack; // /proc/<pid>/stack when readable
};
// Tasks whose patch_state is neither -1 nor `target`.
std::vector<UnpatchedTask> unpatched_tasks(const Env &env, int target);

struct WaitOptions {
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds poll{100};
    std::chrono::milliseconds progress_every{std::chrono::seconds(1)};
    // Called every progress_every while waiting: elapsed time, tasks left.
    std::function<void(std::chrono::milliseconds, size_t)> progress;
};
enum class WaitResult { Done, Gone, TimedOut };
// Waits for <patch>/transition to read 0 (Done) or the directory to go (Gone).
WaitResult wait_transition(const Env &env, const std::string &patch, const WaitOptions &opts);
// Waits for <patch>'s sysfs directory to disappear.
bool wait_gone(const Env &env, const std::string &patch, const WaitOptions &opts);

// Writes a value into a sysfs attribute; throws kpp::Error naming the file
// and the kernel's errno.
void write_attr(const std::filesystem::path &file, std::string_view value);

// ---- module insertion and removal ----

class ModuleOps {
  public:
    virtual ~ModuleOps() = default;
    virtual void insert(const std::string &path) = 0;
    // Returns 0 or a negative errno (-EAGAIN/-EBUSY are retried by the caller).
    virtual int remove(const std::string &name) = 0;
};
// libkmod; `modules_dir` as for kmod_new() (empty = default).
std::unique_ptr<ModuleOps> make_kmod_ops(const std::string &modules_dir);

// The verbs' work. Each throws kpp::Error / kpp::Refusal with a one-line message.
struct LoadResult {
    std::string name;
    std::string path;
    std::chrono::milliseconds took{0};
};
// Resolves FILE.ko or an installed NAME to a file for `env.release`.
std::string resolve_module_file(const Env &env, const std::string &arg);
LoadResult load_patch(const Env &env, const std::string &arg, ModuleOps &ops,
                      const WaitOptions &wait);
// Disables the patch (if still enabled), waits for the transition and for the
// sysfs directory to go, then removes the module.
void unload_patch(const Env &env, const std::string &name, ModuleOps &ops, const WaitOptions &wait);
// Copies FILE.ko to <install dir>/<release>/<name>.ko; returns the destination.
std::string install_patch(const Env &env, const std::string &file, const std::string &rel);
void uninstall_patch(const Env &env, const std::string &name, const std::string &rel);

// ---- output ----

nlohmann::json to_json(const LoadedPatch &p);
nlohmann::json to_json(const ModuleInfo &m);
nlohmann::json list_json(const std::vector<LoadedPatch> &loaded,
                         const std::vector<InstalledPatch> &installed, const std::string &running);
std::string list_text(const std::vector<LoadedPatch> &loaded,
                      const std::vector<InstalledPatch> &installed, const std::string &running);
std::string info_text(const ModuleInfo &m);
std::string info_text(const LoadedPatch &p);
std::string tasks_text(const std::vector<UnpatchedTask> &tasks);

} // namespace kpp::cli
