#include "kpatch-build/kpatch_build.h"

#include "kpatch-build/diff_report.h"
#include "kpatch-build/diff_stage.h"
#include "kpatch-build/distro/stock_kernel.h"
#include "kpatch-build/kbuild/changed_objects.h"
#include "kpatch-build/kbuild/compiler_check.h"
#include "kpatch-build/kbuild/kbuild_config.h"
#include "kpatch-build/kbuild/kbuild_outputs.h"
#include "kpatch-build/kbuild/kbuild_prepare.h"
#include "kpatch-build/kbuild/kbuild_progress.h"
#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/kbuild/object_build.h"
#include "kpatch-build/kbuild/object_parents.h"
#include "kpatch-build/kbuild/original_check.h"
#include "kpatch-build/kbuild/original_objects.h"
#include "kpatch-build/module/module_build.h"
#include "kpatch-build/module/module_sign.h"
#include "kpatch-build/packaging/package_stage.h"
#include "kpatch-build/progress.h"
#include "kpatch-build/tree/kernel_tree.h"
#include "kpatch-build/tree/patch_apply.h"
#include "kpatch-build/tree/tree_guard.h"
#include "kpatch-build/tree/tree_lock.h"
#include "kpatch-build/tree/tree_match.h"
#include "kpatch-build/tree/tree_snapshot.h"
#include "kpatch-build/update/update_mode.h"
#include "kpatch-build/util/data_dir.h"
#include "kpatch-build/util/disk_space.h"
#include "kpatch-build/util/interrupt.h"
#include "kpatch-build/util/text_file.h"
#include "kpatch-build/work_dir.h"
#include "libkpp/log.h"

#include <fstream>
#include <future>
#include <optional>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// "1 file", "2 files", "2 patches".
std::string plural(size_t n, std::string_view word) {
    std::string_view suffix = n == 1                                        ? ""
                              : word.ends_with("ch") || word.ends_with("s") ? "es"
                                                                            : "s";
    return fmt::format("{} {}{}", n, word, suffix);
}

bool same_bytes(const fs::path &a, const fs::path &b) {
    if (fs::file_size(a) != fs::file_size(b))
        return false;
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    return std::equal(std::istreambuf_iterator<char>(fa), std::istreambuf_iterator<char>(),
                      std::istreambuf_iterator<char>(fb));
}

// Everything one run needs to know, worked out before the tree is touched.
struct Plan {
    KernelTree kernel;
    BuildTree build;
    std::vector<fs::path> patches;
    std::vector<TouchedFile> touched;
    ObjectSelection selection;
    std::vector<DiffJob> jobs;
    std::optional<ParentIndex> parents;
    ObjectLookup lookup;
    SigningPlan signing;
    // --update-to: the update's state between its stages (update_mode.h).
    std::optional<update::UpdateState> update;
    // A module for kpatch.ko (kmod/core) rather than the livepatch core. The
    // object builds need to know too: see install_patch_headers().
    bool core = false;
};

BuildTree make_build_tree(const Options &options, const KernelTree &kernel) {
    auto variables = tree_make_variables(kernel.source_dir);
    variables.insert(variables.end(), kernel.make_variables.begin(), kernel.make_variables.end());
    if (options.oot_module_src.empty())
        return {kernel.source_dir, kernel.source_dir, false, variables};
    fs::path root = fs::absolute(options.oot_module_src).lexically_normal();
    if (!fs::is_directory(root))
        throw Error("--oot-module-src: {} is not a directory", root.string());
    if (!fs::is_regular_file(options.oot_module))
        throw Error("--oot-module: {} not found", options.oot_module);
    return {kernel.source_dir, root, true, variables};
}

// An out-of-tree module's build has a Module.symvers of its own: the exports
// of the modules built beside it. The diff reaches those through livepatch
// relocations naming their module, and the module's link check must know
// them: WORK/Module.symvers holds the kernel's exports and those.
fs::path with_module_exports(const fs::path &kernel_symvers, const fs::path &module_symvers,
                             const fs::path &work_dir) {
    if (!fs::is_regular_file(module_symvers))
        return kernel_symvers;
    fs::path combined = work_dir / "Module.symvers";
    write_text_file_atomically(combined, read_text_file_or_empty(kernel_symvers) +
                                             read_text_file_or_empty(module_symvers));
    return combined;
}

