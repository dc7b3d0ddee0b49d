// Static local variables that correlation could not pair.
#pragma once

#include "create-diff-object/context.h"

namespace kpp::diff {

// Refuses when the patched object has a writable static local variable
// without a twin while the original has one of the same source name left
// unpaired (seen: `static int count` moved into a new helper): the patch
// would give it a fresh copy from its initial value and the kernel's value
// would be lost without a word. KPP_IGNORE_STATIC("count") (or kpatch's
// KPATCH_IGNORE_STATIC) in the patch says a fresh copy is intended.
void refuse_lost_static_locals(Context &ctx);

} // namespace kpp::diff
