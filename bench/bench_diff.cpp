// bench_diff: times create-diff-object over the corpus pairs and over
// self-diffs of large objects, reporting wall time and the child's peak RSS.
//
//   bench_diff [--pairs DIR]... [--repeat N] TOOL CORPUS_DIR [LARGE.o ...]
//
// The parent SYMTAB for each corpus/self-diff run is `readelf -s --wide ORIG`
// (made before the timer starts), SYMVERS /dev/null, struct sizes as the
// corpus gives.
//
// --pairs DIR: a directory made by bench/build-bench-objects.sh (CHANGES lists
// NAME, the function changed, the file). Each NAME.ORIG.o/NAME.PATCHED.o pair
// is diffed N times (--repeat, default 3) the way kpatch-build would: PARENT
// vmlinux, SYMTAB DIR/vmlinux (the ELF), SYMVERS DIR/Module.symvers, struct
// sizes from `--vmlinux DIR/vmlinux`; then again with SYMTAB `readelf -s
// --wide ORIG` (made before the timer), as the self-diffs use. Reported: median wall time and peak
// RSS, section counts, and the changed/new functions create-diff-object printed, checked against
// CHANGES (only the changed function and its .cold/.part pieces may appear) and across the runs
// (same functions, same output bytes).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Run {
    int status = -1;
    bool exited = false;
    double seconds = 0;
    long max_rss_kb = 0;
};

Run spawn(const std::vector<std::string> &argv, const fs::path &out, const fs::path &err,
          const std::vector<std::string> &env = {}) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        for (const auto &kv : env)
            putenv(const_cast<char *>(kv.c_str()));
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    int wstatus = 0;
    struct rusage ru {};
    wait4(pid, &wstatus, 0, &ru);
    Run r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.exited = WIFEXITED(wstatus);
    r.status = r.exited ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus);
    r.max_rss_kb = ru.ru_maxrss;
    return r;
}

const std::vector<std::string> kSizes = {
    "PARA_STRUCT_SIZE=16",       "EX_STRUCT_SIZE=12",          "BUG_STRUCT_SIZE=12",
    "ALT_STRUCT_SIZE=13",        "JUMP_STRUCT_SIZE=24",        "ORC_STRUCT_SIZE=6",
    "STATIC_CALL_STRUCT_SIZE=8", "PRINTK_INDEX_STRUCT_SIZE=44"};

std::string slurp(const fs::path &p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path make_symtab(const fs::path &work, const fs::path &obj) {
    fs::path symtab = work / "symtab";
    Run r = spawn({"readelf", "-s", "--wide", obj.string()}, symtab, work / "readelf.err");
    if (!r.exited || r.status != 0)
        std::cerr << "readelf failed on " << obj << '\n';
    return symtab;
}

Run diff_pair(const std::string &tool, const fs::path &work, const fs::path &orig,
              const fs::path &patched, const std::string &name, const fs::path &symtab,
              const std::vector<std::string> &env) {
    fs::remove(work / "out.o");
    return spawn({tool, orig.string(), patched.string(), "vmlinux", symtab.string(), "/dev/null",
                  "test_" + name, (work / "out.o").string()},
                 work / "stdout", work / "stderr", env);
}

size_t section_count(const fs::path &obj, const fs::path &work) {
    spawn({"readelf", "-h", "-W", obj.string()}, work / "hdr", work / "hdr.err");
    std::string text = slurp(work / "hdr");
    auto at = text.find("Number of section headers:");
    return at == std::string::npos ? 0 : std::stoul(text.substr(at + 26));
}

std::string median_of(std::vector<double> v, double *out) {
    std::sort(v.begin(), v.end());
    *out = v.empty() ? 0 : v[v.size() / 2];
    std::string all;
    for (double x : v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.2f", all.empty() ? "" : " ", x);
        all += buf;
    }
    return all;
}

// "OBJ: changed function: NAME" / "OBJ: new function: NAME" lines of stdout.
std::vector<std::string> reported_functions(const std::string &out) {
    std::vector<std::string> funcs;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        for (const char *tag : {": changed function: ", ": new function: "}) {
            auto at = line.find(tag);
            if (at != std::string::npos)
                funcs.push_back(std::string(tag[2] == 'c' ? "changed " : "new ") +
                                line.substr(at + std::strlen(tag)));
        }
    }
    return funcs;
}