std::vector<TouchedFile> read_patches(const std::vector<fs::path> &patches) {
    std::vector<std::vector<TouchedFile>> lists;
    for (const auto &patch : patches)
        lists.push_back(parse_patch_file(patch));
    return merge_touched_files(lists);
}

// Kbuild re-runs Kconfig when a Kconfig file is newer than the config: that
// would rewrite .config and rebuild the whole tree, and a configuration
// change is not something a live patch can deliver anyway.
void refuse_config_changes(const std::vector<TouchedFile> &touched) {
    for (const auto &file : touched) {
        std::string name = fs::path(file.path).filename().string();
        if (name.starts_with("Kconfig") || name == ".config")
            throw Refusal("the patch changes {}: configuration changes cannot be live patched",
                          file.path);
    }
}

// kpatch.ko patches vmlinux only (docs/core.md): say so before building.
void refuse_module_objects_for_core(const std::vector<DiffJob> &jobs) {
    for (const auto &job : jobs)
        if (job.parent.name != "vmlinux")
            throw Refusal("{} is part of module {}; kpatch-build --core patches vmlinux only "
                          "(docs/core.md)",
                          job.object, job.parent.name);
}

// Only objects linked into vmlinux or a module can be patched; the others
// (boot code, vDSO, ...) are named and left out.
std::vector<DiffJob> assign_parents(ObjectSelection &selection, const ParentIndex &parents) {
    std::vector<DiffJob> jobs;
    std::vector<std::string> linked, unlinked;
    for (const auto &object : selection.objects) {
        if (!parents.is_linked(object)) {
            unlinked.push_back(object);
            continue;
        }
        linked.push_back(object);
        jobs.push_back({object, parents.parent_of(object)});
    }
    if (!unlinked.empty())
        log::info("not linked into vmlinux or a module, so not patchable; leaving out {}: {}{}",
                  plural(unlinked.size(), "object"),
                  fmt::join(unlinked.begin(),
                            unlinked.begin() + std::min<size_t>(unlinked.size(), 6), " "),
                  unlinked.size() > 6 ? " ..." : "");
    selection.objects = std::move(linked);
    return jobs;
}

// Touched sources this configuration does not compile change nothing: alone,
// they end the run with the reason; beside other files, they are named.
void refuse_only_uncompiled(const ObjectSelection &selection) {
    if (selection.uncompiled.empty())
        return;
    if (selection.objects.empty() && !selection.whole_tree)
        throw NoChange("{}", fmt::join(selection.uncompiled, "; "));
    for (const auto &line : selection.uncompiled)
        log::info("{}", line);
}

// --update-to: where the report goes and the lines that end the run.
void finish_update_report(update::UpdateReport &report, const Options &options) {
    auto files = update::write_update_report(report, options.output_dir, options.name);
    for (const auto &line : update::reboot_lines(report, 20))
        fmt::print("{}\n", line);
    fmt::print("{}\n", update::summary_line(report));
    log::warn("{}", update::review_notice());
    log::info("report: {} and {}", files[0].string(), files[1].string());
}

// --update-to with nothing to build or nothing to put in a module: the
// report still accounts for every changed file.
[[noreturn]] void finish_update_without_module(Plan &plan, const Options &options,
                                               const std::vector<DiffOutcome> &outcomes) {
    update::settle_update(*plan.update, outcomes, {}, {}, plan.lookup.objects_using);
    finish_update_report(plan.update->report, options);
    throw NoChange("nothing in the update {} -> {} can be applied live (the report says why)",
                   plan.update->report.from_version, plan.update->report.to_version);
}

// A run killed with the tree patched left a journal: taking the tree's lock
// replays it (tree_lock.h), so that the plan reads the user's own tree.
void recover_killed_run(const fs::path &tree) {
    TreeLock lock(tree);
}

