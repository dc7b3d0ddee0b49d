// Pass: exports the patch adds or removes. A live patch cannot change what
// the running kernel exports: a function the patched source newly exports is
// carried by the patch module but not exported from it (a module needing the
// export needs a kernel built with it), and an export the source drops stays
// exported by the running kernel. Both are said, never silently ignored.
#include "create-diff-object/passes.h"
#include "libkpp/log.h"

#include <set>
#include <string>

namespace kpp::diff {
namespace {

// EXPORT_SYMBOL*(name) defines a symbol of this name for its entry in the
// kernel's export table.
constexpr std::string_view kExportEntryPrefix = "__ksymtab_";

std::set<std::string> exported_names(const Object &obj) {
    std::set<std::string> names;
    for (const auto &sym : obj.symbols)
        if (sym->sec && sym->name.starts_with(kExportEntryPrefix))
            names.insert(sym->name.substr(kExportEntryPrefix.size()));
    return names;
}

} // namespace

void note_export_changes(Context &ctx) {
    std::set<std::string> before = exported_names(*ctx.orig);
    std::set<std::string> after = exported_names(*ctx.patched);
    for (const std::string &name : after)
        if (!before.contains(name)) {
            ctx.exports_not_applied.push_back("added: " + name);
            log::warn("{}: the patched source exports {}, which the running kernel does not "
                      "export; a live patch cannot add exports, so the patch module carries {} "
                      "without exporting it (a module that needs it needs a kernel built with "
                      "the change)",
                      ctx.object_name, name, name);
        }
    for (const std::string &name : before)
        if (!after.contains(name)) {
            ctx.exports_not_applied.push_back("removed: " + name);
            log::warn("{}: the patched source no longer exports {}; the running kernel keeps "
                      "exporting it while the patch is applied",
                      ctx.object_name, name);
        }
}

} // namespace kpp::diff
