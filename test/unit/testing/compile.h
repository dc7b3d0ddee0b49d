// Test helpers: compile C snippets with the kernel's code-generation flags
// at test time, run external tools and capture their output.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kpp::testing {

// The flags that make gcc lay out code as a kernel build with
// CONFIG_FUNCTION_TRACER and kpatch's -ffunction/-fdata-sections does.
// (-mfentry needs -pg; gcc 12 accepts all of these together.)
extern const std::vector<std::string> kKernelFlags;

// The same for arm64 (arch/arm64/Makefile of 6.1 with ftrace and pointer
// authentication, as Debian's arm64 kernel is built), compiled by
// kAarch64Compiler (gcc-aarch64-linux-gnu).
extern const std::vector<std::string> kAarch64KernelFlags;
inline constexpr const char *kAarch64Compiler = "aarch64-linux-gnu-gcc";

// A fresh directory under $TMPDIR, removed with everything in it on
// destruction (unless KPP_TEST_KEEP is set, to look at failures).
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

struct RunResult {
    bool exited = false; // false: killed by a signal
    int status = -1;     // exit status when exited, signal number otherwise
    std::string out, err;
};

// Runs argv (argv[0] looked up in PATH) with stdout and stderr captured.
RunResult run(const std::vector<std::string> &argv);

// Writes `source` to DIR/SUBDIR/NAME.c and compiles it, inside DIR/SUBDIR so
// that the FILE symbol is just "NAME.c" whatever the directory: two builds
// of the same file into different SUBDIRs correlate. Returns the .o path.
// `flags` replaces kKernelFlags when given; `extra` is appended; `compiler`
// is the gcc to run (a cross compiler for another architecture's objects).
// Throws std::runtime_error with gcc's messages on failure.
std::filesystem::path compile(const TempDir &dir, const std::string &subdir,
                              const std::string &name, const std::string &source,
                              const std::vector<std::string> &extra = {},
                              const std::vector<std::string> *flags = nullptr,
                              const std::string &compiler = "gcc");

// Assembles each (NAME, TEXT) of `sources` as DIR/SUBDIR/NAME.S and links
// them statically without libc (entry `_text`, no PIE) into DIR/SUBDIR/OUT:
// an executable with fixed addresses, the stand-in for a vmlinux. `extra`
// is passed to the link (e.g. -Wl,--emit-relocs); `compiler` is the gcc
// that assembles and links (kAarch64Compiler for an arm64 stand-in).
// Returns OUT's path. Throws std::runtime_error with gcc's messages on
// failure.
std::filesystem::path link_static(const TempDir &dir, const std::string &subdir,
                                  const std::string &out,
                                  const std::vector<std::pair<std::string, std::string>> &sources,
                                  const std::vector<std::string> &extra = {},
                                  const std::string &compiler = "gcc");

// `readelf -s --wide OBJ` written to DIR/NAME: the parent SYMTAB the corpus
// uses for a vmlinux made of just this object.
std::filesystem::path symtab_of(const TempDir &dir, const std::filesystem::path &obj,
                                const std::string &name = "symtab");

std::string read_file(const std::filesystem::path &path);
void write_file(const std::filesystem::path &path, const std::string &text);

} // namespace kpp::testing
