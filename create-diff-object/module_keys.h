// Jump labels and static calls keyed by the patched module's own symbols.
//
// The module loader reads a patch module's __jump_table and
// .static_call_sites while the patch module loads, but the livepatch core
// resolves the patched module's own symbols (.klp.sym.MODULE.*) only when
// that module is loaded: an entry keyed by one of them cannot stay as it is.
// - A static call site is dropped: its call instruction stays a call of the
//   key's trampoline, which always jumps to the call's current target, so
//   the call does the same, only without the direct-call optimisation.
// - A tracepoint's jump label is dropped with a warning: the branch stays as
//   compiled, off, so the patched function no longer fires that tracepoint.
// - An entry of any other key stays; the output pass refuses it, naming the
//   table and the key (a static key's state matters to the code).
#pragma once

#include "create-diff-object/context.h"
#include "create-diff-object/special_sections.h"

#include <vector>

namespace kpp::diff {

// Removes from `entries` (kept entries of `table`) those the module loader
// could not apply, as above.
// Each tracepoint so silenced goes to ctx.inert_tracepoints.
void drop_module_keyed_entries(Context &ctx, const Section &table, std::vector<Range> &entries);

} // namespace kpp::diff
