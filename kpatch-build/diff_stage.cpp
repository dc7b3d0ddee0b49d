#include "kpatch-build/diff_stage.h"

#include "kpatch-build/util/interrupt.h"

#include <atomic>
#include <thread>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

void diff_one(const DiffJob &job, const DiffSettings &settings, DiffOutcome &outcome) {
    outcome.job = job;
    diff::Options options;
    options.orig_path = (settings.orig_dir / job.object).string();
    options.patched_path = (settings.patched_dir / job.object).string();
    options.parent_name = job.parent.name;
    options.parent_symtab = job.parent.symtab.string();
    options.symvers_path = settings.symvers.string();
    options.patch_name = settings.patch_name;
    fs::path output = settings.output_dir / job.object;
    fs::path report = settings.reports_dir / (job.object + ".json");
    fs::create_directories(output.parent_path());
    fs::create_directories(report.parent_path());
    options.output_path = output.string();
    options.report_path = report.string();
    options.sizes = settings.sizes;
    try {
        diff::Result result = diff::diff_objects(options);
        outcome.changed = result.changed;
        outcome.functions = std::move(result.functions);
        outcome.report = std::move(result.report);
        if (result.changed)
            outcome.output = output;
    } catch (const Refusal &refusal) {
        outcome.refusal = refusal.what();
        outcome.refusal_kind = refusal.kind();
    } catch (const std::exception &e) {
        outcome.error = e.what();
    }
}

} // namespace

std::vector<DiffOutcome> diff_objects_in_parallel(const std::vector<DiffJob> &jobs,
                                                  const DiffSettings &settings) {
    std::vector<DiffOutcome> outcomes(jobs.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < jobs.size() && !interrupt::requested(); i = next++)
            diff_one(jobs[i], settings, outcomes[i]);
    };
    unsigned threads = std::max(1u, std::min<unsigned>(settings.threads, jobs.size()));
    {
        std::vector<std::jthread> pool;
        for (unsigned t = 0; t < threads; ++t)
            pool.emplace_back(worker);
    }
    interrupt::throw_if_requested();
    return outcomes;
}

} // namespace kpp::build
