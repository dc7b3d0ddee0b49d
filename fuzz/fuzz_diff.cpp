// fuzz_diff: a whole create-diff-object run on a mutated pair.
//
// The input is one selector byte and one object file. The selector picks a
// pair (low 7 bits, modulo the number of pairs) and which side the input
// stands for (bit 7 clear: the input is PATCHED and the pair's ORIG.o is the
// original; set: the input is ORIG and the pair's PATCHED.o the patched
// one). The run gets what the corpus tests give it: the struct sizes they
// give the pair's machine with the pair's overrides, `readelf -s --wide` of ORIG.o as
// the parent's symbols, /dev/null as Module.symvers.
//
// diff_objects() must write an object or throw kpp::Error (a refusal, bad
// input). An object it writes must read again. Anything else (a crash, a
// sanitizer report, any other exception) is a finding.
//
// The pairs are the rows of the EXPECT.tsv of each folder of $KPP_FUZZ_PAIRS
// (folders separated by ':'), in that order: scripts/test-hardening.sh puts
// the kernel object corpus first, when there is one, so that a selector
// keeps naming the same corpus pair whatever else is added, then the pairs
// fuzz/make-pairs.sh builds. Without $KPP_FUZZ_PAIRS: the corpus beside the
// source tree (../shared/corpus/kpatch-unit-objs/x86_64). The seeds are the
// selector byte followed by one side of a pair.
#include "common.h"
#include "create-diff-object/diff.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

namespace fs = std::filesystem;
using kpp::diff::StructSizes;

namespace {

struct Pair {
    std::string name;
    std::string orig;    // path of NAME.ORIG.o
    std::string patched; // path of NAME.PATCHED.o (or PATCHED.FAIL.o)
    std::string symtab;  // readelf -s --wide of ORIG.o, in the scratch folder
    StructSizes sizes;
};

std::vector<Pair> g_pairs;

std::vector<fs::path> pair_dirs() {
    std::vector<fs::path> dirs;
    const char *env = std::getenv("KPP_FUZZ_PAIRS");
    if (!env || !*env) {
        dirs.push_back(fs::path(KPP_SOURCE_ROOT) / ".." / "shared" / "corpus" / "kpatch-unit-objs" /
                       "x86_64");
        return dirs;
    }
    std::istringstream list(env);
    for (std::string dir; std::getline(list, dir, ':');)
        if (!dir.empty())
            dirs.push_back(dir);
    return dirs;
}

[[noreturn]] void setup_failed(const std::string &why) {
    std::fprintf(stderr, "fuzz_diff: %s\n", why.c_str());
    std::exit(2);
}

void set_size(StructSizes &sizes, const std::string &assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos)
        setup_failed("bad struct size " + assignment + " in EXPECT.tsv");
    std::string key = assignment.substr(0, eq);
    size_t value = std::stoul(assignment.substr(eq + 1));
    struct {
        const char *key;
        std::optional<size_t> StructSizes::*field;
    } const fields[] = {
        {"BUG_STRUCT_SIZE", &StructSizes::bug},
        {"JUMP_STRUCT_SIZE", &StructSizes::jump},
        {"ALT_STRUCT_SIZE", &StructSizes::alt},
        {"EX_STRUCT_SIZE", &StructSizes::ex},
        {"PARA_STRUCT_SIZE", &StructSizes::para},
        {"ORC_STRUCT_SIZE", &StructSizes::orc},
        {"STATIC_CALL_STRUCT_SIZE", &StructSizes::static_call},
        {"PRINTK_INDEX_STRUCT_SIZE", &StructSizes::printk_index},
    };
    for (const auto &f : fields)
        if (key == f.key) {
            sizes.*f.field = value;
            return;
        }
    setup_failed("unknown struct size " + key + " in EXPECT.tsv");
}

// The sizes test/corpus gives a pair of the machine its ORIG.o is built for
// (run-pair.sh's for x86_64, test/corpus/CMakeLists.txt's for arm64), then
// the pair's own from the env column.
StructSizes sizes_for(const std::string &orig, const std::string &env_column) {
    static const std::initializer_list<const char *> x86_64 = {
        "PARA_STRUCT_SIZE=16",       "EX_STRUCT_SIZE=12",          "BUG_STRUCT_SIZE=12",
        "ALT_STRUCT_SIZE=13",        "JUMP_STRUCT_SIZE=24",        "ORC_STRUCT_SIZE=6",
        "STATIC_CALL_STRUCT_SIZE=8", "PRINTK_INDEX_STRUCT_SIZE=44"};
    static const std::initializer_list<const char *> aarch64 = {
        "ALT_STRUCT_SIZE=12", "BUG_STRUCT_SIZE=12", "EX_STRUCT_SIZE=12", "JUMP_STRUCT_SIZE=16",
        "PRINTK_INDEX_STRUCT_SIZE=44"};
    uint16_t machine = EM_X86_64;
    try {
        machine = kpp::elf::Object::read_symbols(orig)->machine;
    } catch (const kpp::Error &e) {
        setup_failed(e.what());
    }
    StructSizes sizes;
    for (const char *a : machine == EM_AARCH64 ? aarch64 : x86_64)
        set_size(sizes, a);
    if (env_column != "-") {
        std::istringstream words(env_column);
        for (std::string w; words >> w;)
            set_size(sizes, w);
    }
    return sizes;
}