// Every reported function is WANT or a piece of it (WANT.cold, WANT.part.0, ...)
// and WANT itself is reported as changed.
bool functions_match(const std::vector<std::string> &funcs, const std::string &want) {
    bool seen = false;
    for (const auto &f : funcs) {
        std::string name = f.substr(f.find(' ') + 1);
        if (name == want && f.rfind("changed ", 0) == 0)
            seen = true;
        else if (name.rfind(want + ".", 0) != 0)
            return false;
    }
    return seen;
}

int bench_pairs(const std::string &tool, const fs::path &dir, int repeat, const fs::path &work) {
    std::ifstream changes(dir / "CHANGES");
    if (!changes) {
        std::printf("%s: no CHANGES (run bench/build-bench-objects.sh); skipped\n", dir.c_str());
        return 0;
    }
    int rc = 0;
    fs::path parent = dir / "vmlinux", symvers = dir / "Module.symvers";
    for (std::string line; std::getline(changes, line);) {
        std::istringstream fields(line);
        std::string name, want, file;
        std::getline(fields, name, '\t');
        std::getline(fields, want, '\t');
        std::getline(fields, file, '\t');
        fs::path orig = dir / (name + ".ORIG.o"), patched = dir / (name + ".PATCHED.o");
        if (name.empty() || !fs::exists(orig) || !fs::exists(patched))
            continue;
        // The parent vmlinux ELF, as kpatch-build passes it; and, for
        // comparison, `readelf -s --wide ORIG` (how the self-diffs run).
        fs::path orig_symtab = make_symtab(work, orig);
        for (auto [label, symtab] : {std::pair<const char *, fs::path>{"vmlinux", parent},
                                     {"readelf-ORIG", orig_symtab}}) {
            std::vector<double> secs, rss;
            std::vector<std::string> first_funcs;
            std::string first_out, problems, stderr_text;
            int status = 0;
            for (int i = 0; i < repeat; i++) {
                fs::remove(work / "out.o");
                Run r = spawn({tool, "--vmlinux", parent.string(), orig.string(), patched.string(),
                               "vmlinux", symtab.string(), symvers.string(), "test_bench_" + name,
                               (work / "out.o").string()},
                              work / "stdout", work / "stderr");
                secs.push_back(r.seconds);
                rss.push_back(r.max_rss_kb / 1024.0);
                if (!r.exited) {
                    problems += " killed by signal " + std::to_string(r.status) + ";";
                    break;
                }
                status = r.status;
                auto funcs = reported_functions(slurp(work / "stdout"));
                std::string out = slurp(work / "out.o");
                if (i == 0) {
                    first_funcs = funcs;
                    first_out = out;
                    stderr_text = slurp(work / "stderr");
                } else {
                    if (funcs != first_funcs)
                        problems += " run " + std::to_string(i + 1) + " reported other functions;";
                    if (out != first_out)
                        problems += " run " + std::to_string(i + 1) + " wrote a different output;";
                }
            }
            if (status != 0)
                problems += " exit " + std::to_string(status) + ";";
            if (!functions_match(first_funcs, want))
                problems += " expected only " + want + ";";
            double s_med, rss_med;
            std::string s_all = median_of(secs, &s_med), rss_all = median_of(rss, &rss_med);
            std::string found;
            for (const auto &f : first_funcs)
                found += (found.empty() ? "" : ", ") + f;
            std::printf("%s.o pair (%s, %s), SYMTAB %s: %zu sections (patched %zu)\n"
                        "  median %.2f s (runs: %s), median peak RSS %.1f MB (runs: %s)\n"
                        "  functions: %s -> %s\n",
                        name.c_str(), file.c_str(), want.c_str(), label, section_count(orig, work),
                        section_count(patched, work), s_med, s_all.c_str(), rss_med,
                        rss_all.c_str(), found.empty() ? "(none)" : found.c_str(),
                        problems.empty() ? "ok" : ("PROBLEM:" + problems).c_str());
            if (!problems.empty() && !stderr_text.empty())
                std::printf("  stderr: %s", stderr_text.c_str());
            rc |= !problems.empty();
        }
    }
    return rc;
}

} // namespace

