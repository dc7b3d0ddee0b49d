// Pass: output. Lay out the included sections, objects and special-section
// entries in a new object, point every relocation at its new place or at
// the running kernel's symbol, and add the table of functions to replace
// (.kpatchpp.funcs, described in docs/patch-module.md).
#include "create-diff-object/names.h"
#include "create-diff-object/passes.h"
#include "create-diff-object/sections.h"
#include "create-diff-object/special_sections.h"
#include "libkpp/error.h"
#include "libkpp/klp_sections.h"
#include "libkpp/log.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

namespace kpp::diff {
namespace {

// Layout of one entry of .kpatchpp.funcs (struct kpp_patch_func in
// kmod/patch/).
struct PatchFuncEntry {
    uint64_t new_addr;
    uint64_t old_size;
    uint64_t new_size;
    uint64_t sympos;
    uint64_t old_name;
    uint64_t objname;
};
static_assert(sizeof(PatchFuncEntry) == 48);

class OutputBuilder {
  public:
    OutputBuilder(Context &ctx, const KeptEntries &kept)
        : ctx_(ctx), kept_(kept), groups_(*ctx.kernel, *ctx.orig) {
        out_ = std::make_unique<Object>();
        out_->machine = ctx.patched->machine;
        out_->os_abi = ctx.patched->os_abi;
        out_->flags = ctx.patched->flags;
        out_->path = ctx.options.output_path;
        out_->symbols.push_back(std::make_unique<Symbol>());
    }

    void build() {
        place_sections();
        place_symbols();
        copy_relocations();
        import_namespaces();
        link_ordered_sections();
        add_patch_table();
    }

    void write(const std::string &path) { out_->write(path); }

  private:
    // One piece of an input section and where it landed.
    struct Piece {
        uint64_t in_begin, in_end;
        Section *out;
        uint64_t out_offset;
    };

    Section *new_section_like(const Section &in) {
        Section *sec = out_->add_section(in.name, in.hdr.sh_type, in.hdr.sh_flags & ~SHF_GROUP,
                                         in.hdr.sh_addralign);
        sec->hdr.sh_entsize = in.hdr.sh_entsize;
        sec->secsym = out_->add_symbol(in.name, STB_LOCAL, STT_SECTION, sec, 0, 0);
        return sec;
    }

    void append(const Section &in, Section *out, uint64_t begin, uint64_t end, uint64_t align) {
        uint64_t at = out->size();
        if (align > 1)
            at = (at + align - 1) / align * align;
        if (in.hdr.sh_type == SHT_NOBITS) {
            out->hdr.sh_size = at + (end - begin);
        } else {
            out->data.resize(at, 0);
            auto bytes = in.bytes(begin, end - begin);
            out->data.insert(out->data.end(), bytes.begin(), bytes.end());
            // A table's last entry may be short of its padding in the input.
            out->data.resize(at + (end - begin), 0);
        }
        pieces_[&in].push_back({begin, end, out, at});
    }

    // The included objects of a shared section, in address order.
    std::vector<Range> included_objects(const Section &sec) {
        std::vector<Range> ranges;
        auto it = ctx_.symbols_in.find(&sec);
        if (it == ctx_.symbols_in.end())
            return ranges;
        for (const Symbol *sym : it->second)
            if (sym->include &&
                (ranges.empty() || sym->value >= ranges.back().offset + ranges.back().size))
                ranges.push_back({sym->value, std::max<uint64_t>(sym->size, 1)});
        return ranges;
    }

    void place_sections() {
        for (auto &owned : ctx_.patched->sections) {
            const Section &in = *owned;
            if (is_debug_section(in)) {
                append(in, new_section_like(in), 0, in.size(), 1);
                continue;
            }
            if (in.name.empty() || in.is_rela() || is_ignored_section(in))
                continue;
            if (in.include) {
                append(in, new_section_like(in), 0, in.size(), 1);
                continue;
            }
            auto kept = kept_.ranges.find(&in);
            std::vector<Range> ranges =
                kept != kept_.ranges.end() ? kept->second : included_objects(in);
            if (ranges.empty())
                continue;
            Section *out = new_section_like(in);
            // Table entries are packed; whole objects keep their alignment.
            uint64_t align = kept != kept_.ranges.end() ? 1 : in.hdr.sh_addralign;
            for (const Range &r : ranges)
                append(in, out, r.offset, r.offset + r.size, align);
        }
    }

