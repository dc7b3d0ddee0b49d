#include "kpatch-build/update/update_plan.h"

#include "kpatch-build/kbuild/compile_units.h"

#include <filesystem>

namespace kpp::build::update {
namespace fs = std::filesystem;

namespace {

// A change to a compiled source whose compile unit appears or disappears:
// kbuild links units into vmlinux or a module, and a live patch replaces
// functions of units that exist.
FileAccount unit_change(const TouchedFile &file) {
    const bool created = file.change == FileChange::Created;
    return {file.path,
            file.change,
            Outcome::Refused,
            created ? "new_compile_unit" : "removed_compile_unit",
            created ? "the update adds this compile unit; a live patch cannot link a new unit "
                      "into the running kernel"
                    : "the update removes this compile unit; a live patch cannot remove one",
            {object_of_source(file.path)}};
}

FileAccount settle_source(const TouchedFile &file, const std::string &reason) {
    return {file.path, file.change, Outcome::NotCompiled, "", reason, {}};
}

} // namespace

FileRole role_of(const std::string &path) {
    std::string name = fs::path(path).filename().string();
    std::string extension = fs::path(path).extension().string();
    if (name.starts_with("Makefile") || name.starts_with("Kbuild") || name.starts_with("Kconfig"))
        return FileRole::BuildRule;
    if (extension == ".c" || extension == ".S")
        return FileRole::Source;
    if (extension == ".h")
        return FileRole::Header;
    return FileRole::Other;
}

UpdatePlan plan_update(const std::vector<TouchedFile> &changed, const SourceFacts &facts) {
    UpdatePlan plan;
    for (const auto &file : changed) {
        switch (role_of(file.path)) {
        case FileRole::Header:
            plan.rebuild.push_back(file);
            break;
        case FileRole::BuildRule:
            plan.settled.push_back(
                {file.path,
                 file.change,
                 Outcome::BuildRules,
                 "",
                 "kbuild's rules and configuration choose what is built and how; the running "
                 "kernel keeps its own until it reboots into the update",
                 {}});
            break;
        case FileRole::Other:
            plan.settled.push_back({file.path,
                                    file.change,
                                    Outcome::Other,
                                    "",
                                    "kbuild compiles no object from this file by itself",
                                    {}});
            break;
        case FileRole::Source: {
            std::string object = object_of_source(file.path);
            const bool created = file.change == FileChange::Created;
            const bool compiled = !object.empty() && (created ? facts.compiled_in_newer(file.path)
                                                              : facts.compiled(object));
            if (compiled) {
                if (file.change == FileChange::Modified)
                    plan.rebuild.push_back(file);
                else
                    plan.settled.push_back(unit_change(file));
                break;
            }
            if (auto reason = facts.uncompiled_reason(file.path, created))
                plan.settled.push_back(settle_source(file, *reason));
            else
                // Included by another file: rebuilt through the objects
                // reading it (or, created, through the changed file that
                // includes it, which the update changes too).
                plan.rebuild.push_back(file);
            break;
        }
        }
    }
    return plan;
}

} // namespace kpp::build::update
