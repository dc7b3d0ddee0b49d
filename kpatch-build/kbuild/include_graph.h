// Which compile units might read a file, from the #include lines alone.
//
// The exact answer (header_deps.h) preprocesses a unit with its real flags;
// doing that for every unit of a distribution kernel takes most of half an
// hour on two cores. This graph reads the tree's text instead, in seconds,
// and over-approximates: conditionals are ignored, an include name that is
// not next to the including file stands for every file of the tree whose
// path ends with it (whatever -I directory a Makefile adds), and a unit whose
// includes cannot be followed (a generated source, a generated local header,
// a computed #include with no visible definition) is always a candidate.
// Callers preprocess only the candidates to get the exact answer.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kpp::build {

// One #include-like line: `#include <x>`, `#include "x"`, `#include_next <x>`,
// or a computed `#include MACRO(...)` (name = the macro).
struct IncludeDirective {
    enum class Kind { Angle, Quoted, Computed };
    Kind kind;
    std::string name;
};

// The #include directives of a C/assembly text, in order. Ones inside
// comments or `#if 0` count too: that only adds candidates.
std::vector<IncludeDirective> include_directives(std::string_view text);

class IncludeGraph {
  public:
    // `units`: object ("fs/proc/meminfo.o") -> its kbuild goal when it differs
    // (CompileUnitIndex::goals()); the unit's source is the goal's .c or .S.
    static IncludeGraph scan(const std::filesystem::path &tree,
                             const std::vector<std::string> &objects,
                             const std::map<std::string, std::string> &goals);

    // The objects that might read `path` (relative to the tree), sorted: a
    // superset of the exact answer.
    std::vector<std::string> objects_possibly_reading(const std::string &path) const;

    // Objects that are candidates for every file (their includes could not
    // be followed), and the files that made them so, for the log.
    const std::vector<std::string> &opaque_objects() const { return opaque_objects_; }
    size_t file_count() const { return paths_.size(); }

  private:
    std::vector<std::string> paths_;                 // file id -> path
    std::vector<std::vector<size_t>> included_by_;   // file id -> ids of files including it
    std::vector<std::vector<std::string>> units_of_; // file id -> objects whose source it is
    std::vector<size_t> forced_;                     // files every unit includes (-include)
    std::map<std::string, size_t> ids_;
    std::vector<std::string> all_objects_;
    std::vector<std::string> opaque_objects_;
};

} // namespace kpp::build