int main(int argc, char **argv) {
    std::vector<fs::path> pair_dirs;
    int repeat = 3;
    int first = 1;
    for (; first + 1 < argc; first += 2) {
        std::string opt = argv[first];
        if (opt == "--pairs")
            pair_dirs.emplace_back(argv[first + 1]);
        else if (opt == "--repeat")
            repeat = std::max(1, std::atoi(argv[first + 1]));
        else
            break;
    }
    argc -= first - 1;
    argv += first - 1;
    if (argc < 3) {
        std::cerr
            << "usage: bench_diff [--pairs DIR]... [--repeat N] TOOL CORPUS_DIR [LARGE.o ...]\n";
        return 2;
    }
    std::string tool = argv[1];
    fs::path corpus = argv[2];
    char tmpl[] = "/tmp/kpp-bench-XXXXXX";
    fs::path work = mkdtemp(tmpl);
    int rc = 0;

    std::ifstream expect(corpus / "EXPECT.tsv");
    if (!expect) {
        std::cerr << "corpus: no " << (corpus / "EXPECT.tsv") << "; skipped\n";
    } else {
        size_t pairs = 0, crashed = 0;
        double total = 0;
        long peak = 0;
        std::string slowest;
        double slowest_s = 0;
        for (std::string line; std::getline(expect, line);) {
            std::istringstream fields(line);
            std::string pair, exp, env, check;
            std::getline(fields, pair, '\t');
            std::getline(fields, exp, '\t');
            std::getline(fields, env, '\t');
            fs::path orig = corpus / (pair + ".ORIG.o");
            fs::path patched = corpus / (pair + (exp == "fail" ? ".PATCHED.FAIL.o" : ".PATCHED.o"));
            if (pair.empty() || !fs::exists(orig) || !fs::exists(patched))
                continue;
            std::vector<std::string> vars = kSizes;
            std::istringstream extra(env);
            for (std::string kv; extra >> kv;)
                if (kv != "-")
                    vars.push_back(kv);
            std::string name = pair;
            for (char &c : name)
                if (!isalnum(static_cast<unsigned char>(c)))
                    c = '_';
            fs::path symtab = make_symtab(work, orig);
            Run r = diff_pair(tool, work, orig, patched, name, symtab, vars);
            pairs++;
            crashed += !r.exited;
            total += r.seconds;
            peak = std::max(peak, r.max_rss_kb);
            if (r.seconds > slowest_s) {
                slowest_s = r.seconds;
                slowest = pair;
            }
        }
        std::printf("corpus: %zu pairs, %.2f s total, slowest %s %.3f s, peak RSS %.1f MB%s\n",
                    pairs, total, slowest.c_str(), slowest_s, peak / 1024.0,
                    crashed ? " (SOME CRASHED)" : "");
        rc |= crashed != 0;
    }

    for (int i = 3; i < argc; i++) {
        fs::path obj = argv[i];
        if (!fs::exists(obj)) {
            std::printf("%s: not found, skipped\n", obj.c_str());
            continue;
        }
        fs::path symtab = make_symtab(work, obj);
        Run r = diff_pair(tool, work, obj, obj, "self", symtab, kSizes);
        std::string verdict = !r.exited       ? "killed by signal " + std::to_string(r.status)
                              : r.status == 3 ? "no change"
                                              : "exit " + std::to_string(r.status);
        std::string err = slurp(work / "stderr");
        std::printf("%s self-diff: %zu sections, %.2f s, peak RSS %.1f MB, %s\n",
                    obj.filename().c_str(), section_count(obj, work), r.seconds,
                    r.max_rss_kb / 1024.0, verdict.c_str());
        if (!err.empty())
            std::printf("  stderr: %s", err.c_str());
        rc |= !r.exited || r.status != 3;
    }
    for (const auto &dir : pair_dirs)
        rc |= bench_pairs(tool, dir, repeat, work);
    fs::remove_all(work);
    return rc;
}
