// kpatch-build --update-to VERSION: a distribution update as one cumulative
// live patch for a running release.
//
// Before the ordinary pipeline: the newer linux-source .deb is fetched into
// the package cache (apt-get download, never installed), both source
// tarballs are extracted into the work directory, their difference is
// planned (update_plan.h) and the files to rebuild are written as one patch
// that the pipeline applies to the release's prepared tree. After the diff:
// refused objects are accounted instead of ending the run, objects that
// depend on them are withdrawn (withdrawal.h), and every changed file and
// object goes to the report (update_report.h) beside the module.
#pragma once

#include "kpatch-build/diff_stage.h"
#include "kpatch-build/distro/cache_use.h"
#include "kpatch-build/options.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/tree/kernel_tree.h"
#include "kpatch-build/update/update_plan.h"
#include "kpatch-build/update/update_report.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kpp::build::update {

struct UpdateState {
    UpdateReport report;              // the release, versions and settled files so far
    std::vector<TouchedFile> rebuild; // the files in `patch`
    std::filesystem::path patch;      // WORK/update/update.patch
    std::filesystem::path newer_tree; // the update's extracted source
    // For a file the update creates and other files include: those files
    // (in the newer tree), whose objects it is part of.
    std::map<std::string, std::vector<std::string>> includers;
    // Whether the release compiled an object (its compile-unit index).
    std::function<bool(const std::string &object)> compiled;
    std::vector<std::shared_ptr<distro::CacheUse>> uses; // the newer source, in use for the run
};

using ObjectsUsing = std::function<std::optional<std::vector<std::string>>(const std::string &)>;

// Fetches and extracts the sources, plans the update and writes its patch.
// Throws kpp::Error for a version that is not newer than the release's or
// that the archive does not have.
UpdateState prepare_update(const Options &options, const KernelTree &kernel,
                           const std::filesystem::path &work_dir, const Progress &progress);

// Accounts every diff outcome and changed file in state.report, and returns
// the diff outputs that go into the module (none refused, none depending on
// a refused change). `objects_using` answers which objects read a header
// (the release's header scan).
std::vector<std::filesystem::path> settle_update(UpdateState &state,
                                                 const std::vector<DiffOutcome> &outcomes,
                                                 const std::filesystem::path &orig_dir,
                                                 const std::filesystem::path &patched_dir,
                                                 const ObjectsUsing &objects_using);

// Writes OUT/NAME.update.txt and OUT/NAME.update.json and returns their paths.
std::vector<std::filesystem::path> write_update_report(const UpdateReport &report,
                                                       const std::filesystem::path &output_dir,
                                                       const std::string &name);

} // namespace kpp::build::update
