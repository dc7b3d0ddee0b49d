// The account of a distribution update turned into one cumulative live
// patch (kpatch-build --update-to): every changed file of the source
// difference lands in exactly one category, each changed object with its
// functions or its reason, and one summary line says what was patched and
// what needs a reboot.
#pragma once

#include "kpatch-build/tree/patch_files.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kpp::build::update {

enum class Outcome {
    Patched,        // in the module
    Refused,        // the diff refused it: needs a reboot
    NeedsOther,     // depends on a refused change: left out, needs a reboot
    BuildRules,     // Makefile/Kbuild/Kconfig: not code a live patch carries; needs a reboot
    NotCompiled,    // this configuration compiles nothing from it
    NoBinaryChange, // compiled, but no object it is compiled into changed
    Other,          // not a C source, header or build rule (documentation, scripts, data)
};

// "patched", "refused", "needs_other_changes", ... as the JSON writes them.
std::string_view outcome_name(Outcome outcome);
// Whether the running kernel keeps the old behaviour of such a change until
// it reboots into the new release.
bool needs_reboot(Outcome outcome);

struct FunctionEntry {
    std::string name;
    bool is_new = false;
    std::string part_of; // a .cold/.part piece: its function
};

struct ObjectAccount {
    std::string object; // "fs/nfsd/nfs4state.o"
    std::string parent; // "vmlinux" or a module name
    Outcome outcome = Outcome::NoBinaryChange;
    std::string refused_as;               // for Refused: refusal_kind_name() of the diff's reason
    std::string reason;                   // for Refused and NeedsOther: the diff's line
    std::vector<FunctionEntry> functions; // for Patched
};

struct FileAccount {
    std::string path;
    FileChange change = FileChange::Modified;
    Outcome outcome = Outcome::Other;
    std::string refused_as; // for Refused: its object's refused_as, "new_compile_unit", ...
    std::string reason;
    std::vector<std::string> objects; // the compile units it is part of
};

struct UpdateReport {
    std::string release;      // the running release: 6.1.0-53-cloud-amd64
    std::string from_version; // its source version: 6.1.187-1
    std::string to_version;   // the update's: 6.1.190-1
    std::string module;       // NAME.ko, empty when nothing could be patched
    std::vector<FileAccount> files;
    std::vector<ObjectAccount> objects;
};

// The line printed first and last: counts of files per outcome (adding up
// to the changed files), refusals by reason, and the number of files that
// need a reboot.
std::string summary_line(const UpdateReport &report);

// "needs a reboot: PATH (outcome[, kind])" for each file whose change the
// running kernel does not get, at most `limit` lines and a last one saying
// how many more the report lists.
std::vector<std::string> reboot_lines(const UpdateReport &report, size_t limit);

// The same fact said plainly: a module made from a whole update is to be
// reviewed (and tested) before it goes to production machines.
std::string_view review_notice();

// Summary, notice, then one section per outcome listing files (with reasons
// and objects) and the patched objects' functions.
std::string report_text(const UpdateReport &report);

// {"release", "from_version", "to_version", "module", "summary", "notice",
//  "counts": {outcome: files}, "refused_by_reason": {kind: files},
//  "files": [{path, change, outcome, refused_as, reason, objects}],
//  "objects": [{object, parent, outcome, refused_as, reason, functions: [{name, new, part_of}]}]}
nlohmann::json report_json(const UpdateReport &report);

} // namespace kpp::build::update
