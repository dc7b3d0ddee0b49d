#include "kpatch-build/tree/kernel_tree.h"

#include "kpatch-build/distro/stock_kernel.h"
#include "libkpp/error.h"

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

fs::path resolve(const std::string &given, const fs::path &fallback) {
    return fs::absolute(given.empty() ? fallback : fs::path(given)).lexically_normal();
}

void require_file(const fs::path &path, std::string_view what, std::string_view hint) {
    if (!fs::is_regular_file(path))
        throw Error("{} not found: {} ({})", what, path.string(), hint);
}

} // namespace

KernelTree find_kernel_tree(const Options &options, const Progress &progress) {
    if (options.source_dir.empty())
        return find_stock_kernel_tree(options, progress);
    KernelTree tree;
    tree.source_dir = fs::absolute(options.source_dir).lexically_normal();
    if (!fs::is_directory(tree.source_dir))
        throw Error("kernel source directory not found: {}", tree.source_dir.string());
    if (!fs::is_regular_file(tree.source_dir / "Makefile"))
        throw Error("{} is not a kernel source tree: it has no Makefile", tree.source_dir.string());
    tree.config = resolve(options.config, tree.source_dir / ".config");
    tree.vmlinux = resolve(options.vmlinux, tree.source_dir / "vmlinux");
    tree.symvers = tree.source_dir / "Module.symvers";
    require_file(tree.config, "kernel config", "configure the tree or pass -c");
    require_file(tree.vmlinux, "vmlinux", "build the tree or pass -v");
    require_file(tree.symvers, "Module.symvers", "the tree must be built with modules");
    return tree;
}

} // namespace kpp::build
