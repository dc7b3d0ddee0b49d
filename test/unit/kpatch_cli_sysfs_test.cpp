// kpatch CLI against a fake /sys and /proc: listing, JSON, waiting for
// transitions, unload's disable → wait → free → remove sequence, load.
#include "libkpp/error.h"
#include "tools/kpatch_cli.h"
#include "tools/testing/fake_tree.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <thread>

using namespace kpp::cli;
using kpp_cli_test::FakeTree;
using namespace std::chrono_literals;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

WaitOptions fast(std::chrono::milliseconds timeout) {
    WaitOptions w;
    w.timeout = timeout;
    w.poll = 5ms;
    w.progress_every = 20ms;
    return w;
}

TEST(KpatchCliSysfs, ListsLoadedPatchesWithObjectsAndFunctions) {
    FakeTree t;
    t.add_patch("livepatch_b", true, false,
                {{"vmlinux", "meminfo_proc_show,1"}, {"ext4", "ext4_foo,2"}});
    t.add_patch("livepatch_a", false, true, {{"vmlinux", "cmdline_proc_show,0"}});
    FakeTree::put(t.patch("livepatch_a") / "vmlinux/patched", "0\n");

    auto loaded = loaded_patches(t.env);
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0].name, "livepatch_a"); // sorted
    EXPECT_FALSE(loaded[0].enabled);
    EXPECT_TRUE(loaded[0].transition);
    ASSERT_EQ(loaded[0].objects.size(), 1u);
    EXPECT_EQ(loaded[0].objects[0].patched, std::optional<bool>(false));
    const auto &b = loaded[1];
    EXPECT_TRUE(b.enabled);
    EXPECT_FALSE(b.transition);
    ASSERT_EQ(b.objects.size(), 2u);
    EXPECT_EQ(b.objects[0].name, "ext4");
    EXPECT_EQ(b.objects[0].functions.at(0).name, "ext4_foo");
    EXPECT_EQ(b.objects[0].functions.at(0).sympos, 2u);
    EXPECT_EQ(b.objects[1].functions.at(0).name, "meminfo_proc_show");
    EXPECT_EQ(b.objects[1].functions.at(0).sympos, 1u);

    EXPECT_TRUE(loaded_patch(t.env, "livepatch_b").has_value());
    EXPECT_FALSE(loaded_patch(t.env, "livepatch_c").has_value());
    EXPECT_FALSE(loaded_patch(t.env, "../livepatch_b").has_value());
}

TEST(KpatchCliSysfs, ListJsonAndText) {
    FakeTree t;
    t.add_patch("livepatch_x", true, false, {{"vmlinux", "meminfo_proc_show,1"}});
    FakeTree::put(t.env.install_dir("6.1.192") / "livepatch_x.ko", "x");
    FakeTree::put(t.env.install_dir("6.1.100") / "livepatch_old.ko", "x");
    FakeTree::put(t.env.install_dir("6.1.100") / "README", "not a module");

    auto loaded = loaded_patches(t.env);
    auto installed = installed_patches(t.env);
    ASSERT_EQ(installed.size(), 2u);

    auto j = nlohmann::json::parse(list_json(loaded, installed, t.env.release).dump());
    EXPECT_EQ(j["kernel_release"], "6.1.192");
    ASSERT_EQ(j["loaded"].size(), 1u);
    EXPECT_EQ(j["loaded"][0]["name"], "livepatch_x");
    EXPECT_EQ(j["loaded"][0]["enabled"], true);
    EXPECT_EQ(j["loaded"][0]["transition"], false);
    EXPECT_EQ(j["loaded"][0]["objects"][0]["name"], "vmlinux");
    EXPECT_EQ(j["loaded"][0]["objects"][0]["patched"], true);
    EXPECT_EQ(j["loaded"][0]["objects"][0]["functions"][0]["name"], "meminfo_proc_show");
    EXPECT_EQ(j["loaded"][0]["objects"][0]["functions"][0]["sympos"], 1);
    ASSERT_EQ(j["installed"].size(), 2u);
    EXPECT_EQ(j["installed"][0]["release"], "6.1.100");
    EXPECT_EQ(j["installed"][0]["running_kernel"], false);
    EXPECT_EQ(j["installed"][1]["name"], "livepatch_x");
    EXPECT_EQ(j["installed"][1]["running_kernel"], true);

    std::string text = list_text(loaded, installed, t.env.release);
    EXPECT_NE(text.find("livepatch_x [enabled] 1 function(s)"), std::string::npos) << text;
    EXPECT_NE(text.find("6.1.192 (running):"), std::string::npos) << text;
    EXPECT_NE(text.find("6.1.100:\n    livepatch_old"), std::string::npos) << text;

    FakeTree empty;
    std::string none =
        list_text(loaded_patches(empty.env), installed_patches(empty.env), "6.1.192");
    EXPECT_EQ(none, "Loaded patch modules:\n  (none)\n\nInstalled patch modules:\n  (none)\n");
}