Plan make_plan(const Options &options, const WorkDir &work, const Progress &progress) {
    Plan plan;
    packaging::require_package_tools(options.packages); // not after a long build
    progress.stage("checking the kernel tree");
    plan.kernel = find_kernel_tree(options, progress);
    recover_killed_run(plan.kernel.source_dir);
    if (!plan.kernel.stock) {
        check_tree_files_match(plan.kernel);
        // A tree built with LLVM=... is compiled with its clang unless the
        // user says otherwise (CC=...).
        if (auto clang = llvm_compiler(tree_make_variables(plan.kernel.source_dir));
            clang && !std::getenv("CC"))
            setenv("CC", clang->c_str(), 1);
        // (find_stock_kernel_tree() checks a distribution kernel's compiler.)
        if (options.skip_compiler_check)
            log::warn("not checking that {} is the compiler that built the kernel",
                      compiler_command());
        else
            plan.kernel.compiler = check_compiler(plan.kernel.config);
    }
    plan.build = make_build_tree(options, plan.kernel);
    if (plan.build.root != plan.kernel.source_dir)
        recover_killed_run(plan.build.root);
    if (plan.build.external_module)
        plan.kernel.symvers = with_module_exports(plan.kernel.symvers,
                                                  plan.build.root / "Module.symvers", work.path());
    plan.signing = plan_signing(options.sign_key, options.sign_cert,
                                read_config_file(plan.kernel.config), plan.kernel.source_dir);
    if (!plan.signing.warning.empty())
        log::warn("{}", plan.signing.warning);
    plan.core =
        options.core || !config_enabled(read_config_file(plan.kernel.config), "CONFIG_LIVEPATCH");

    if (!options.update_to.empty()) {
        plan.update = update::prepare_update(options, plan.kernel, work.path(), progress);
        if (plan.update->rebuild.empty())
            finish_update_without_module(plan, options, {});
        plan.patches.push_back(plan.update->patch);
    }
    for (const auto &patch : options.patches)
        plan.patches.push_back(fs::absolute(patch));
    plan.touched = read_patches(plan.patches);
    refuse_config_changes(plan.touched);
    progress.stage(
        fmt::format("checking that the {} {} ({})",
                    plan.patches.size() == 1 ? "patch" : plural(plan.patches.size(), "patch"),
                    plan.patches.size() == 1 ? "applies" : "apply in order",
                    plural(plan.touched.size(), "file")));
    check_patches_apply(plan.patches, plan.touched, plan.build.root, work / "patch-check");

    progress.stage("finding the objects the patches change");
    plan.lookup =
        plan.kernel.stock
            ? stock_object_lookup(plan.kernel, options.jobs, work.path(), work.log(), progress)
            : built_tree_lookup(plan.build.root, read_config_file(plan.kernel.config));
    plan.selection = select_objects(plan.touched, plan.lookup);
    refuse_only_uncompiled(plan.selection);
    for (const auto &line : plan.selection.explanations) {
        if (plan.selection.whole_tree)
            log::info("{}", line); // the user should see why everything is rebuilt
        else
            log::debug("{}", line);
    }
    if (plan.selection.whole_tree)
        log::warn("falling back to rebuilding all {} objects of the tree",
                  plan.selection.objects.size());
    plan.build.goals = plan.kernel.stock
                           ? stock_object_goals(plan.kernel)
                           : goals_from_cmd_files(plan.build.root, plan.selection.objects);
    if (!options.oot_module.empty())
        plan.parents = ParentIndex::single_module(fs::absolute(options.oot_module));
    else if (plan.kernel.stock)
        plan.parents = stock_parents(plan.kernel);
    else
        plan.parents = ParentIndex::scan(plan.build.root, plan.kernel.vmlinux);
    plan.jobs = assign_parents(plan.selection, *plan.parents);
    if (plan.update && plan.selection.objects.empty())
        finish_update_without_module(plan, options, {});
    if (plan.selection.objects.empty())
        throw NoChange("the patches change no object linked into this kernel or its modules");
    if (plan.core)
        refuse_module_objects_for_core(plan.jobs);
    return plan;
}

