// Which changed objects of a cumulative update must stay out of the module
// because a change they depend on was refused.
//
// A cumulative module must never apply a change without the changes it
// relies on. Two dependencies are visible to kpatch-build, and both are
// followed to a fixed point (a withdrawn object is as unavailable as a
// refused one):
// - by symbol: the diff output of X refers to a global symbol that Y (a
//   refused or withdrawn object) defines. Y's changes to it are not applied,
//   and which of its functions changed is unknown once the diff refused Y,
//   so any of Y's symbols counts;
// - by header: X and Y read the same header that the update changes. A
//   header change is one change, made consistently in every unit reading it
//   (a new field, a new locking rule) or not at all.
// Doubt withdraws: the object goes to "needs other changes" with the reason.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kpp::build::update {

struct ObjectDependencies {
    std::string object;
    bool unavailable = false;              // the diff refused it (or failed on it)
    bool changed = false;                  // its diff output goes into the module
    std::set<std::string> changed_headers; // headers of the update it reads
    std::set<std::string> references;      // undefined symbols of its diff output
    std::set<std::string> defines;         // global symbols it defines (before or after)
};

// object -> the reason it is withdrawn ("uses SYM of Y, whose changes are
// not applied (Y: refused)"), for changed objects only.
std::map<std::string, std::string>
withdraw_dependents(const std::vector<ObjectDependencies> &objects);

// The undefined symbols of an object file (its diff output).
std::set<std::string> undefined_symbols(const std::filesystem::path &object);
// The global (and weak) symbols an object file defines.
std::set<std::string> defined_globals(const std::filesystem::path &object);

} // namespace kpp::build::update
