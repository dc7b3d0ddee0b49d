// Whether a relocation of the original object and one of the patched object
// refer to the same thing: what is compared is what they point at (a
// symbol and the offset inside it, the contents of a constant, the code
// piece at the target), never raw section offsets, which move whenever
// something else in the section does.
#pragma once

#include "create-diff-object/context.h"

#include <string_view>

namespace kpp::diff {

// What one comparison of relocations found beyond yes or no.
struct TargetComparison {
    // Two strings were equal only up to the source line numbers in them
    // (a WARN's or fortify's "file.c:8493"): the same, like a __LINE__ move.
    bool line_numbers_moved = false;
};

bool same_target(Context &ctx, const Section &orig_sec, const Relocation &a,
                 const Section &patched_sec, const Relocation &b, TargetComparison &cmp);

// Where `offset` inside sym is in sym's section.
int64_t offset_in_section(const Symbol &sym, int64_t offset);

// The NUL-terminated string at `offset` of sec (empty outside it).
std::string_view string_at(const Section &sec, int64_t offset);

// Whether two strings differ only in the line numbers after a source file
// name ("drivers/x.c:120" / "drivers/x.c:123").
bool same_up_to_line_numbers(std::string_view a, std::string_view b);

} // namespace kpp::diff
