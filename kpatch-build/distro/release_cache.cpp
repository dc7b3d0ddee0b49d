#include "kpatch-build/distro/release_cache.h"

#include "kpatch-build/kbuild/compile_units.h"
#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/cross_build.h"
#include "kpatch-build/kbuild/object_build.h"
#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/util/command.h"
#include "kpatch-build/util/interrupt.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <chrono>
#include <cstdlib>
#include <future>
#include <set>
#include <sstream>
#include <unistd.h>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

struct Layout {
    fs::path releases; // CACHE/releases
    fs::path link;     // CACHE/releases/REL
};

PreparedRelease describe(const fs::path &dir, const distro::StockKernel &kernel) {
    PreparedRelease prepared;
    prepared.dir = dir;
    prepared.tree = dir / "tree";
    prepared.units = dir / "units.tsv";
    prepared.header_deps = dir / "header-deps.txt";
    prepared.make_variables = cross_make_variables(read_text_file_or_empty(kernel.config),
                                                   kernel.release, host_machine());
    prepared.make_variables.push_back("KERNELRELEASE=" + kernel.release);
    return prepared;
}

// The published directory, if it is complete and for this very build.
std::optional<fs::path> published(const Layout &layout, const distro::StockKernel &kernel) {
    std::error_code ec;
    fs::path dir = fs::canonical(layout.link, ec);
    if (ec || read_text_file_or_empty(dir / "release.txt") != release_stamp(kernel))
        return std::nullopt;
    return dir;
}

std::vector<std::string> make(const fs::path &tree, unsigned jobs,
                              const std::vector<std::string> &variables,
                              std::initializer_list<std::string> goals) {
    std::vector<std::string> argv = {"make", "-C", tree.string(), fmt::format("-j{}", jobs)};
    argv.insert(argv.end(), variables.begin(), variables.end());
    argv.push_back("CC=" + compiler_command());
    argv.push_back("KCFLAGS=" + object_kcflags());
    argv.insert(argv.end(), goals.begin(), goals.end());
    return argv;
}

// tar extracts into DIR/extract; the archive's one top directory becomes DIR/tree.
void extract_source(const distro::StockKernel &kernel, const fs::path &dir, const fs::path &log) {
    if (kernel.source_kind != distro::SourceKind::Tarball)
        throw Error("preparing a tree from a source RPM ({}) is not implemented yet; unpack it "
                    "with rpmbuild -bp, configure and build it, and use -s",
                    kernel.source.string());
    fs::path extract = dir / "extract";
    fs::create_directories(extract);
    run_logged({"tar", "-xf", kernel.source.string(), "-C", extract.string()}, log);
    std::vector<fs::path> tops;
    for (const auto &entry : fs::directory_iterator(extract))
        tops.push_back(entry.path());
    if (tops.size() != 1 || !fs::is_regular_file(tops.front() / "Makefile"))
        throw Error("{} does not hold one kernel source directory", kernel.source.string());
    fs::rename(tops.front(), dir / "tree");
    fs::remove(extract);
}

void compare_generated_headers(const fs::path &tree, const distro::StockKernel &kernel) {
    std::vector<std::string> different;
    for (const auto &header : generated_headers_to_compare()) {
        fs::path theirs = kernel.headers / header;
        if (!fs::exists(theirs))
            throw Error("{} not found: the headers package of {} is incomplete", theirs.string(),
                        kernel.release);
        if (auto difference = generated_header_difference(
                header, read_text_file_or_empty(tree / header), read_text_file_or_empty(theirs)))
            different.push_back(*difference);
    }
    if (!different.empty())
        throw Error("the prepared tree does not match the kernel {} was built as: {} differ from "
                    "{} (a missing build tool changes the config: pahole sets "
                    "CONFIG_PAHOLE_VERSION, a cross compiler without its C library "
                    "CONFIG_CC_CAN_LINK)",
                    kernel.release, fmt::join(different, ", "), kernel.headers.string());
}

// Half-finished preparations (REL.<id> directories the link does not point to).
void remove_abandoned(const Layout &layout, const std::string &release) {
    std::error_code ec;
    fs::path current = fs::canonical(layout.link, ec);
    for (const auto &entry : fs::directory_iterator(layout.releases)) {
        std::string name = entry.path().filename().string();
        if (!entry.is_directory() || entry.is_symlink() || !name.starts_with(release + "."))
            continue;
        if (!ec && entry.path() == current)
            continue;
        log::info("removing the abandoned preparation {}", entry.path().string());
        fs::remove_all(entry.path());
    }
}

void publish(const Layout &layout, const fs::path &dir) {
    fs::path temporary = layout.link;
    temporary += ".publish";
    fs::remove(temporary);
    fs::create_symlink(dir.filename(), temporary);
    fs::rename(temporary, layout.link);
}

