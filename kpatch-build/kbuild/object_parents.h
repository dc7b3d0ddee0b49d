// Which binary each object ends up in: vmlinux or a module.
//
// Kbuild (6.1) writes dir/NAME.mod for every module, listing the objects
// linked into dir/NAME.ko; modules.order lists the modules. vmlinux.a, a thin
// archive, lists every object linked into vmlinux. Objects in neither — boot
// and real-mode code, the vDSO, helpers like scripts/mod/empty.o — run
// nowhere a livepatch can reach.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

struct Parent {
    std::string name; // "vmlinux", or the module name as the kernel knows it (binfmt_misc)
    std::filesystem::path symtab; // SRC/vmlinux, or the module's .ko

    bool operator==(const Parent &) const = default;
};

// "fs/binfmt_misc.o\n" or "fs/a.o fs/b.o" (older kbuild) -> object paths.
std::vector<std::string> parse_mod_file(std::string_view text);

// modules.order lines ("fs/binfmt_misc.ko" in 6.1, ".o" from 6.2) -> module
// paths without extension ("fs/binfmt_misc").
std::vector<std::string> parse_modules_order(std::string_view text);

// The members of a (thin) archive such as vmlinux.a, via `ar t`.
std::vector<std::string> archive_members(const std::filesystem::path &archive);

class ParentIndex {
  public:
    // Reads ROOT/modules.order and each listed module's .mod file.
    static ParentIndex scan(const std::filesystem::path &root,
                            const std::filesystem::path &vmlinux);
    // Every object is part of one given module (an out-of-tree module).
    static ParentIndex single_module(const std::filesystem::path &module_ko);
    // Parents from another source (a distribution kernel's debug info);
    // nullopt for objects linked nowhere.
    using Lookup = std::function<std::optional<Parent>(const std::string &object)>;
    static ParentIndex from_lookup(Lookup lookup);

    // Throws kpp::Error when the module's .ko is missing.
    Parent parent_of(const std::string &object) const;

    // Linked into vmlinux or a module. True for everything when the tree has
    // no vmlinux.a to tell (older kernels) and for out-of-tree modules.
    bool is_linked(const std::string &object) const;

  private:
    std::filesystem::path root_;
    std::filesystem::path vmlinux_;
    std::map<std::string, std::string> module_of_object_;  // object -> module path w/o extension
    std::optional<std::set<std::string>> vmlinux_objects_; // from vmlinux.a, if present
    std::filesystem::path only_module_;
    Lookup lookup_;
};

} // namespace kpp::build
