#include "testing/compile.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char **environ;

namespace kpp::testing {

const std::vector<std::string> kKernelFlags = {
    "-O2",
    "-ffunction-sections",
    "-fdata-sections",
    "-mfentry",
    "-mrecord-mcount",
    "-pg",
    "-fno-pic",
    "-mcmodel=kernel",
    "-mno-red-zone",
    "-fno-asynchronous-unwind-tables",
    "-fno-common",
};

const std::vector<std::string> kAarch64KernelFlags = {
    "-O2",
    "-ffunction-sections",
    "-fdata-sections",
    "-fpatchable-function-entry=2",
    "-mgeneral-regs-only",
    "-mabi=lp64",
    "-mbranch-protection=pac-ret+leaf", // 6.1 turns BTI off for gcc (ARM64_BTI_KERNEL)
    "-fno-pic",
    "-mcmodel=small",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fno-common",
    "-fno-strict-aliasing",
    "-fno-omit-frame-pointer",
    "-fno-optimize-sibling-calls",
};

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kpp-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (std::getenv("KPP_TEST_KEEP"))
        return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path &path, const std::string &text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

namespace {

RunResult run_in(const std::vector<std::string> &argv, const std::filesystem::path *cwd) {
    char out_tmpl[] = "/tmp/kpp-run-out-XXXXXX";
    char err_tmpl[] = "/tmp/kpp-run-err-XXXXXX";
    int out_fd = mkstemp(out_tmpl), err_fd = mkstemp(err_tmpl);
    if (out_fd < 0 || err_fd < 0)
        throw std::runtime_error("mkstemp failed");
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        if (cwd && chdir(cwd->c_str()) != 0)
            _exit(126);
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0) {
    }
    close(out_fd);
    close(err_fd);
    RunResult r;
    r.exited = WIFEXITED(wstatus);
    r.status = r.exited ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus);
    r.out = read_file(out_tmpl);
    r.err = read_file(err_tmpl);
    unlink(out_tmpl);
    unlink(err_tmpl);
    return r;
}

} // namespace

RunResult run(const std::vector<std::string> &argv) {
    return run_in(argv, nullptr);
}

std::filesystem::path compile(const TempDir &dir, const std::string &subdir,
                              const std::string &name, const std::string &source,
                              const std::vector<std::string> &extra,
                              const std::vector<std::string> *flags, const std::string &compiler) {
    std::filesystem::path where = dir / subdir;
    write_file(where / (name + ".c"), source);
    std::vector<std::string> argv = {compiler, "-c"};
    for (const auto &f : flags ? *flags : kKernelFlags)
        argv.push_back(f);
    for (const auto &f : extra)
        argv.push_back(f);
    argv.insert(argv.end(), {name + ".c", "-o", name + ".o"});
    RunResult r = run_in(argv, &where);
    if (!r.exited || r.status != 0)
        throw std::runtime_error(compiler + " failed on " + (where / (name + ".c")).string() +
                                 ":\n" + r.err);
    return where / (name + ".o");
}

std::filesystem::path link_static(const TempDir &dir, const std::string &subdir,
                                  const std::string &out,
                                  const std::vector<std::pair<std::string, std::string>> &sources,
                                  const std::vector<std::string> &extra,
                                  const std::string &compiler) {
    std::filesystem::path where = dir / subdir;
    std::vector<std::string> argv = {compiler,       "-nostdlib",           "-static", "-no-pie",
                                     "-Wl,-e,_text", "-Wl,--build-id=none", "-o",      out};
    for (const auto &[name, text] : sources) {
        // No executable stack: keeps ld from warning about it.
        write_file(where / (name + ".S"), text + "\n\t.section .note.GNU-stack,\"\",%progbits\n");
        argv.push_back(name + ".S");
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult r = run_in(argv, &where);
    if (!r.exited || r.status != 0)
        throw std::runtime_error(compiler + " failed linking " + (where / out).string() + ":\n" +
                                 r.err);
    return where / out;
}

std::filesystem::path symtab_of(const TempDir &dir, const std::filesystem::path &obj,
                                const std::string &name) {
    RunResult r = run({"readelf", "-s", "--wide", obj.string()});
    if (!r.exited || r.status != 0)
        throw std::runtime_error("readelf failed on " + obj.string() + ": " + r.err);
    std::filesystem::path out = dir / name;
    write_file(out, r.out);
    return out;
}

} // namespace kpp::testing