    // Where input offset `offset` of `in` landed, if it did.
    std::optional<std::pair<Section *, uint64_t>> placed(const Section &in, int64_t offset) {
        auto it = pieces_.find(&in);
        if (it == pieces_.end())
            return std::nullopt;
        for (const Piece &p : it->second)
            if (offset >= static_cast<int64_t>(p.in_begin) &&
                (offset < static_cast<int64_t>(p.in_end) ||
                 (offset == static_cast<int64_t>(p.in_end) && p.in_begin == 0)))
                return std::make_pair(p.out, p.out_offset + (offset - p.in_begin));
        return std::nullopt;
    }

    // Whether a symbol starts inside what was copied: placed() also maps
    // the offset one past a piece (for relocations to the end of an array),
    // where the next, uncopied table entry's symbol starts.
    bool starts_in_a_piece(const Symbol &in) {
        auto it = pieces_.find(in.sec);
        if (it == pieces_.end())
            return false;
        return std::any_of(it->second.begin(), it->second.end(), [&](const Piece &p) {
            return in.value >= p.in_begin && in.value < p.in_end;
        });
    }

    void place_symbols() {
        for (auto &owned : ctx_.patched->symbols) {
            const Symbol &in = *owned;
            if (in.is_file() && !file_symbol_) {
                file_symbol_ = out_->add_symbol(in.name, STB_LOCAL, STT_FILE, nullptr, 0, 0);
                file_symbol_->shndx = SHN_ABS;
                continue;
            }
            if (in.is_section() || in.is_file() || !in.sec || in.name.empty() ||
                ctx_.arch.is_mapping_symbol(in))
                continue;
            auto where = placed(*in.sec, static_cast<int64_t>(in.value));
            if (!where || (in.size && !starts_in_a_piece(in)))
                continue;
            // New globals stay global so other objects of the same patch can
            // use them; replaced versions are private to the patch.
            uint8_t bind = in.status == Status::New ? in.bind : STB_LOCAL;
            Symbol *sym =
                out_->add_symbol(in.name, bind, in.type, where->first, where->second, in.size);
            sym->other = in.other;
            out_symbol_[&in] = sym;
        }
    }

    std::string klp_name(std::string_view object, const std::string &name, uint64_t sympos) {
        return fmt::format(".klp.sym.{}.{},{}", object, name, sympos);
    }
    std::string klp_name(const std::string &name, uint64_t sympos) {
        return klp_name(ctx_.options.parent_name, name, sympos);
    }

    // The name the running kernel knows `in` by, in livepatch form when the
    // module loader cannot resolve it (or, from a table it reads at load,
    // `from`, cannot resolve it in time).
    std::string kernel_name(const Section &from, const Symbol &in, const std::string &user) {
        bool read_at_load = klp::read_before_module_klp_relocs(from.name);
        if (!in.sec) {
            const std::string &name = in.twin ? in.twin->name : in.name;
            return linked_by_name(ctx_, in, read_at_load)
                       ? name
                       : klp_name(livepatch_object_of(ctx_, in), name, 0);
        }
        if (!in.twin)
            throw Error("{}: {} refers to {}, which is new but was not included (internal "
                        "error; please report with the objects)",
                        ctx_.object_name, user, in.name);
        const std::string &name = in.twin->name; // GCC may have renumbered it
        if (in.twin->is_local()) {               // the running kernel's binding
            auto pos = ctx_.kernel->find(name, true, groups_.of(in.twin));
            if (!pos)
                throw Refusal(RefusalKind::MissingSymbol,
                              "{}: {} refers to {}, which {} does not have (inlined or "
                              "optimized away in the running kernel); patch its callers instead",
                              ctx_.object_name, user, name, ctx_.options.parent_name);
            return klp_name(name, pos->sympos);
        }
        return linked_by_name(ctx_, in, read_at_load)
                   ? name
                   : klp_name(livepatch_object_of(ctx_, in), name, 0);
    }

    Symbol *kernel_reference(const Section &from, const Symbol &in, const std::string &user) {
        std::string name = kernel_name(from, in, user);
        auto [it, added] = kernel_refs_.try_emplace(name, nullptr);
        if (added) {
            it->second = out_->add_symbol(name, STB_GLOBAL, STT_NOTYPE, nullptr, 0, 0);
            it->second->shndx = SHN_UNDEF;
        }
        return it->second;
    }

