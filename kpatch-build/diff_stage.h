// Comparing each original object with its patched build, in parallel, with
// the diff library (in-process; one thread per object up to -j).
#pragma once

#include "create-diff-object/diff.h"
#include "kpatch-build/kbuild/object_parents.h"
#include "libkpp/error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace kpp::build {

struct DiffJob {
    std::string object; // relative to the build root
    Parent parent;
};

struct DiffSettings {
    std::filesystem::path orig_dir;
    std::filesystem::path patched_dir;
    std::filesystem::path output_dir;  // one output object per changed object
    std::filesystem::path reports_dir; // one JSON report per object
    std::filesystem::path symvers;
    std::string patch_name;
    diff::StructSizes sizes;
    unsigned threads = 1;
};

struct DiffOutcome {
    DiffJob job;
    bool changed = false;
    std::vector<diff::FunctionChange> functions;
    nlohmann::json report;
    std::filesystem::path output; // set when changed
    std::string refusal;          // set when the diff refused the change
    RefusalKind refusal_kind = RefusalKind::Other;
    std::string error; // set on any other failure
};

// Runs every job; failures are recorded per object, never thrown, so that all
// refusals can be reported at once. Throws Interrupted if a signal arrived.
std::vector<DiffOutcome> diff_objects_in_parallel(const std::vector<DiffJob> &jobs,
                                                  const DiffSettings &settings);

} // namespace kpp::build
