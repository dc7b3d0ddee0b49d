#include "kpatch-build/kbuild/kbuild_prepare.h"

#include "kpatch-build/kbuild/kbuild_cmd.h"

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

void add_with_cmd_file(const fs::path &kernel_dir, const std::string &file,
                       std::vector<std::string> &files) {
    if (!fs::exists(kernel_dir / file))
        return;
    files.push_back(file);
    fs::path path(file);
    std::string cmd = (path.parent_path() / ("." + path.filename().string() + ".cmd")).string();
    if (fs::exists(kernel_dir / cmd))
        files.push_back(cmd);
}

} // namespace

std::vector<std::string> files_prepare_may_rewrite(const fs::path &kernel_dir) {
    std::vector<std::string> files;
    add_with_cmd_file(kernel_dir, ".missing-syscalls.d", files);
    add_with_cmd_file(kernel_dir, "kernel/bounds.s", files);
    add_with_cmd_file(kernel_dir, "include/generated/bounds.h", files);
    add_with_cmd_file(kernel_dir, "include/generated/asm-offsets.h", files);
    if (fs::is_directory(kernel_dir / "arch"))
        for (const auto &arch : fs::directory_iterator(kernel_dir / "arch"))
            add_with_cmd_file(
                kernel_dir,
                (fs::path("arch") / arch.path().filename() / "kernel/asm-offsets.s").string(),
                files);
    // modpost and the objects it is linked from, all small.
    if (fs::is_directory(kernel_dir / "scripts/mod"))
        for (const auto &entry : fs::directory_iterator(kernel_dir / "scripts/mod"))
            if (entry.is_regular_file() && !entry.path().string().ends_with(".c") &&
                !entry.path().string().ends_with(".h") && entry.path().filename() != "Makefile")
                files.push_back(fs::relative(entry.path(), kernel_dir).string());
    if (fs::exists(kernel_dir / "scripts/mod/elfconfig.h"))
        files.push_back("scripts/mod/elfconfig.h"); // generated, unlike the other headers there
    return files;
}

} // namespace kpp::build