TEST(KpatchCliSysfs, UnpatchedTasksAreThoseNotAtTheTarget) {
    FakeTree t;
    t.add_task(1, "init", 1);
    t.add_task(42, "sleepy", 0);
    t.add_task(7, "kworker/0:1", 0);
    t.add_task(9, "idle", -1);
    FakeTree::put(t.root / "proc/self/patch_state", "0\n"); // not a pid directory
    auto tasks = unpatched_tasks(t.env, 1);
    ASSERT_EQ(tasks.size(), 2u);
    EXPECT_EQ(tasks[0].pid, 7);
    EXPECT_EQ(tasks[0].comm, "kworker/0:1");
    EXPECT_EQ(tasks[1].pid, 42);
    EXPECT_EQ(tasks[1].state, 0);
    ASSERT_EQ(tasks[1].stack.size(), 2u);
    EXPECT_NE(tasks_text(tasks).find("pid 42 (sleepy) patch_state=0"), std::string::npos);
    // Unpatching: the target is 0, so only init (1) blocks.
    auto back = unpatched_tasks(t.env, 0);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].pid, 1);
}

TEST(KpatchCliSysfs, WaitTransitionDoneGoneAndTimeout) {
    FakeTree t;
    t.add_patch("p", true, false, {});
    EXPECT_EQ(wait_transition(t.env, "p", fast(1s)), WaitResult::Done);
    EXPECT_EQ(wait_transition(t.env, "nope", fast(1s)), WaitResult::Gone);

    FakeTree::put(t.patch("p") / "transition", "1\n");
    t.add_task(5, "stuck", 0);
    std::vector<size_t> progress;
    WaitOptions w = fast(150ms);
    w.progress = [&](std::chrono::milliseconds, size_t left) { progress.push_back(left); };
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(wait_transition(t.env, "p", w), WaitResult::TimedOut);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), 1u); // pid 5 is not patched yet

    // The kernel finishes the transition while we wait.
    std::thread kernel([&] {
        std::this_thread::sleep_for(60ms);
        FakeTree::put(t.patch("p") / "transition", "0\n");
    });
    EXPECT_EQ(wait_transition(t.env, "p", fast(5s)), WaitResult::Done);
    kernel.join();
}

// Records removals; the module is "busy" for the first `busy` attempts, as
// when the livepatch core has not dropped its reference yet.
struct FakeOps : ModuleOps {
    FakeTree &t;
    int busy = 0;
    std::vector<std::string> removed, inserted;
    std::function<void(const std::string &)> on_insert;
    explicit FakeOps(FakeTree &tree) : t(tree) {}
    void insert(const std::string &path) override {
        inserted.push_back(path);
        if (on_insert)
            on_insert(path);
    }
    int remove(const std::string &name) override {
        if (busy-- > 0)
            return -EAGAIN;
        removed.push_back(name);
        fs::remove_all(t.root / "sys/module" / name);
        return 0;
    }
};

TEST(KpatchCliSysfs, UnloadDisablesWaitsForTheTransitionAndTheFreeThenRemoves) {
    FakeTree t;
    t.add_patch("livepatch_u", true, false, {{"vmlinux", "meminfo_proc_show,1"}});
    FakeOps ops(t);
    ops.busy = 2;
    std::atomic<bool> removed_early{false};
    // The "kernel": sees enabled=0, runs an unpatch transition, frees the patch.
    std::thread kernel([&] {
        while (FakeTree::get(t.patch("livepatch_u") / "enabled") != "0")
            std::this_thread::sleep_for(2ms);
        FakeTree::put(t.patch("livepatch_u") / "transition", "1\n");
        std::this_thread::sleep_for(50ms);
        if (!ops.removed.empty())
            removed_early = true;
        FakeTree::put(t.patch("livepatch_u") / "transition", "0\n");
        std::this_thread::sleep_for(30ms);
        if (!ops.removed.empty())
            removed_early = true;
        fs::remove_all(t.patch("livepatch_u"));
    });
    unload_patch(t.env, "livepatch-u", ops, fast(5s));
    kernel.join();
    EXPECT_FALSE(removed_early) << "module removed before the patch was freed";
    ASSERT_EQ(ops.removed.size(), 1u);
    EXPECT_EQ(ops.removed[0], "livepatch_u");
    EXPECT_FALSE(fs::exists(t.root / "sys/module/livepatch_u"));
}

