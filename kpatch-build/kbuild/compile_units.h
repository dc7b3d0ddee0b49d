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
// of a module's debug info applied), as kbuild named the source: a member
// of a composite module that lives in another directory keeps the path its
// module's Makefile gives it ("arch/x86/kvm/../../../virt/kvm/kvm_main.c").
std::vector<std::string> compile_unit_names(const std::filesystem::path &elf);

// "fs/proc/meminfo.c" -> "fs/proc/meminfo.o" (normalized: "a/x/../b.c" ->
// "a/b.o"); "" for what kbuild does not compile into an object of its own
// (headers, module .mod.c stubs, absolute paths) and for link-time units
// (.vmlinux.export.c).
std::string object_of_source(std::string_view source);

class CompileUnitIndex {
  public:
    // vmlinux, and every NAME.ko (or NAME.ko.debug) under modules_dir.
    // Progress goes to `report` every few hundred modules.
    static CompileUnitIndex scan(const std::filesystem::path &vmlinux,
                                 const std::filesystem::path &modules_dir,
                                 std::string_view module_suffix);

    // One "object<TAB>binary[<TAB>goal]" line per object; binary is
    // "vmlinux" or the module file relative to the modules directory; goal
    // as goals() below.
    void save(const std::filesystem::path &file) const;
    static CompileUnitIndex load(const std::filesystem::path &file);

    // `goal`: kbuild's own name for the object when it differs (see goals()).
    void add(const std::string &object, const std::string &binary, const std::string &goal = "");

    // "vmlinux", a module file ("kernel/fs/binfmt_misc.ko"), or "" if no
    // binary of this kernel was compiled from it. Throws kpp::Error when the
    // object is linked into several binaries (one object, several parents:
    // kpatch-build patches one parent per object).
    std::string binary_of(const std::string &object) const;
    bool contains(const std::string &object) const { return binaries_.contains(object); }
    std::vector<std::string> objects() const;
    size_t size() const { return binaries_.size(); }

    // Objects that kbuild builds only under another name, the make goal
    // that builds them: a composite module's member from another directory
    // ("virt/kvm/kvm_main.o" -> "arch/x86/kvm/../../../virt/kvm/kvm_main.o";
    // there is no virt/kvm/Makefile to build it through).
    const std::map<std::string, std::string> &goals() const { return goals_; }

  private:
    std::map<std::string, std::vector<std::string>> binaries_; // object -> binaries
    std::map<std::string, std::string> goals_;
};

} // namespace kpp::build