    // CONFIG_X86_KERNEL_IBT: the kernel overwrites at boot the ENDBR of each
    // function whose address nothing in it takes (.ibt_endbr_seal). A
    // pointer the patch takes to such a function would fault when called.
    void refuse_pointer_to_sealed(const Section &from, const Relocation &rel, const Symbol &in,
                                  const std::string &user) {
        if (from.is_text() && ctx_.arch.is_branch(from, rel))
            return;
        const Symbol &old = in.twin ? *in.twin : in;
        bool local = in.sec && in.twin && in.twin->is_local();
        auto pos = ctx_.kernel->find(old.name, local, local ? groups_.of(in.twin) : 0);
        if (!pos || !pos->endbr_sealed)
            return;
        std::string what = fmt::format("{}: {} takes the address of {}, whose ENDBR {} seals at "
                                       "boot (CONFIG_X86_KERNEL_IBT; nothing in it takes that "
                                       "address), so a call through the pointer would fault "
                                       "with \"Missing ENDBR\"",
                                       ctx_.object_name, user, old.name, ctx_.options.parent_name);
        if (in.status == Status::Changed)
            throw Refusal(RefusalKind::FunctionPointer,
                          "{}; the patch replaces {}, and a pointer to its copy in the module "
                          "would not survive unloading the patch; call it directly, or take "
                          "the address in code the patch does not change",
                          what, old.name);
        throw Refusal(RefusalKind::FunctionPointer,
                      "{}; make the patch change {} too (its copy in the module keeps its "
                      "ENDBR), or call it directly",
                      what, old.name);
    }

    // A patched module's own symbols are reached through livepatch
    // relocations, which the livepatch core applies only when that module
    // loads (klp_module_coming()); the tables the module loader reads while
    // the patch module loads (jump labels of the module's tracepoints and
    // static keys, static calls, ...) would be read unapplied.
    void refuse_module_symbol_read_at_load(const Section &from, const Symbol &ref, const Symbol &in,
                                           const std::string &user) {
        if (ctx_.options.parent_name == "vmlinux" || !ref.name.starts_with(".klp.sym.") ||
            !klp::read_before_module_klp_relocs(from.name))
            return;
        const std::string &name = in.twin ? in.twin->name : in.name;
        throw Refusal(RefusalKind::MissingSymbol,
                      "{}: {} (for {}) needs {}, a symbol of module {} it does not export: the "
                      "module loader reads {} when the patch module loads, but the livepatch "
                      "core resolves {}'s own symbols only once {} is loaded; make the change "
                      "without that static key, tracepoint or static call of {} in the patched "
                      "functions (docs/patch-authors-guide.md)",
                      ctx_.object_name, from.name, user, name, ctx_.options.parent_name, from.name,
                      ctx_.options.parent_name, ctx_.options.parent_name, ctx_.options.parent_name);
    }

    Symbol *kernel_target(const Section &from, const Relocation &rel, const Symbol &in,
                          const std::string &user) {
        refuse_pointer_to_sealed(from, rel, in, user);
        Symbol *ref = kernel_reference(from, in, user);
        refuse_module_symbol_read_at_load(from, *ref, in, user);
        return ref;
    }

    // A pointer to a function the patch replaces (stored in data, passed at
    // run time), rather than a call: it must lead to the kernel's function,
    // which ftrace sends to the replacement while the patch is on, so no
    // pointer into the module outlives its unloading or an atomic replace.
    // The kernel's tables of code sites (jump labels, ORC, ...) and the
    // author's callbacks point at the module's copy itself.
    bool takes_replaced_function(const Section &from, const Relocation &rel, const Symbol &target,
                                 int64_t offset) const {
        if (!target.is_func() || target.status != Status::Changed || target.parent || offset != 0)
            return false;
        if (is_special_section(from.name) || is_author_section(from))
            return false;
        return !(from.is_text() && ctx_.arch.is_branch(from, rel));
    }

    // Where a relocation to a function or object of the patched object goes:
    // its copy in the output, else the running kernel's.
    Symbol *target_symbol(const Section &from, const Relocation &rel, const Symbol &target,
                          int64_t offset, const std::string &user) {
        if (!takes_replaced_function(from, rel, target, offset)) {
            auto it = out_symbol_.find(&target);
            if (it != out_symbol_.end())
                return it->second;
        }
        return kernel_target(from, rel, target, user);
    }

