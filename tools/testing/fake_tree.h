// Shared by the kpatch CLI unit tests: a fake /sys + /proc tree in a
// temporary directory, and a livepatch module written with the ELF model.
#pragma once

#include "libkpp/elf/object.h"
#include "tools/kpatch_cli.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kpp_cli_test {

namespace fs = std::filesystem;

struct FakeTree {
    fs::path root;
    kpp::cli::Env env;

    FakeTree() {
        char tmpl[] = "/tmp/kpatch-cli-test.XXXXXX";
        root = mkdtemp(tmpl);
        env.sysfs_root = (root / "sys").string();
        env.proc_root = (root / "proc").string();
        env.prefix = (root / "prefix").string();
        env.release = "6.1.192";
        fs::create_directories(root / "sys/kernel/livepatch");
        fs::create_directories(root / "sys/module");
        fs::create_directories(root / "proc");
    }
    ~FakeTree() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    FakeTree(const FakeTree &) = delete;
    FakeTree &operator=(const FakeTree &) = delete;

    // Atomic, like a sysfs attribute: a reader polling from another thread
    // (the kernel finishing a transition in a test) never sees it empty.
    static void put(const fs::path &file, const std::string &text) {
        fs::create_directories(file.parent_path());
        fs::path tmp = file;
        tmp += ".tmp";
        std::ofstream(tmp, std::ios::trunc) << text;
        fs::rename(tmp, file);
    }
    static std::string get(const fs::path &file) {
        std::ifstream in(file);
        std::string s;
        std::getline(in, s);
        return s;
    }

    fs::path patch(const std::string &name) const { return root / "sys/kernel/livepatch" / name; }

    // A loaded patch as 6.1 shows it, with its module in /sys/module.
    void add_patch(const std::string &name, bool enabled, bool transition,
                   const std::vector<std::pair<std::string, std::string>> &funcs) {
        put(patch(name) / "enabled", enabled ? "1\n" : "0\n");
        put(patch(name) / "transition", transition ? "1\n" : "0\n");
        put(patch(name) / "force", "");
        for (const auto &[obj, fn] : funcs) {
            put(patch(name) / obj / "patched", "1\n");
            fs::create_directories(patch(name) / obj / fn);
        }
        fs::create_directories(root / "sys/module" / name);
    }

    void add_task(int pid, const std::string &comm, int state) {
        fs::path d = root / "proc" / std::to_string(pid);
        put(d / "patch_state", std::to_string(state) + "\n");
        put(d / "comm", comm + "\n");
        put(d / "stack", "[<0>] do_wait+0x1/0x2\n[<0>] kernel_wait4+0x3/0x4\n");
    }
};

// A relocatable object shaped like a kpatch++ patch module: .modinfo and a
// .kpatchpp.funcs table whose names point into .kpatchpp.strings.
struct FakeFunc {
    std::string name, objname;
    uint64_t sympos, new_size;
};
inline void write_patch_module(const std::string &path, const std::string &modinfo,
                               const std::vector<FakeFunc> &funcs) {
    using namespace kpp::elf;
    Object obj;
    obj.path = path;
    obj.symbols.push_back(std::make_unique<Symbol>());
    obj.sections.push_back(std::make_unique<Section>());
    Section *text = obj.add_section(".text.new", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16);
    text->data.assign(64, 0x90);
    Section *strings = obj.add_section(".kpatchpp.strings", SHT_PROGBITS, SHF_ALLOC, 1);
    Section *table =
        funcs.empty() ? nullptr
                      : obj.add_section(".kpatchpp.funcs", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
    Section *mi = obj.add_section(".modinfo", SHT_PROGBITS, SHF_ALLOC, 1);
    mi->data.assign(modinfo.begin(), modinfo.end());
    mi->data.push_back(0);
    Symbol *strsym = obj.add_symbol("", STB_LOCAL, STT_SECTION, strings, 0, 0);
    Symbol *fn = obj.add_symbol("new_fn", STB_LOCAL, STT_FUNC, text, 0, 64);
    auto add_string = [&](const std::string &s) {
        uint64_t at = strings->data.size();
        strings->data.insert(strings->data.end(), s.begin(), s.end());
        strings->data.push_back(0);
        return static_cast<int64_t>(at);
    };
    auto put64 = [](Section *s, uint64_t off, uint64_t v) {
        std::memcpy(s->data.data() + off, &v, 8);
    };
    for (const auto &f : funcs) {
        uint64_t e = table->data.size();
        table->data.resize(e + 48, 0);
        put64(table, e + 8, f.new_size + 1);
        put64(table, e + 16, f.new_size);
        put64(table, e + 24, f.sympos);
        auto &relocs = obj.rela_for(table)->relocs;
        relocs.push_back({e, R_X86_64_64, 0, fn});
        relocs.push_back({e + 32, R_X86_64_64, add_string(f.name), strsym});
        relocs.push_back({e + 40, R_X86_64_64, add_string(f.objname), strsym});
    }
    obj.write(path);
}

} // namespace kpp_cli_test
