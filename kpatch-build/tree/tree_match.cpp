#include "kpatch-build/tree/tree_match.h"

#include "kpatch-build/kbuild/kconfig_values.h"
#include "libkpp/error.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

struct ElfFile {
    int fd = -1;
    Elf *elf = nullptr;
    explicit ElfFile(const fs::path &path) {
        elf_version(EV_CURRENT);
        fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    }
    ~ElfFile() {
        if (elf)
            elf_end(elf);
        if (fd >= 0)
            close(fd);
    }
    ElfFile(const ElfFile &) = delete;
    ElfFile &operator=(const ElfFile &) = delete;
};

std::optional<GElf_Sym> find_symbol(Elf *elf, std::string_view name) {
    Elf_Scn *scn = nullptr;
    while ((scn = elf_nextscn(elf, scn))) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || !shdr.sh_entsize)
            continue;
        Elf_Data *data = elf_getdata(scn, nullptr);
        for (size_t i = 0; data && i < shdr.sh_size / shdr.sh_entsize; ++i) {
            GElf_Sym sym;
            const char *n = gelf_getsym(data, static_cast<int>(i), &sym)
                                ? elf_strptr(elf, shdr.sh_link, sym.st_name)
                                : nullptr;
            if (n && name == n && sym.st_shndx != SHN_UNDEF)
                return sym;
        }
    }
    return std::nullopt;
}

// The bytes of `sym` from its section: st_value is an address in a linked
// file and an offset into the section in a relocatable one.
std::optional<std::string> symbol_bytes(Elf *elf, const GElf_Sym &sym) {
    GElf_Ehdr ehdr;
    Elf_Scn *scn = elf_getscn(elf, sym.st_shndx);
    GElf_Shdr shdr;
    if (!gelf_getehdr(elf, &ehdr) || !scn || !gelf_getshdr(scn, &shdr) ||
        shdr.sh_type == SHT_NOBITS)
        return std::nullopt;
    uint64_t offset = ehdr.e_type == ET_REL ? sym.st_value : sym.st_value - shdr.sh_addr;
    Elf_Data *data = elf_getdata(scn, nullptr);
    if (!data || offset >= data->d_size)
        return std::nullopt;
    const char *start = static_cast<const char *>(data->d_buf) + offset;
    size_t size = std::min<size_t>(sym.st_size ? sym.st_size : 512, data->d_size - offset);
    return std::string(start, size);
}

std::map<std::string, std::string> config_options(const std::string &text) {
    std::map<std::string, std::string> options;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("CONFIG_")) {
            size_t eq = line.find('=');
            options[line.substr(0, eq)] = eq == std::string::npos ? "" : line.substr(eq + 1);
        } else if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
            std::istringstream words(line.substr(2));
            std::string key;
            words >> key;
            options[key].assign(1, 'n'); // not = "n": a false -Wrestrict in gcc 12
        }
    }
    return options;
}

std::string describe_value(const std::map<std::string, std::string> &options,
                           const std::string &key) {
    auto it = options.find(key);
    return it == options.end() || it->second == "n" ? "not set" : it->second;
}

} // namespace

std::optional<std::string> read_linux_banner(const fs::path &path) {
    ElfFile file(path);
    if (!file.elf || elf_kind(file.elf) != ELF_K_ELF)
        return std::nullopt;
    auto sym = find_symbol(file.elf, "linux_banner");
    if (!sym)
        return std::nullopt;
    auto bytes = symbol_bytes(file.elf, *sym);
    if (!bytes)
        return std::nullopt;
    std::string banner = bytes->substr(0, bytes->find('\0'));
    while (!banner.empty() && banner.back() == '\n')
        banner.pop_back();
    return banner;
}

std::string banner_release(const std::string &banner) {
    constexpr std::string_view prefix = "Linux version ";
    if (!banner.starts_with(prefix))
        return {};
    std::string rest = banner.substr(prefix.size());
    return rest.substr(0, rest.find(' '));
}

std::string first_config_difference(const std::string &a_text, const std::string &a_name,
                                    const std::string &b_text, const std::string &b_name) {
    auto a = config_options(a_text), b = config_options(b_text);
    for (const auto *side : {&a, &b})
        for (const auto &[key, value] : *side) {
            std::string in_a = describe_value(a, key), in_b = describe_value(b, key);
            if (in_a != in_b)
                return fmt::format("{}: {} in {}, {} in {}", key, in_a, a_name, in_b, b_name);
        }
    return {};
}

void check_tree_files_match(const KernelTree &tree) {
    const fs::path release_file = tree.source_dir / "include/config/kernel.release";
    std::ifstream in(release_file);
    std::string tree_release;
    if (!std::getline(in, tree_release))
        throw Error("{} is missing: {} is not a configured kernel tree", release_file.string(),
                    tree.source_dir.string());
    auto banner = read_linux_banner(tree.vmlinux);
    if (!banner)
        throw Error("{} has no linux_banner symbol: not a vmlinux with its symbol table (pass the "
                    "tree's vmlinux with -v)",
                    tree.vmlinux.string());
    if (std::string release = banner_release(*banner); release != tree_release)
        throw Error("{} is the vmlinux of kernel {}, but {} is kernel {} ({}): pass the vmlinux "
                    "built from this tree with -v",
                    tree.vmlinux.string(), release, tree.source_dir.string(), tree_release,
                    release_file.string());
    const fs::path own_vmlinux = tree.source_dir / "vmlinux";
    if (tree.vmlinux != own_vmlinux && fs::exists(own_vmlinux))
        if (auto own = read_linux_banner(own_vmlinux); own && *own != *banner)
            throw Error("{} is not the vmlinux built in {}: its banner is '{}', {}'s is '{}'; "
                        "pass the vmlinux of this very build with -v",
                        tree.vmlinux.string(), tree.source_dir.string(), *banner,
                        own_vmlinux.string(), *own);
    const fs::path own_config = tree.source_dir / ".config";
    if (tree.config != own_config && fs::exists(own_config))
        if (std::string diff =
                first_config_difference(read_config_file(tree.config), tree.config.string(),
                                        read_config_file(own_config), own_config.string());
            !diff.empty())
            throw Error("{} is not the configuration {} was built with ({}): pass that file with "
                        "-c, or configure and build the tree with yours",
                        tree.config.string(), tree.source_dir.string(), diff);
}

} // namespace kpp::build
