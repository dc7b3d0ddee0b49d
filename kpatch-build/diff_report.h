// What kpatch-build tells the user and writes to WORK/report.json about the
// diffs.
#pragma once

#include "kpatch-build/diff_stage.h"

#include <string>
#include <vector>

namespace kpp::build {

// "meminfo.o: changed function: meminfo_proc_show" lines (the object's file
// name, or its path where two changed objects share a name).
std::vector<std::string> describe_changes(const std::vector<DiffOutcome> &outcomes);

// Everything in one document: {"patch_name", "objects": [{object, parent,
// changed, refusal?, error?, report}]}.
nlohmann::json combined_report(const std::string &patch_name,
                               const std::vector<DiffOutcome> &outcomes);

// Refusal and error lines, each naming its object once.
std::vector<std::string> refusal_lines(const std::vector<DiffOutcome> &outcomes);
std::vector<std::string> error_lines(const std::vector<DiffOutcome> &outcomes);

} // namespace kpp::build