void write_symtab(const std::string &orig, const std::string &out) {
    // As run-pair.sh and kpatch-build print the parent's symbol table.
    std::string cmd =
        fmt::format("readelf -s --wide '{}' | sed 's/\\[<localentry>: 8\\]//' >'{}'", orig, out);
    if (std::system(cmd.c_str()) != 0)
        setup_failed("cannot run readelf on " + orig);
}

void load_pairs_of(const fs::path &dir) {
    std::ifstream expect(dir / "EXPECT.tsv");
    if (!expect)
        setup_failed("no object pairs at " + dir.string() +
                     " (EXPECT.tsv missing): set KPP_FUZZ_PAIRS to folders of pairs");
    // Rows in file order: the selector byte of a seed indexes this list.
    for (std::string line; std::getline(expect, line);) {
        if (line.empty() || line[0] == '#')
            continue;
        std::vector<std::string> cols;
        std::istringstream row(line);
        for (std::string col; std::getline(row, col, '\t');)
            cols.push_back(col);
        if (cols.size() < 3)
            setup_failed("short row in " + (dir / "EXPECT.tsv").string() + ": " + line);
        Pair p;
        p.name = cols[0];
        p.orig = (dir / (p.name + ".ORIG.o")).string();
        p.patched =
            (dir / (p.name + (cols[1] == "fail" ? ".PATCHED.FAIL.o" : ".PATCHED.o"))).string();
        p.symtab = kpp::fuzz::scratch_dir() + "/" + std::to_string(g_pairs.size()) + ".symtab";
        p.sizes = sizes_for(p.orig, cols[2]);
        write_symtab(p.orig, p.symtab);
        g_pairs.push_back(std::move(p));
    }
}

void load_pairs() {
    for (const fs::path &dir : pair_dirs())
        load_pairs_of(dir);
    if (g_pairs.empty())
        setup_failed("no object pairs: the EXPECT.tsv files of KPP_FUZZ_PAIRS list none");
    // The selector's 7 bits could not reach a pair past the 128th.
    if (g_pairs.size() > 128)
        setup_failed(fmt::format("{} object pairs, more than a selector byte can name (128)",
                                 g_pairs.size()));
}

void run(const uint8_t *data, size_t size) {
    if (size < 1)
        return;
    const Pair &pair = g_pairs[(data[0] & 0x7f) % g_pairs.size()];
    bool input_is_orig = (data[0] & 0x80) != 0;
    const std::string &dir = kpp::fuzz::scratch_dir();
    // The diff reports the original object's file name; keep the corpus'.
    std::string input = dir + "/" + pair.name + (input_is_orig ? ".ORIG.o" : ".PATCHED.o");
    kpp::fuzz::write_file(input, data + 1, size - 1);

    kpp::diff::Options options;
    options.orig_path = input_is_orig ? input : pair.orig;
    options.patched_path = input_is_orig ? pair.patched : input;
    options.parent_name = "vmlinux";
    options.parent_symtab = pair.symtab;
    options.symvers_path = "/dev/null";
    options.patch_name = "fuzz_patch";
    options.output_path = dir + "/output.o";
    options.sizes = pair.sizes;
    fs::remove(options.output_path);

    kpp::diff::Result result;
    try {
        result = kpp::diff::diff_objects(options);
    } catch (const kpp::Error &) {
        return; // refused or bad input, with a message: the expected outcome
    }
    if (!result.changed)
        return;
    try {
        kpp::elf::Object::read(options.output_path);
    } catch (const kpp::Error &e) {
        kpp::fuzz::finding(
            fmt::format("diff of {} wrote an object that does not read: {}", pair.name, e.what()));
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    load_pairs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        run(data, size);
    } catch (const std::exception &e) {
        kpp::fuzz::finding(fmt::format("uncaught {}: {}", typeid(e).name(), e.what()));
    } catch (...) {
        kpp::fuzz::finding("uncaught exception of unknown type");
    }
    return 0;
}
