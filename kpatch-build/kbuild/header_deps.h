// Which compile units of a prepared (not built) tree read a given file.
//
// A prepared tree has no .cmd files to say which headers an object includes.
// kbuild makes them on request: `make dir/f.i` preprocesses dir/f.c with the
// object's real flags and -Wp,-MMD (the compiler's -M family), and fixdep
// turns the dependency list into dir/.f.i.cmd — every file the preprocessor
// opened for this config. Preprocessing all units of a distribution kernel
// takes minutes, so the result is cached per release and the tree is put
// back (the .i and .cmd files removed) afterwards.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kpp::build {

class Progress;

// "fs/proc/meminfo.o" -> "fs/proc/meminfo.i" (C) or ".s" (assembly, whose
// kbuild target preprocesses), by which source exists in the tree. A unit
// whose source kbuild generates (asn1 parsers, vDSO images, raid6 tables)
// gets ".i": kbuild generates the source first, or fails and the unit is
// recorded as not scanned.
std::string preprocess_target(const std::filesystem::path &tree, const std::string &object);

class HeaderDependencies {
  public:
    void add(const std::string &object, const std::vector<std::string> &files);
    void add_unscanned(const std::string &object) { unscanned_.insert(object); }

    // Objects reading `path`; nullopt when some unit could not be scanned
    // (it might be one of them: the caller must not guess; unscanned() says
    // which).
    std::optional<std::vector<std::string>> objects_using(const std::string &path) const;
    const std::set<std::string> &unscanned() const { return unscanned_; }

    void save(const std::filesystem::path &file) const;
    static HeaderDependencies load(const std::filesystem::path &file);

  private:
    std::vector<std::string> files_; // interned paths
    std::map<std::string, size_t> file_ids_;
    std::map<std::string, std::vector<size_t>> deps_; // object -> file ids
    std::set<std::string> unscanned_;
};

struct HeaderScanRequest {
    std::filesystem::path tree;
    std::vector<std::string> objects;        // every compile unit
    std::vector<std::string> make_variables; // KERNELRELEASE=...
    unsigned jobs = 1;
    std::filesystem::path cache; // header-deps.txt
    std::filesystem::path log;
    std::filesystem::path backup_dir; // for the guard that removes the .i files again
    // Objects built under another name (CompileUnitIndex::goals()).
    std::map<std::string, std::string> goals;
};

// The cached scan, or a new one (holding the tree's lock while it runs).
HeaderDependencies scan_header_dependencies(const HeaderScanRequest &request,
                                            const Progress &progress);

} // namespace kpp::build
