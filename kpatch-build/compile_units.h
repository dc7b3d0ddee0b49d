// Which source files a distribution kernel compiled into which binary.
//
// A stock kernel comes without its build tree, so there are no .cmd files to
// say what kbuild built for this configuration. The debug info of the
// binaries themselves says it exactly: every compile unit of the vmlinux and
// of each module in the -dbg (dbgsym, debuginfo) package names the source
// file it came from ("fs/proc/meminfo.c"), relative to the build directory.
// That is what kbuild compiled for this config — obj-y files in vmlinux,
// obj-m ones (with composite modules' members) in their module — so it is
// both the list of objects a patch may touch and each object's parent.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

// The DW_AT_name of every compile unit of an ELF file with DWARF (relocations
// of a module's debug info applied). Names are normalized ("a/./b" -> "a/b");
// absolute names (files outside the tree) are kept as they are.
std::vector<std::string> compile_unit_names(const std::filesystem::path &elf);

// "fs/proc/meminfo.c" -> "fs/proc/meminfo.o"; "" for what kbuild does not
// compile into an object of its own (headers, module .mod.c stubs, absolute
// paths).
std::string object_of_source(std::string_view source);

class CompileUnitIndex {
  public:
    // vmlinux, and every NAME.ko (or NAME.ko.debug) under modules_dir.
    // Progress goes to `report` every few hundred modules.
    static CompileUnitIndex scan(const std::filesystem::path &vmlinux,
                                 const std::filesystem::path &modules_dir,
                                 std::string_view module_suffix);

    // One "object<TAB>binary" line per object; binary is "vmlinux" or the
    // module file relative to the modules directory.
    void save(const std::filesystem::path &file) const;
    static CompileUnitIndex load(const std::filesystem::path &file);

    void add(const std::string &object, const std::string &binary);

    // "vmlinux", a module file ("kernel/fs/binfmt_misc.ko"), or "" if no
    // binary of this kernel was compiled from it. Throws kpp::Error when the
    // object is linked into several binaries (one object, several parents:
    // kpatch-build patches one parent per object).
    std::string binary_of(const std::string &object) const;
    bool contains(const std::string &object) const { return binaries_.contains(object); }
    std::vector<std::string> objects() const;
    size_t size() const { return binaries_.size(); }

  private:
    std::map<std::string, std::vector<std::string>> binaries_; // object -> binaries
};

} // namespace kpp::build
