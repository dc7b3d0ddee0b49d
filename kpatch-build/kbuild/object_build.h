// Building single objects in the kernel tree with kbuild.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kpp::build {

// How to run kbuild for the objects being patched: `make -C SRC` for the
// kernel itself, `make -C SRC M=DIR` for an out-of-tree module.
struct BuildTree {
    std::filesystem::path kernel_dir;        // -C
    std::filesystem::path root;              // where the objects and patched sources live
    bool external_module = false;            // adds M=root
    std::vector<std::string> make_variables; // what the tree was configured with (ARCH=...)
    // Objects kbuild builds only under another name, and that name (see
    // CompileUnitIndex::goals()); every other object is its own goal.
    std::map<std::string, std::string> goals;
};

// `object` as a make goal: its entry in `goals` (BuildTree::goals), or itself.
std::string make_goal(const std::map<std::string, std::string> &goals, const std::string &object);

// The goals of a built tree's objects that kbuild recorded under another
// name: the target of each object's .cmd file ("cmd_arch/x86/kvm/../../../
// virt/kvm/kvm_main.o := ..." for virt/kvm/kvm_main.o), where it differs.
std::map<std::string, std::string> goals_from_cmd_files(const std::filesystem::path &root,
                                                        const std::vector<std::string> &objects);

struct ObjectBuildRequest {
    std::vector<std::string> objects; // relative to root
    std::vector<std::string> extra_targets;
    unsigned jobs = 1;
};

// The KCFLAGS of the object builds: $KCFLAGS, then -ffunction-sections
// -fdata-sections. A prepared stock tree is prepared with the same value, so
// that kbuild's prepare stage finds its outputs up to date on every run.
std::string object_kcflags();

// The make command line: every object is its own goal, compiled with
// -ffunction-sections -fdata-sections so that the diff can compare and pick
// single functions and data. Nothing else goes into KCFLAGS (besides the
// user's KCFLAGS): see install_patch_headers() in data_dir.h.
std::vector<std::string> object_make_command(const BuildTree &tree,
                                             const ObjectBuildRequest &request);

// The files a rebuild of `object` writes (besides temporaries kbuild removes
// itself): the object, its .cmd file, and the dependency file gcc writes
// until fixdep turns it into the .cmd file (left behind if interrupted).
std::vector<std::string> files_written_by_build(const std::string &object);

void build_objects(const BuildTree &tree, const ObjectBuildRequest &request,
                   const std::filesystem::path &log);

// Copies ROOT/object to DEST/object for each object; throws naming a missing one.
void copy_objects(const std::filesystem::path &root, const std::vector<std::string> &objects,
                  const std::filesystem::path &dest);

} // namespace kpp::build
