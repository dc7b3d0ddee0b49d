#include "create-diff-object/same_target.h"
#include "create-diff-object/names.h"
#include "create-diff-object/sections.h"

#include <algorithm>
#include <cstring>

namespace kpp::diff {
namespace {

// Constants that point at constants that point at ...: deeper than this,
// or more relocations compared for one pair than kMaxSteps, the targets
// are taken to differ (a malformed object must not make the search explode).
constexpr int kMaxDepth = 8;
constexpr size_t kMaxSteps = 4096;

// One comparison of two relocations, through everything it compares in turn.
struct Search {
    TargetComparison &cmp;
    size_t steps_left = kMaxSteps;
};

// A span of one section whose contents are compared, and where inside it
// the relocation points.
struct Extent {
    const Section *sec = nullptr;
    uint64_t begin = 0, end = 0;
    int64_t inner = 0;
};

int64_t place_of(const Target &t) {
    return offset_in_section(*t.sym, t.offset);
}

// The name of what a symbol stands for: the data a section was made for,
// for a section symbol.
std::string_view data_name(const Symbol &sym) {
    if (sym.is_section() && sym.sec)
        return data_name_of_section(sym.sec->name);
    return sym.name;
}

bool writable(const Section &sec) {
    return (sec.hdr.sh_flags & SHF_WRITE) != 0;
}

// A constant the compiler generated or a piece of a constant pool:
// what matters is its value, not where it is.
bool is_value(const Target &t) {
    const Section *sec = t.sym->sec;
    return sec && (is_compiler_constant(data_name(*t.sym)) || is_constant_pool(*sec));
}

Extent value_extent(const Target &t) {
    const Section &sec = *t.sym->sec;
    if (!t.sym->is_section() && t.sym->size > 0)
        return {&sec, t.sym->value, t.sym->value + t.sym->size, t.offset};
    if (is_constant_pool(sec) && sec.hdr.sh_entsize > 0) {
        // One element of a pool of fixed-size constants (.rodata.cst16),
        // through the section symbol or a label of no size (gcc's .LC3):
        // its place in the pool is the linker's business.
        uint64_t size = sec.hdr.sh_entsize;
        int64_t at = place_of(t);
        uint64_t begin = static_cast<uint64_t>(std::max<int64_t>(at, 0)) / size * size;
        return {&sec, begin, std::min(begin + size, sec.size()), at - static_cast<int64_t>(begin)};
    }
    if (!t.sym->is_section())
        return {&sec, t.sym->value, t.sym->value + 1, t.offset};
    return {&sec, 0, sec.size(), t.offset};
}

// Offsets of sec that relocations point at: a piece of code or data
// without a symbol of its own (.altinstr_aux, anonymous .rodata) runs from
// one of them to the next.
const std::vector<int64_t> &entry_points(Context &ctx, const Section &sec) {
    if (!ctx.entry_points_ready) {
        for (const Object *obj : {ctx.orig.get(), ctx.patched.get()})
            for (const auto &rela : obj->sections) {
                if (!rela->is_rela() || !rela->base)
                    continue;
                for (const Relocation &r : rela->relocs)
                    if (r.sym->sec)
                        ctx.entry_points[r.sym->sec].push_back(
                            offset_in_section(*r.sym, ctx.arch.target_offset(*rela->base, r)));
            }
        for (auto &[s, offsets] : ctx.entry_points) {
            std::sort(offsets.begin(), offsets.end());
            offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
        }
        ctx.entry_points_ready = true;
    }
    static const std::vector<int64_t> none;
    auto it = ctx.entry_points.find(&sec);
    return it == ctx.entry_points.end() ? none : it->second;
}

// Code or read-only data with no symbol at the target: the piece from there
// to the next place anything points at.
bool is_anonymous_piece(const Target &t) {
    return t.sym->is_section() && t.sym->sec && !t.sym->sec->owner && t.sym->sec->is_alloc() &&
           !writable(*t.sym->sec);
}

Extent piece_extent(Context &ctx, const Target &t) {
    const Section &sec = *t.sym->sec;
    const auto &points = entry_points(ctx, sec);
    auto next = std::upper_bound(points.begin(), points.end(), t.offset);
    uint64_t begin = static_cast<uint64_t>(std::clamp<int64_t>(t.offset, 0, sec.size()));
    uint64_t end = next == points.end() ? sec.size()
                                        : static_cast<uint64_t>(std::clamp<int64_t>(
                                              *next, static_cast<int64_t>(begin), sec.size()));
    return {&sec, begin, end, 0};
}

bool same_target_at(Context &ctx, const Section &orig_sec, const Relocation &a,
                    const Section &patched_sec, const Relocation &b, Search &search, int depth);

std::span<const Relocation> relocations_in(const Extent &e) {
    if (!e.sec->rela)
        return {};
    const auto &relocs = e.sec->rela->relocs;
    auto first = std::lower_bound(relocs.begin(), relocs.end(), e.begin,
                                  [](const Relocation &r, uint64_t off) { return r.offset < off; });
    auto last = std::lower_bound(first, relocs.end(), e.end,
                                 [](const Relocation &r, uint64_t off) { return r.offset < off; });
    return {first, last};
}

// Same size, bytes and relocations (their targets compared in turn).
bool same_contents(Context &ctx, const Extent &a, const Extent &b, Search &search, int depth) {
    if (a.inner != b.inner || a.end - a.begin != b.end - b.begin)
        return false;
    bool a_bits = a.sec->hdr.sh_type != SHT_NOBITS, b_bits = b.sec->hdr.sh_type != SHT_NOBITS;
    if (a_bits != b_bits)
        return false;
    if (a_bits && !std::ranges::equal(a.sec->bytes(a.begin, a.end - a.begin),
                                      b.sec->bytes(b.begin, b.end - b.begin)))
        return false;
    auto ra = relocations_in(a), rb = relocations_in(b);
    if (ra.size() != rb.size())
        return false;
    for (size_t i = 0; i < ra.size(); i++)
        if (ra[i].offset - a.begin != rb[i].offset - b.begin || ra[i].type != rb[i].type ||
            !same_target_at(ctx, *a.sec, ra[i], *b.sec, rb[i], search, depth + 1))
            return false;
    return true;
}

bool same_strings(std::string_view a, std::string_view b, TargetComparison &cmp) {
    if (a == b)
        return true;
    if (!same_up_to_line_numbers(a, b))
        return false;
    cmp.line_numbers_moved = true;
    return true;
}

// Two symbols known by name only (undefined, or promoted by ThinLTO with a
// hash that changes from build to build: foo.llvm.123).
bool same_name(const Symbol &a, const Symbol &b) {
    if (a.name == b.name)
        return true;
    return a.name.find(".llvm.") != std::string::npos &&
           b.name.find(".llvm.") != std::string::npos && stable_name(a.name) == stable_name(b.name);
}

bool same_target_at(Context &ctx, const Section &orig_sec, const Relocation &a,
                    const Section &patched_sec, const Relocation &b, Search &search, int depth) {
    if (depth > kMaxDepth || search.steps_left == 0)
        return false;
    search.steps_left--;
    Target ta = resolve_target(ctx, orig_sec, a);
    Target tb = resolve_target(ctx, patched_sec, b);
    const Symbol *sa = ta.sym, *sb = tb.sym;
    // String literals by content: merging and reordering moves them, and
    // clang names some of them by a counter (.L.str.3).
    if (sa->sec && sb->sec && is_string_section(*sa->sec) && is_string_section(*sb->sec))
        return same_strings(string_at(*sa->sec, place_of(ta)), string_at(*sb->sec, place_of(tb)),
                            search.cmp);
    if (is_value(ta) && is_value(tb))
        return same_contents(ctx, value_extent(ta), value_extent(tb), search, depth);
    // Per-call-site statics are never correlated: the same macro at the
    // same place makes one of the same kind.
    std::string_view na = data_name(*sa), nb = data_name(*sb);
    if (is_special_static(na) && is_special_static(nb))
        return ta.offset == tb.offset && special_static_key(na) == special_static_key(nb);
    // A piece of code or constant data without a symbol (alternatives'
    // .altinstr_aux, anonymous .rodata): its contents, wherever it moved.
    if (is_anonymous_piece(ta) && is_anonymous_piece(tb) && sb->sec->twin == sa->sec)
        return same_contents(ctx, piece_extent(ctx, ta), piece_extent(ctx, tb), search, depth);
    if (ta.offset != tb.offset)
        return false;
    if (sb->twin == sa)
        return true;
    return !sa->sec && !sb->sec && same_name(*sa, *sb);
}

} // namespace

int64_t offset_in_section(const Symbol &sym, int64_t offset) {
    uint64_t base = sym.is_section() ? 0 : sym.value;
    return static_cast<int64_t>(base + static_cast<uint64_t>(offset)); // wraps on bad input
}

std::string_view string_at(const Section &sec, int64_t offset) {
    if (offset < 0 || static_cast<uint64_t>(offset) >= sec.data.size())
        return {};
    const char *p = reinterpret_cast<const char *>(sec.data.data()) + offset;
    return {p, strnlen(p, sec.data.size() - offset)};
}

bool same_up_to_line_numbers(std::string_view a, std::string_view b) {
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    auto after_file_name = [](std::string_view before) {
        return before.ends_with(".c") || before.ends_with(".h") || before.ends_with(".S");
    };
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i] != b[j])
            return false;
        bool line_follows = a[i] == ':' && after_file_name(a.substr(0, i));
        i++;
        j++;
        if (!line_follows)
            continue;
        size_t di = i, dj = j;
        while (di < a.size() && is_digit(a[di]))
            di++;
        while (dj < b.size() && is_digit(b[dj]))
            dj++;
        if ((di == i) != (dj == j))
            return false;
        i = di;
        j = dj;
    }
    return i == a.size() && j == b.size();
}

bool same_target(Context &ctx, const Section &orig_sec, const Relocation &a,
                 const Section &patched_sec, const Relocation &b, TargetComparison &cmp) {
    Search search{cmp};
    return same_target_at(ctx, orig_sec, a, patched_sec, b, search, 0);
}

} // namespace kpp::diff