std::vector<std::string> touched_paths(const std::vector<TouchedFile> &touched) {
    std::vector<std::string> paths;
    for (const auto &file : touched)
        paths.push_back(file.path);
    return paths;
}

// Stage 5: original and patched builds, with the tree restored on every exit.
// After the restore, the whole tree must look as before: a file kbuild
// changed outside the protected set (a re-run of Kconfig, a rebuilt tool)
// could not be put back, and the user must hear about it.
void verify_tree_unchanged(const fs::path &root, const TreeSnapshot &before) {
    auto differences = TreeSnapshot::take(root).differences_from(before);
    if (differences.empty())
        return;
    const size_t shown = std::min<size_t>(differences.size(), 15);
    throw Error("kbuild changed {} file(s) in {} that kpatch-build did not expect and could not "
                "restore (a tree built with other make variables, or moved after it was built, "
                "has kbuild rebuild its configuration or tools):\n  {}{}",
                differences.size(), root.string(),
                fmt::join(differences.begin(), differences.begin() + shown, "\n  "),
                differences.size() > shown ? "\n  ..." : "");
}

void build_both_versions(const Options &options, const Plan &plan, const WorkDir &work,
                         const Progress &progress, const TreeSnapshot &before) {
    TreeGuard guard(plan.build.root, work / "backup");
    TreeGuard kernel_guard(plan.kernel.source_dir, work / "backup-kernel");
    kernel_guard.protect_all(files_prepare_may_rewrite(plan.kernel.source_dir));
    guard.protect_all(files_a_rebuild_may_write(
        plan.build.root, plan.selection.objects,
        [&](const std::string &object) { return plan.parents->is_linked(object); }));
    guard.protect_all(touched_paths(plan.touched));
    // Patches include <linux/kpatchpp-macros.h> (callbacks, ...): it is in
    // the tree for both builds; the kernel guard removes it again.
    for (const PatchHeader &header : kPatchHeaders)
        kernel_guard.protect(header.in_tree);
    log::debug("protected {} files of {}", guard.protected_count(), plan.build.root.string());
    install_patch_headers(plan.kernel.source_dir, plan.core);
    log::debug("installed the patch headers in {}{}", plan.kernel.source_dir.string(),
               plan.core ? " (KPP_CORE)" : "");

    ObjectBuildRequest request{plan.selection.objects, options.targets, options.jobs};
    const size_t count = request.objects.size();
    // A prepared stock tree is pristine on every run: its original objects
    // are kept per release (original_objects.h).
    std::optional<OriginalObjects> kept;
    if (plan.kernel.stock && options.targets.empty())
        kept.emplace(plan.kernel.source_dir, compiler_command(), object_kcflags());
    if (kept && kept->copy_all(request.objects, work / "orig")) {
        progress.stage(fmt::format("original objects ({}) from {}", count, kept->dir().string()));
    } else {
        progress.stage(fmt::format("building original objects ({})", count));
        KbuildProgressTicker ticker(progress, work.log(), "building original objects", count);
        build_objects(plan.build, request, work.log());
        copy_objects(plan.build.root, request.objects, work / "orig");
        if (kept)
            kept->keep(plan.build.root, request.objects);
    }

    progress.stage(fmt::format("applying {}", plural(plan.patches.size(), "patch")));
    apply_patches(plan.patches, plan.build.root, work.log());

    progress.stage(fmt::format("building patched objects ({})", count));
    {
        KbuildProgressTicker ticker(progress, work.log(), "building patched objects", count);
        build_objects(plan.build, request, work.log());
    }
    copy_objects(plan.build.root, request.objects, work / "patched");

    progress.stage("restoring the source tree");
    auto problems = guard.restore();
    auto kernel_problems = kernel_guard.restore();
    problems.insert(problems.end(), kernel_problems.begin(), kernel_problems.end());
    if (!problems.empty())
        throw Error("could not restore {} file(s) of {}; the originals are in {}", problems.size(),
                    plan.build.root.string(), (work / "backup").string());
    verify_tree_unchanged(plan.build.root, before);
}