TEST(KpatchCliSysfs, UnloadStuckTransitionTimesOutWithoutRemoving) {
    FakeTree t;
    // Being patched and stuck; unload reverses the transition, which stays stuck
    // (the kernel flips transition synchronously inside the write to enabled).
    t.add_patch("livepatch_s", true, true, {});
    t.add_task(99, "blocker", 1); // still patched: blocks unpatching
    FakeOps ops(t);
    try {
        unload_patch(t.env, "livepatch_s", ops, fast(200ms));
        FAIL() << "unload returned although the transition never finished";
    } catch (const kpp::Refusal &e) {
        EXPECT_NE(std::string(e.what()).find("unpatching not finished"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("1 task(s) not yet unpatched"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(FakeTree::get(t.patch("livepatch_s") / "enabled"), "0");
    EXPECT_TRUE(ops.removed.empty());
}

TEST(KpatchCliSysfs, UnloadOfDisabledPatchDoesNotWriteEnabledAndUnknownNameFails) {
    FakeTree t;
    // Already disabled and freed, module still there: just remove it.
    fs::create_directories(t.root / "sys/module/livepatch_d");
    FakeOps ops(t);
    unload_patch(t.env, "livepatch_d", ops, fast(1s));
    EXPECT_EQ(ops.removed, std::vector<std::string>{"livepatch_d"});
    EXPECT_THROW(unload_patch(t.env, "livepatch_none", ops, fast(1s)), kpp::Error);
    // A remove error other than "busy" is reported at once.
    fs::create_directories(t.root / "sys/module/livepatch_e");
    struct FailOps : ModuleOps {
        void insert(const std::string &) override {}
        int remove(const std::string &) override { return -EPERM; }
    } fail;
    EXPECT_THROW(unload_patch(t.env, "livepatch_e", fail, fast(1s)), kpp::Error);
}

TEST(KpatchCliSysfs, LoadInsertsThenWaitsForTheTransition) {
    FakeTree t;
    std::string ko = (t.root / "livepatch_l.ko").string();
    kpp_cli_test::write_patch_module(
        ko, "name=livepatch_l\0vermagic=6.1.192 SMP mod_unload \0livepatch=Y"s,
        {{"meminfo_proc_show", "vmlinux", 0, 100}});
    FakeOps ops(t);
    std::thread kernel;
    ops.on_insert = [&](const std::string &) {
        t.add_patch("livepatch_l", true, true, {{"vmlinux", "meminfo_proc_show,1"}});
        kernel = std::thread([&] {
            std::this_thread::sleep_for(80ms);
            FakeTree::put(t.patch("livepatch_l") / "transition", "0\n");
        });
    };
    auto res = load_patch(t.env, ko, ops, fast(5s));
    kernel.join();
    EXPECT_EQ(res.name, "livepatch_l");
    EXPECT_EQ(ops.inserted, std::vector<std::string>{ko});
    EXPECT_GE(res.took, 80ms);
    // Loading it again is refused before inserting.
    EXPECT_THROW(load_patch(t.env, ko, ops, fast(1s)), kpp::Refusal);
    EXPECT_EQ(ops.inserted.size(), 1u);
}

TEST(KpatchCliSysfs, LoadRefusesNonLivepatchAndOtherKernelsAndTimesOut) {
    FakeTree t;
    FakeOps ops(t);
    std::string plain = (t.root / "binfmt_misc.ko").string();
    kpp_cli_test::write_patch_module(plain, "name=binfmt_misc\0vermagic=6.1.192 SMP mod_unload "s,
                                     {});
    try {
        load_patch(t.env, plain, ops, fast(1s));
        FAIL();
    } catch (const kpp::Refusal &e) {
        EXPECT_NE(std::string(e.what()).find("binfmt_misc is not a livepatch module"),
                  std::string::npos)
            << e.what();
    }
    std::string other = (t.root / "livepatch_o.ko").string();
    kpp_cli_test::write_patch_module(other, "name=livepatch_o\0vermagic=6.1.100 SMP \0livepatch=Y"s,
                                     {});
    try {
        load_patch(t.env, other, ops, fast(1s));
        FAIL();
    } catch (const kpp::Refusal &e) {
        EXPECT_NE(std::string(e.what()).find("built for kernel 6.1.100, not 6.1.192"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(ops.inserted.empty());
    EXPECT_THROW(load_patch(t.env, "livepatch_missing", ops, fast(1s)), kpp::Error);

    // A transition that never finishes.
    std::string stuck = (t.root / "livepatch_t.ko").string();
    kpp_cli_test::write_patch_module(stuck, "name=livepatch_t\0vermagic=6.1.192 SMP \0livepatch=Y"s,
                                     {});
    ops.on_insert = [&](const std::string &) { t.add_patch("livepatch_t", true, true, {}); };
    t.add_task(3, "blocker", 0);
    try {
        load_patch(t.env, stuck, ops, fast(100ms));
        FAIL();
    } catch (const kpp::Refusal &e) {
        EXPECT_NE(std::string(e.what()).find("1 task(s) not yet patched"), std::string::npos)
            << e.what();
    }
}

} // namespace
