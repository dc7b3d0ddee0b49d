// kbuild's saved command files (dir/.file.o.cmd).
//
// After compiling dir/file.o, kbuild's fixdep writes dir/.file.o.cmd:
//
//   cmd_dir/file.o := gcc -Wp,-MMD,... -c -o dir/file.o dir/file.c
//   source_dir/file.o := dir/file.c
//   deps_dir/file.o := (backslash-continued list of)
//     include/linux/kconfig.h
//       $(wildcard include/config/FOO)
//     ...
//
// (6.2 and later spell the first variable savedcmd_.) A .cmd file therefore
// says both that the tree built the object and which headers it read.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::build {

struct KbuildCommand {
    std::string target;            // "fs/proc/meminfo.o"
    std::string command;           // the compiler command line
    std::string source;            // "fs/proc/meminfo.c"
    std::vector<std::string> deps; // real files only; $(wildcard ...) config markers dropped
};

KbuildCommand parse_kbuild_command(std::string_view text);

// "fs/proc/meminfo.o" -> "fs/proc/.meminfo.o.cmd"
std::string cmd_file_for(std::string_view object);
// "fs/proc/.meminfo.o.cmd" -> "fs/proc/meminfo.o"; "" if not an object's .cmd file
std::string object_for_cmd_file(std::string_view cmd_file);

// True for objects the kernel compiler built from C or assembly, as opposed
// to host tools, the module .mod.o stubs and link steps.
bool is_kernel_compile_unit(const KbuildCommand &cmd);

// Every kernel compile unit in a built tree, with its dependencies. Scans all
// .cmd files once.
class KbuildIndex {
  public:
    static KbuildIndex scan(const std::filesystem::path &root);
    // Objects that read `path` (relative to the root): compiled from it, or
    // listing it among their deps.
    std::vector<std::string> objects_using(std::string_view path) const;
    std::vector<std::string> all_objects() const;

  private:
    std::vector<KbuildCommand> units_;
};

} // namespace kpp::build