// With another distribution build of the kernel's compiler, the originals
// stand for the running kernel only if they are its code (original_check.h).
void require_reproduced_originals(const Plan &plan, const WorkDir &work, const Progress &progress) {
    if (plan.kernel.compiler.match != CompilerMatch::OtherRevision)
        return;
    progress.stage(fmt::format("checking that the original objects are the kernel's code ({})",
                               plan.jobs.size()));
    std::vector<std::string> errors;
    for (const auto &job : plan.jobs) {
        auto differing = functions_not_reproduced(work / "orig" / job.object, job.parent.symtab,
                                                  job.parent.name);
        if (!differing.empty())
            errors.push_back(not_reproduced_message(job.object, differing,
                                                    plan.kernel.compiler.compiler_text,
                                                    plan.kernel.compiler.kernel_text));
    }
    if (!errors.empty())
        throw Error("{}", fmt::join(errors, "\n"));
    log::info("the original objects are the kernel's code: every function of them is in its "
              "parent, byte for byte outside relocated fields");
}

// The whole-tree fallback compiles everything; only objects whose bytes
// differ go to the diff.
std::vector<DiffJob> jobs_worth_diffing(const Plan &plan, const WorkDir &work) {
    if (!plan.selection.whole_tree)
        return plan.jobs;
    std::vector<DiffJob> jobs;
    for (const auto &job : plan.jobs)
        if (!same_bytes(work / "orig" / job.object, work / "patched" / job.object))
            jobs.push_back(job);
    log::info("{} of {} objects differ after patching", jobs.size(), plan.jobs.size());
    return jobs;
}

diff::StructSizes struct_sizes(const fs::path &vmlinux) {
    diff::StructSizes sizes = diff::StructSizes::from_dwarf(vmlinux.string());
    sizes.merge(diff::StructSizes::from_environment());
    return sizes;
}

void throw_on_failures(const std::vector<DiffOutcome> &outcomes) {
    if (auto errors = error_lines(outcomes); !errors.empty())
        throw Error("the diff failed:\n  {}", fmt::join(errors, "\n  "));
    if (auto refusals = refusal_lines(outcomes); !refusals.empty())
        throw Refusal("the patch cannot be applied live:\n  {}", fmt::join(refusals, "\n  "));
}

// Stage 6.
std::vector<fs::path> compare_objects(const Options &options, Plan &plan, const WorkDir &work,
                                      const Progress &progress,
                                      std::future<diff::StructSizes> &sizes) {
    std::vector<DiffJob> jobs = jobs_worth_diffing(plan, work);
    progress.stage(fmt::format("comparing objects ({})", jobs.size()));
    DiffSettings settings{work / "orig",       work / "patched", work / "output", work / "reports",
                          plan.kernel.symvers, options.name,     sizes.get(),     options.jobs};
    auto outcomes = diff_objects_in_parallel(jobs, settings);
    std::ofstream(work / "report.json") << combined_report(options.name, outcomes).dump(2) << '\n';
    for (const auto &line : describe_changes(outcomes))
        fmt::print("{}\n", line);
    if (plan.update) {
        // Refusals are accounted, not fatal: the module is made of the rest.
        auto outputs = update::settle_update(*plan.update, outcomes, work / "orig",
                                             work / "patched", plan.lookup.objects_using);
        if (outputs.empty())
            finish_update_without_module(plan, options, outcomes);
        return outputs;
    }
    throw_on_failures(outcomes);
    std::vector<fs::path> outputs;
    for (const auto &outcome : outcomes)
        if (outcome.changed)
            outputs.push_back(outcome.output);
    if (outputs.empty())
        throw NoChange("the patched objects are equivalent to the originals: nothing to patch");
    return outputs;
}

