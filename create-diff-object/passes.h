// The create-diff-object pipeline, one pass a file, run in this order by
// diff_objects() (diff.cpp).
#pragma once

#include "create-diff-object/context.h"

namespace kpp::diff {

// correlate.cpp: pair sections and symbols of the two objects (twins).
void correlate(Context &ctx);
// compare.cpp: decide what changed; refuse changes that cannot be applied live.
void compare(Context &ctx);
// include.cpp: choose the changed/new functions and what they need.
void include_changed(Context &ctx);
// exports.cpp: warn about exports the patch adds or removes.
void note_export_changes(Context &ctx);
// Include everything the included sections, objects and kept entries
// reference that the running kernel lacks (after include_changed and again
// after the special-sections pass).
struct KeptEntries;
void include_references(Context &ctx, const KeptEntries *kept);
// special_sections.cpp: keep the entries of special sections that belong to
// included functions.
void select_special_entries(Context &ctx, KeptEntries &kept);
// output.cpp: write the output object with its livepatch metadata.
void write_output(Context &ctx, const KeptEntries &kept);

} // namespace kpp::diff