    // Re-points one relocation of input section `from`.
    Relocation translate(const Section &from, const Relocation &rel, uint64_t out_offset) {
        std::string user = from.owner ? from.owner->name : from.name;
        Relocation out{out_offset, rel.type, rel.addend, nullptr};
        const Symbol *sym = rel.sym;
        if (!sym->is_section()) {
            out.sym = target_symbol(from, rel, *sym, ctx_.arch.target_offset(from, rel), user);
            return out;
        }
        // Section symbol: point at the new place, or at the kernel's symbol
        // at that place. The addend keeps its instruction bias.
        int64_t offset = ctx_.arch.target_offset(from, rel);
        int64_t bias = wrapping_sub(offset, rel.addend);
        Target target = resolve_target(ctx_, from, rel);
        if (!target.sym->is_section()) {
            out.sym = target_symbol(from, rel, *target.sym, target.offset, user);
            out.addend = wrapping_sub(target.offset, bias);
            return out;
        }
        if (auto where = placed(*sym->sec, offset)) {
            out.sym = where->first->secsym;
            out.addend = wrapping_sub(static_cast<int64_t>(where->second), bias);
            return out;
        }
        throw Refusal(RefusalKind::MissingSymbol,
                      "{}: {} refers to {}+{:#x}, which has no symbol the running kernel could "
                      "be searched for",
                      ctx_.object_name, user, sym->sec->name, offset);
    }

    // A relocation of the DWARF copied whole: what the patch holds (its
    // functions, data and the other DWARF sections) keeps its place; an
    // address of anything else (a function the patch does not carry) goes
    // far from every section of the module, so that no tool takes it for
    // patched code, and an offset (32 bits) into anything else stays 0.
    // Never a reference to the running kernel: the livepatch core cannot
    // relocate sections that are not loaded.
    std::optional<Relocation> translate_debug(const Relocation &rel, uint64_t out_offset) {
        const Symbol *sym = rel.sym;
        if (sym->sec) {
            int64_t offset =
                rel.addend + (sym->is_section() ? 0 : static_cast<int64_t>(sym->value));
            if (auto where = placed(*sym->sec, offset))
                return Relocation{out_offset, rel.type, static_cast<int64_t>(where->second),
                                  where->first->secsym};
        }
        if (rel.type != ctx_.arch.absolute64())
            return std::nullopt;
        return Relocation{out_offset, rel.type, 0, absent_code()};
    }

    // Where the DWARF of code the patch does not carry points (see
    // translate_debug): an absolute address no module section is near.
    Symbol *absent_code() {
        if (!absent_code_) {
            absent_code_ = out_->add_symbol(".kpatchpp.debug.absent", STB_LOCAL, STT_NOTYPE,
                                            nullptr, 0xfff0000000000000ULL, 0);
            absent_code_->shndx = SHN_ABS;
        }
        return absent_code_;
    }

    void copy_relocations() {
        for (auto &owned : ctx_.patched->sections) {
            const Section *in = owned.get();
            auto found = pieces_.find(in);
            if (found == pieces_.end() || !in->rela)
                continue;
            const std::vector<Piece> &pieces = found->second;
            const auto &relocs = in->rela->relocs;
            for (const Piece &p : pieces) {
                auto first = std::lower_bound(
                    relocs.begin(), relocs.end(), p.in_begin,
                    [](const Relocation &r, uint64_t off) { return r.offset < off; });
                for (auto it = first; it != relocs.end() && it->offset < p.in_end; ++it) {
                    uint64_t at = p.out_offset + (it->offset - p.in_begin);
                    if (is_debug_section(*in)) {
                        if (auto r = translate_debug(*it, at))
                            out_->rela_for(p.out)->relocs.push_back(*r);
                        continue;
                    }
                    out_->rela_for(p.out)->relocs.push_back(translate(*in, *it, at));
                }
            }
        }
        // Keep the output deterministic: relocation tables in offset order.
        for (auto &sec : out_->sections)
            if (sec->is_rela())
                std::stable_sort(
                    sec->relocs.begin(), sec->relocs.end(),
                    [](const Relocation &a, const Relocation &b) { return a.offset < b.offset; });
    }

    // An SHF_LINK_ORDER section (arm64's __patchable_function_entries)
    // names the code section it describes: its copy names that section's
    // copy, else the code its first kept entry points at. ld refuses to
    // merge such sections with ordered ones of the same name (the patch
    // module's own) when one has no link.
    void link_ordered_sections() {
        for (auto &[in, pieces] : pieces_) {
            if (!(in->hdr.sh_flags & SHF_LINK_ORDER))
                continue;
            Section *out = pieces.front().out;
            auto linked = in->link ? pieces_.find(in->link) : pieces_.end();
            if (linked != pieces_.end())
                out->link = linked->second.front().out;
            else if (out->rela && !out->rela->relocs.empty() && out->rela->relocs.front().sym->sec)
                out->link = out->rela->relocs.front().sym->sec;
            else
                out->hdr.sh_flags &= ~SHF_LINK_ORDER;
        }
    }