fs::path run_stages(const Options &options, const WorkDir &work, const Progress &progress) {
    Plan plan = make_plan(options, work, progress);
    // From the snapshot to the last check after the module build, no other
    // kpatch-build may use the tree (see tree_lock.h).
    TreeLock kernel_lock(plan.kernel.source_dir);
    std::optional<TreeLock> root_lock;
    if (plan.build.root != plan.kernel.source_dir)
        root_lock.emplace(plan.build.root);
    // DWARF of a big vmlinux takes seconds to read: do it while make runs.
    auto sizes = std::async(std::launch::async, struct_sizes, plan.kernel.vmlinux);
    const TreeSnapshot before = TreeSnapshot::take(plan.build.root);
    log::debug("snapshot of {} files in {} taken after {:.1f}s", before.size(),
               plan.build.root.string(), progress.elapsed_seconds());
    build_both_versions(options, plan, work, progress, before);
    require_reproduced_originals(plan, work, progress);
    auto outputs = compare_objects(options, plan, work, progress, sizes);

    progress.stage("building the patch module");
    ModuleRequest request;
    request.diff_outputs = outputs;
    request.kernel_dir = plan.kernel.source_dir;
    request.module_dir = work / "module";
    request.symvers = plan.kernel.symvers;
    request.name = options.name;
    request.non_replace = options.non_replace;
    request.core = plan.core;
    request.vmlinux = plan.kernel.vmlinux;
    if (request.core)
        progress.stage("the module is for kpatch.ko (kmod/core), not the livepatch core");
    request.jobs = options.jobs;
    request.make_variables = plan.build.make_variables;
    request.output =
        fs::absolute(fs::path(options.output_dir) / (options.name + ".ko")).lexically_normal();
    build_patch_module(request, work.log());
    if (plan.signing.signs()) {
        progress.stage(fmt::format("signing the module ({}, {})", plan.signing.hash,
                                   plan.signing.cert.filename().string()));
        sign_module(plan.signing, request.output, work.log());
    }
    verify_tree_unchanged(plan.build.root, before); // the module build must not touch it either
    if (!options.packages.empty())
        progress.stage(fmt::format("packaging {} as .{}", request.name,
                                   fmt::join(options.packages, " and .")));
    for (const auto &package : packaging::write_patch_packages(options, plan.kernel, request.output,
                                                               work.path(), work.log()))
        progress.stage(fmt::format("built {}", package.string()));
    if (plan.update) {
        plan.update->report.module = request.output.string();
        finish_update_report(plan.update->report, options);
    }
    return request.output;
}

// Rethrows the exception being handled, replaced by a "no space left" error
// when a filesystem kpatch-build writes to is full: that, not the first
// operation to fail, is what the user has to fix. An interrupt stays one.
[[noreturn]] void rethrow_explaining_full_disk(const Options &options, const WorkDir &work) {
    try {
        throw;
    } catch (const Interrupted &) {
        throw;
    } catch (const std::exception &e) {
        std::vector<WritePlace> places{
            {work.path().parent_path(), "TMPDIR"},
            {fs::absolute(options.output_dir.empty() ? "." : options.output_dir),
             "the output directory"}};
        if (!options.source_dir.empty())
            places.push_back({fs::absolute(options.source_dir), "the kernel tree"});
        auto full = describe_full_place(places);
        if (!full)
            throw;
        log::debug("the failure a full disk caused: {}", e.what());
        throw Error("{}", *full);
    }
}

} // namespace

void run_kpatch_build(const Options &options) {
    Progress progress;
    WorkDir work;
    log::set_file(work.log().string());
    log::debug("work directory {}", work.path().string());
    if (options.debug || options.skip_cleanup)
        work.keep();
    try {
        fs::path module = run_stages(options, work, progress);
        progress.stage(fmt::format("built {}", module.string()));
        fmt::print("total time {:.1f}s\n", progress.elapsed_seconds());
        if (work.kept())
            fmt::print("work directory: {}\n", work.path().string());
    } catch (...) {
        // Once the builds started, the log and objects are worth keeping;
        // an option or validation error needs no work directory.
        if (fs::exists(work / "backup"))
            work.keep();
        if (work.kept())
            log::info("log: {} (work directory kept)", work.log().string());
        rethrow_explaining_full_disk(options, work);
    }
}

} // namespace kpp::build
