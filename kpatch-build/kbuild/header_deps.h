// Which compile units of a prepared (not built) tree read a given file.
//
// A prepared tree has no .cmd files to say which headers an object includes.
// kbuild makes them on request: `make dir/f.i` preprocesses dir/f.c with the
// object's real flags and -Wp,-MMD (the compiler's -M family), and fixdep
// turns the dependency list into dir/.f.i.cmd — every file the preprocessor
// opened for this config. Preprocessing all units of a distribution kernel
// takes most of half an hour on two cores, so only the units the include
// graph (include_graph.h) says might read the file are preprocessed; what
// they read is cached per release, and the tree is put back (the .i and .cmd
// files removed) afterwards.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kpp::build {

class IncludeGraph;
class Progress;

// "fs/proc/meminfo.o" -> "fs/proc/meminfo.i" (C) or ".s" (assembly, whose
// kbuild target preprocesses), by which source exists in the tree. A unit
// whose source kbuild generates (asn1 parsers, vDSO images, raid6 tables)
// gets ".i": kbuild generates the source first, or fails and the unit is
// recorded as not scanned.
std::string preprocess_target(const std::filesystem::path &tree, const std::string &object);

// What each scanned unit read, exactly; a cache that grows as units are
// scanned.
class HeaderDependencies {
  public:
    void add(const std::string &object, const std::vector<std::string> &files);
    void add_unscanned(const std::string &object) { unscanned_.insert(object); }
    bool scanned(const std::string &object) const {
        return deps_.contains(object) || unscanned_.contains(object);
    }

    // Those of `candidates` (all scanned) that read `path`; nullopt when one
    // of them could not be scanned (it might read it: the caller must not
    // guess; unscanned() says which).
    std::optional<std::vector<std::string>>
    objects_using(const std::string &path, const std::vector<std::string> &candidates) const;
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

// The objects of a prepared tree that read a file: the include graph's
// candidates, preprocessed (holding the tree's lock) unless the cache has
// them already.
class HeaderReaders {
  public:
    HeaderReaders(HeaderScanRequest request, const Progress &progress);
    ~HeaderReaders();
    HeaderReaders(const HeaderReaders &) = delete;
    HeaderReaders &operator=(const HeaderReaders &) = delete;

    // Scans the candidates of all `paths` in one kbuild run, so that
    // objects_using() of each is answered from the cache.
    void prepare(const std::vector<std::string> &paths);
    std::optional<std::vector<std::string>> objects_using(const std::string &path);
    const std::set<std::string> &unscanned() { return deps().unscanned(); }

  private:
    const IncludeGraph &graph();
    HeaderDependencies &deps();
    void scan(const std::vector<std::string> &objects);

    HeaderScanRequest request_;
    const Progress &progress_;
    std::unique_ptr<IncludeGraph> graph_;
    std::optional<HeaderDependencies> deps_;
};

} // namespace kpp::build