PreparedRelease prepare(const distro::StockKernel &kernel, const Layout &layout, unsigned jobs,
                        const Progress &progress) {
    fs::path dir = layout.releases / fmt::format("{}.{}", kernel.release, getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    dir = fs::canonical(dir);
    PreparedRelease prepared = describe(dir, kernel);
    fs::path log = dir / "prepare.log";
    log::info("preparing a kernel tree for {} once (log: {})", kernel.release, log.string());

    progress.stage(fmt::format("extracting {}", kernel.source.string()));
    extract_source(kernel, dir, log);
    // The debug info says which objects make up vmlinux and each module;
    // read it while kbuild configures and prepares the tree.
    auto units = std::async(std::launch::async, [&] {
        return CompileUnitIndex::scan(kernel.vmlinux, kernel.debug_modules,
                                      kernel.debug_module_suffix);
    });
    fs::copy_file(kernel.config, prepared.tree / ".config");
    progress.stage("configuring the tree (make olddefconfig)");
    run_logged(make(prepared.tree, 1, prepared.make_variables, {"olddefconfig"}), log);
    progress.stage("preparing the tree (make prepare modules_prepare)");
    run_logged(make(prepared.tree, jobs, prepared.make_variables, {"prepare", "modules_prepare"}),
               log);
    compare_generated_headers(prepared.tree, kernel);
    fs::copy_file(kernel.symvers, prepared.tree / "Module.symvers");
    progress.stage("indexing the compile units of vmlinux and the modules");
    CompileUnitIndex index = units.get();
    index.save(prepared.units);
    log::info("{} objects make up {} and its modules", index.size(), kernel.release);

    interrupt::throw_if_requested();
    std::string packages;
    for (const auto &root : kernel.cached_packages)
        packages += root.filename().string() + "\n";
    write_text_file_atomically(dir / "packages.txt", packages);
    write_text_file_atomically(dir / "release.txt", release_stamp(kernel));
    publish(layout, dir);
    return prepared;
}

} // namespace

fs::path default_cache_dir() {
    if (const char *dir = std::getenv("KPP_CACHE_DIR"); dir && *dir)
        return dir;
    if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "kpatchpp";
    const char *home = std::getenv("HOME");
    if (!home || !*home)
        throw Error(
            "neither KPP_CACHE_DIR nor HOME is set: nowhere to cache prepared kernel trees");
    return fs::path(home) / ".cache/kpatchpp";
}

const std::vector<std::string> &generated_headers_to_compare() {
    static const std::vector<std::string> headers = {
        "include/generated/utsrelease.h",
        "include/generated/uapi/linux/version.h",
        "include/generated/autoconf.h",
    };
    return headers;
}

namespace {

// autoconf.h records the preparing compiler's `--version` line
// (CONFIG_CC_VERSION_TEXT): check_compiler() has judged it against the
// kernel's, which may differ by a cross prefix or a distribution revision.
std::string without_compiler_text(std::string text) {
    const std::string define = "#define CONFIG_CC_VERSION_TEXT ";
    size_t at = text.find(define);
    if (at == std::string::npos)
        return text;
    size_t end = text.find('\n', at);
    return text.erase(at, end == std::string::npos ? std::string::npos : end - at);
}

// "#define CONFIG_X ..." lines of `ours` that `theirs` lacks and the other
// way round, by name: which settings differ.
std::set<std::string> differing_settings(const std::string &ours, const std::string &theirs) {
    auto lines = [](const std::string &text) {
        std::set<std::string> set;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
            if (line.starts_with("#define CONFIG_"))
                set.insert(line);
        return set;
    };
    std::set<std::string> a = lines(ours), b = lines(theirs), names;
    auto name_of = [](const std::string &line) {
        std::string rest = line.substr(line.find("CONFIG_"));
        return rest.substr(0, rest.find(' '));
    };
    for (const auto &line : a)
        if (!b.contains(line))
            names.insert(name_of(line));
    for (const auto &line : b)
        if (!a.contains(line))
            names.insert(name_of(line));
    return names;
}

} // namespace

std::optional<std::string> generated_header_difference(const std::string &header,
                                                       const std::string &ours,
                                                       const std::string &theirs) {
    std::string ours_text = without_compiler_text(ours);
    std::string theirs_text = without_compiler_text(theirs);
    if (ours_text == theirs_text)
        return std::nullopt;
    auto settings = differing_settings(ours_text, theirs_text);
    return settings.empty() ? header : fmt::format("{} ({})", header, fmt::join(settings, ", "));
}

// Bumped when what a prepared release holds changes, so that older caches
// are prepared again. 2: units.tsv records kbuild's goals (virt/kvm/ in kvm.ko).
// 3: without link-time units (.vmlinux.export.o).
constexpr int kReleaseCacheFormat = 3;

std::string release_stamp(const distro::StockKernel &kernel) {
    return fmt::format("{}\n{}\nformat {}\n", kernel.release, kernel.version, kReleaseCacheFormat);
}

namespace {

PreparedRelease find_or_prepare(const distro::StockKernel &kernel, const fs::path &cache_dir,
                                unsigned jobs, const Progress &progress) {
    Layout layout{cache_dir / "releases", cache_dir / "releases" / kernel.release};
    if (auto dir = published(layout, kernel))
        return describe(*dir, kernel);
    fs::create_directories(layout.releases);
    // One preparation at a time; whoever waited finds the tree published.
    TreeLock lock(layout.releases);
    if (auto dir = published(layout, kernel))
        return describe(*dir, kernel);
    remove_abandoned(layout, kernel.release);
    std::error_code ec;
    fs::path outdated = fs::canonical(layout.link, ec);
    PreparedRelease prepared = prepare(kernel, layout, jobs, progress);
    if (!ec && fs::is_directory(outdated / "tree")) {
        // Another package version under the same release name; wait for any
        // run still using the old tree before removing it.
        TreeLock old_tree(outdated / "tree");
        fs::remove_all(outdated);
    }
    return prepared;
}

} // namespace

PreparedRelease prepared_release(const distro::StockKernel &kernel, const fs::path &cache_dir,
                                 unsigned jobs, const Progress &progress) {
    PreparedRelease prepared = find_or_prepare(kernel, cache_dir, jobs, progress);
    prepared.use = distro::CacheUse::shared(prepared.dir);
    // A prune that won the race removed it before we held it.
    if (!fs::is_regular_file(prepared.dir / "release.txt"))
        throw Error("the prepared tree {} was removed (kpatch-build --cache-prune) just as this "
                    "run was about to use it; run again",
                    prepared.dir.string());
    return prepared;
}

} // namespace kpp::build