    // Every namespaced export the patch links against needs its import_ns=
    // line in the patch module's .modinfo, or the module loader refuses the
    // module: also when the patched file has none (the module imports the
    // namespace in another file, or the patch uses the export first).
    void import_namespaces() {
        std::set<std::string> needed;
        for (const auto &[name, sym] : kernel_refs_)
            if (std::string_view ns = ctx_.exported->namespace_of(name); !ns.empty())
                needed.insert("import_ns=" + std::string(ns));
        if (needed.empty())
            return;
        Section *modinfo = out_->find_section(".modinfo");
        if (!modinfo) {
            modinfo = out_->add_section(".modinfo", SHT_PROGBITS, SHF_ALLOC, 1);
            modinfo->secsym =
                out_->add_symbol(modinfo->name, STB_LOCAL, STT_SECTION, modinfo, 0, 0);
        }
        const auto &d = modinfo->data;
        for (size_t at = 0; at < d.size();) {
            size_t end = std::find(d.begin() + at, d.end(), uint8_t{0}) - d.begin();
            needed.erase(std::string(d.begin() + at, d.begin() + end));
            at = end + 1;
        }
        for (const std::string &line : needed)
            add_string(modinfo, line);
    }

    uint64_t add_string(Section *strings, const std::string &s) {
        uint64_t at = strings->data.size();
        strings->data.insert(strings->data.end(), s.begin(), s.end());
        strings->data.push_back(0);
        return at;
    }

    void add_patch_table() {
        Section *funcs = out_->add_section(".kpatchpp.funcs", SHT_PROGBITS, SHF_ALLOC, 8);
        Section *strings = out_->add_section(".kpatchpp.strings", SHT_PROGBITS, SHF_ALLOC, 1);
        funcs->secsym = out_->add_symbol(funcs->name, STB_LOCAL, STT_SECTION, funcs, 0, 0);
        strings->secsym = out_->add_symbol(strings->name, STB_LOCAL, STT_SECTION, strings, 0, 0);
        Section *rela = out_->rela_for(funcs);
        uint64_t objname = add_string(strings, ctx_.options.parent_name);
        for (const ChangeReason &change : ctx_.changes) {
            const Symbol *func = change.func;
            if (func->status != Status::Changed || func->parent)
                continue;
            const std::string &old_name = func->twin->name;
            bool local = func->twin->is_local();
            auto pos = ctx_.kernel->find(old_name, local, local ? groups_.of(func->twin) : 0);
            if (!pos)
                throw Refusal(RefusalKind::MissingSymbol,
                              "{}: function {} changed, but {} has no function of that name "
                              "(was it inlined everywhere?); patch its callers instead",
                              ctx_.object_name, old_name, ctx_.options.parent_name);
            auto placed_func = out_symbol_.find(func);
            if (placed_func == out_symbol_.end())
                throw Error("{}: function {} changed, but its section {} is not one that goes "
                            "into a patch module",
                            ctx_.object_name, func->name, func->sec->name);
            PatchFuncEntry entry{0, pos->size, func->size, pos->sympos, 0, 0};
            uint64_t at = funcs->data.size();
            uint64_t name_at = add_string(strings, old_name);
            funcs->data.resize(at + sizeof entry);
            std::memcpy(funcs->data.data() + at, &entry, sizeof entry);
            uint32_t abs64 = ctx_.arch.absolute64();
            rela->relocs.push_back(
                {at + offsetof(PatchFuncEntry, new_addr), abs64, 0, placed_func->second});
            rela->relocs.push_back({at + offsetof(PatchFuncEntry, old_name), abs64,
                                    static_cast<int64_t>(name_at), strings->secsym});
            rela->relocs.push_back({at + offsetof(PatchFuncEntry, objname), abs64,
                                    static_cast<int64_t>(objname), strings->secsym});
        }
    }

    Context &ctx_;
    const KeptEntries &kept_;
    std::unique_ptr<Object> out_;
    // The parent's FILE group of each local symbol of the original object.
    FileGroups groups_;
    Symbol *file_symbol_ = nullptr;
    Symbol *absent_code_ = nullptr;
    std::unordered_map<const Section *, std::vector<Piece>> pieces_;
    std::unordered_map<const Symbol *, Symbol *> out_symbol_;
    std::unordered_map<std::string, Symbol *> kernel_refs_;
};

} // namespace

void write_output(Context &ctx, const KeptEntries &kept) {
    OutputBuilder builder(ctx, kept);
    builder.build();
    builder.write(ctx.options.output_path);
}

} // namespace kpp::diff
