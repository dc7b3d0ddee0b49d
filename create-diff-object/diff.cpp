// diff_objects(): the create-diff-object pipeline, pass by pass.
#include "create-diff-object/diff.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/special_sections.h"
#include "create-diff-object/type_layouts.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <chrono>
#include <filesystem>
#include <fstream>

namespace kpp::diff {
namespace {

// Runs one stage and, with --debug, says how long it took.
template <class Fn> auto timed(const char *stage, Fn &&fn) {
    auto start = std::chrono::steady_clock::now();
    struct Report {
        const char *stage;
        std::chrono::steady_clock::time_point start;
        ~Report() {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start);
            log::debug("{}: {} ms", stage, ms.count());
        }
    } report{stage, start};
    return fn();
}

// In a relocatable object a symbol's value is an offset into its section.
// One that reaches past the section's end (only a corrupt object has one)
// would have the passes read, copy and size bytes the object does not have;
// a section symbol stands for its section, so it must have one.
void check_symbols(const Object &obj, const char *role) {
    for (size_t i = 1; i < obj.symbols.size(); i++) {
        const Symbol *sym = obj.symbols[i].get();
        if (sym->is_section() && !sym->sec)
            throw Error("{}: symbol {} of the {} object is a section symbol without a section",
                        obj.path, i, role);
        if (!sym->sec || sym->is_section())
            continue;
        uint64_t room = sym->sec->size();
        if (sym->value > room || sym->size > room - sym->value)
            throw Error("{}: symbol {} of the {} object (offset {:#x}, size {:#x}) reaches past "
                        "the end of its section {} ({:#x} bytes)",
                        obj.path, sym->name, role, sym->value, sym->size, sym->sec->name, room);
    }
}

std::unique_ptr<Object> read_kernel_object(const std::string &path, const char *role) {
    auto obj = Object::read(path);
    if (obj->file_type != ET_REL)
        throw Error("{}: the {} object must be a relocatable object (.o), not a linked file", path,
                    role);
    for (size_t i = 1; i < obj->sections.size(); i++)
        if (obj->sections[i]->name.empty())
            throw Error("{}: section {} of the {} object has no name", path, i, role);
    bool has_symtab = obj->symbols.size() > 1;
    if (!has_symtab)
        throw Error("{}: the {} object has no symbol table (stripped?)", path, role);
    check_symbols(*obj, role);
    return obj;
}

nlohmann::json build_report(const Context &ctx) {
    nlohmann::json report;
    report["object"] = ctx.object_name;
    report["parent"] = ctx.options.parent_name;
    report["functions"] = nlohmann::json::array();
    for (const ChangeReason &c : ctx.changes) {
        report["functions"].push_back(
            {{"name", c.func->name},
             {"status", c.func->status == Status::New ? "new" : "changed"},
             {"reason", c.why}});
    }
    report["line_number_only"] = ctx.line_only;
    report["ignored"] = ctx.ignored;
    report["init_changed_by_inlining"] = ctx.init_changed_by_inlining;
    report["inert_tracepoints"] = ctx.inert_tracepoints;
    report["exports_not_applied"] = ctx.exports_not_applied;
    return report;
}

void write_report(const std::string &path, const nlohmann::json &report) {
    if (path.empty())
        return;
    std::ofstream out(path);
    if (!out)
        throw Error("{}: cannot write the report", path);
    out << report.dump(2) << '\n';
}

} // namespace

Result diff_objects(const Options &options) {
    auto orig =
        timed("read original", [&] { return read_kernel_object(options.orig_path, "original"); });
    auto patched =
        timed("read patched", [&] { return read_kernel_object(options.patched_path, "patched"); });
    Arch::for_object(*orig);
    const Arch &arch = Arch::for_object(*patched);
    if (orig->machine != patched->machine)
        throw Error("{} ({}) and {} ({}) are built for different machines", options.orig_path,
                    machine_name(orig->machine), options.patched_path,
                    machine_name(patched->machine));
    KernelSymbols kernel =
        timed("read parent symbols", [&] { return KernelSymbols::load(options.parent_symtab); });
    ExportedSymbols exported = ExportedSymbols::load(options.symvers_path);

    Context ctx{options, arch, std::move(orig), std::move(patched)};
    ctx.kernel = &kernel;
    ctx.exported = &exported;
    ctx.object_name = std::filesystem::path(options.orig_path).filename().string();
    index_symbols_by_section(ctx);

    Result result;
    try {
        timed("correlate", [&] { correlate(ctx); });
        timed("compare", [&] { compare(ctx); });
        timed("type layouts", [&] { refuse_layout_changes(ctx); });
        timed("include", [&] { include_changed(ctx); });
        note_export_changes(ctx);
        if (!ctx.changes.empty()) {
            KeptEntries kept;
            timed("special sections", [&] { select_special_entries(ctx, kept); });
            timed("output", [&] { write_output(ctx, kept); });
        }
    } catch (const Refusal &refusal) {
        nlohmann::json report = build_report(ctx);
        report["refused"] = refusal.what();
        write_report(options.report_path, report);
        throw;
    }
    result.changed = !ctx.changes.empty();
    for (const ChangeReason &c : ctx.changes)
        result.functions.push_back({c.func->name, c.func->status == Status::New, c.why,
                                    c.func->parent ? c.func->parent->name : ""});
    result.report = build_report(ctx);
    write_report(options.report_path, result.report);
    return result;
}

} // namespace kpp::diff
