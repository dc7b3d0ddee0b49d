// Turning a linked patch module into a livepatch module; see klp_convert.h.
#include "kpatch-build/module/klp_convert.h"

#include "libkpp/error.h"
#include "libkpp/klp_sections.h"
#include "libkpp/log.h"
#include "libkpp/module_name.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

namespace kpp::klp {
namespace {

constexpr std::string_view kFuncsSection = ".kpatchpp.funcs";
constexpr std::string_view kCallbackPrefix = ".kpatchpp.callbacks.";
constexpr size_t kFuncEntrySize = 48;
constexpr size_t kFuncNewAddr = 0;
constexpr size_t kFuncOldName = 32;
constexpr size_t kFuncObjname = 40;
constexpr size_t kCallbackEntrySize = 16;
constexpr size_t kCallbackObjname = 8;

bool is_debug_section(std::string_view name) {
    return name.starts_with(".debug_") || name.starts_with(".zdebug_");
}

std::string quote(std::string_view s) {
    return fmt::format("'{}'", s);
}

// The relocation that fills the 8 bytes at offset of sec, if any.
const elf::Relocation *reloc_at(const elf::Section &sec, uint64_t offset) {
    if (!sec.rela)
        return nullptr;
    for (const elf::Relocation &r : sec.rela->relocs)
        if (r.offset == offset)
            return &r;
    return nullptr;
}

// The NUL-terminated string a pointer field points to.
std::string string_at(const elf::Object &obj, const elf::Section &table, uint64_t offset,
                      const elf::Relocation &r) {
    const elf::Symbol *sym = r.sym;
    if (!sym->sec)
        throw Error("{}: {}+{:#x} points at undefined symbol {}, not at a string in the module",
                    obj.path, table.name, offset, quote(sym->name));
    int64_t at = static_cast<int64_t>(sym->value) + r.addend;
    const elf::Section &strsec = *sym->sec;
    if (at < 0 || static_cast<uint64_t>(at) >= strsec.data.size())
        throw Error("{}: {}+{:#x} points outside section {}", obj.path, table.name, offset,
                    strsec.name);
    auto begin = strsec.data.begin() + at;
    auto end = std::find(begin, strsec.data.end(), uint8_t{0});
    if (end == strsec.data.end())
        throw Error("{}: {}+{:#x} points at an unterminated string in {}", obj.path, table.name,
                    offset, strsec.name);
    return std::string(begin, end);
}

std::string normalize_objname(std::string name) {
    return name.empty() ? "vmlinux" : name;
}

// What .kpatchpp.funcs and the callback sections say about the patch's
// objects: their names, and which object each patched function's section
// belongs to.
struct PatchObjects {
    std::set<std::string> names;
    std::unordered_map<const elf::Section *, std::pair<std::string, std::string>>
        func_sections; // section -> (objname, function name)
};

PatchObjects read_patch_objects(const elf::Object &obj) {
    PatchObjects out;
    for (const auto &owned : obj.sections) {
        const elf::Section &sec = *owned;
        if (sec.name == kFuncsSection) {
            if (sec.size() % kFuncEntrySize)
                throw Error("{}: {} is {} bytes, not a multiple of the {}-byte entry", obj.path,
                            sec.name, sec.size(), kFuncEntrySize);
            for (uint64_t e = 0; e < sec.size(); e += kFuncEntrySize) {
                const elf::Relocation *objr = reloc_at(sec, e + kFuncObjname);
                const elf::Relocation *namer = reloc_at(sec, e + kFuncOldName);
                const elf::Relocation *newr = reloc_at(sec, e + kFuncNewAddr);
                if (!objr || !namer || !newr)
                    throw Error("{}: entry {} of {} lacks the relocation for its {}", obj.path,
                                e / kFuncEntrySize, sec.name,
                                !newr    ? "new_addr"
                                : !namer ? "old_name"
                                         : "objname");
                std::string objname =
                    normalize_objname(string_at(obj, sec, e + kFuncObjname, *objr));
                std::string fname = string_at(obj, sec, e + kFuncOldName, *namer);
                if (!is_valid_objname(objname))
                    throw Error("{}: function {} is in object {}, which is not a valid module "
                                "name ([A-Za-z0-9_-], at most {} characters)",
                                obj.path, fname, quote(objname), kMaxObjnameLen);
                if (!newr->sym->sec)
                    throw Error("{}: the new version of {} is {}, which the module does not "
                                "define",
                                obj.path, fname, quote(newr->sym->name));
                out.func_sections[newr->sym->sec] = {objname, fname};
                out.names.insert(objname);
            }
        } else if (sec.name.starts_with(kCallbackPrefix)) {
            if (sec.size() % kCallbackEntrySize)
                throw Error("{}: {} is {} bytes, not a multiple of the {}-byte entry", obj.path,
                            sec.name, sec.size(), kCallbackEntrySize);
            for (uint64_t e = 0; e < sec.size(); e += kCallbackEntrySize) {
                const elf::Relocation *objr = reloc_at(sec, e + kCallbackObjname);
                std::string objname =
                    objr ? normalize_objname(string_at(obj, sec, e + kCallbackObjname, *objr))
                         : "vmlinux";
                if (!is_valid_objname(objname))
                    throw Error("{}: callback entry {} of {} names object {}, which is not a "
                                "valid module name",
                                obj.path, e / kCallbackEntrySize, sec.name, quote(objname));
                out.names.insert(objname);
            }
        }
    }
    return out;
}

// The namespaces .modinfo imports (import_ns=NS entries).
std::set<std::string> imported_namespaces(const elf::Object &obj) {
    std::set<std::string> out;
    const elf::Section *modinfo = obj.find_section(".modinfo");
    if (!modinfo)
        return out;
    std::string_view all(reinterpret_cast<const char *>(modinfo->data.data()),
                         modinfo->data.size());
    constexpr std::string_view key = "import_ns=";
    while (!all.empty()) {
        size_t nul = all.find('\0');
        std::string_view entry = all.substr(0, nul);
        if (entry.starts_with(key))
            out.emplace(entry.substr(key.size()));
        if (nul == std::string_view::npos)
            break;
        all.remove_prefix(nul + 1);
    }
    return out;
}

void check_plain_undefined(const elf::Object &obj, const Symvers &symvers,
                           std::string_view symvers_name) {
    std::set<std::string> imports = imported_namespaces(obj);
    std::vector<std::string> missing;
    for (const auto &owned : obj.symbols) {
        const elf::Symbol &sym = *owned;
        if (!sym.is_undefined() || sym.name.empty() || sym.is_section())
            continue;
        if (sym.name.starts_with(kSymPrefix))
            continue;
        auto it = symvers.find(sym.name);
        if (it == symvers.end()) {
            // The loader leaves an unresolved weak reference at 0.
            if (sym.bind != STB_WEAK)
                missing.push_back(sym.name);
            continue;
        }
        if (!it->second.ns.empty() && !imports.contains(it->second.ns))
            throw Error("{}: symbol {} is exported in namespace {}, which the module does not "
                        "import: the module loader would refuse it; add "
                        "MODULE_IMPORT_NS({}) to the patch",
                        obj.path, quote(sym.name), it->second.ns, it->second.ns);
    }
    if (missing.empty())
        return;
    std::string list;
    for (const std::string &name : missing)
        list += (list.empty() ? "" : ", ") + quote(name);
    throw Error("{}: undefined symbol{} {} {} not exported by the target kernel (not in {}): "
                "the module loader cannot resolve {}. Reach {} through livepatch symbols "
                "named .klp.sym.<vmlinux|module>.<symbol>,<sympos> (create-diff-object does "
                "this for every non-exported symbol), or check that {} belongs to the kernel "
                "the patch is built for",
                obj.path, missing.size() > 1 ? "s" : "", list, missing.size() > 1 ? "are" : "is",
                symvers_name, missing.size() > 1 ? "them" : "it",
                missing.size() > 1 ? "them" : "it", symvers_name);
}

// Moves the relocations of rela that use livepatch symbols into
// .klp.rela.<objname>.<section> sections.
class RelaMover {
  public:
    RelaMover(elf::Object &obj, const PatchObjects &patch,
              const std::unordered_map<const elf::Symbol *, KlpSymbolName> &klp_syms,
              const Symvers &symvers, ConvertResult &result)
        : obj_(obj), patch_(patch), klp_syms_(klp_syms), symvers_(symvers), result_(result) {}

    void move_from(elf::Section &rela) {
        elf::Section &base = *rela.base;
        std::vector<elf::Relocation> keep;
        for (const elf::Relocation &r : rela.relocs) {
            auto it = klp_syms_.find(r.sym);
            if (it == klp_syms_.end()) {
                keep.push_back(r);
                continue;
            }
            const KlpSymbolName &ks = it->second;
            if (is_debug_section(base.name)) {
                // Debug info is not loaded; the kernel would patch freed memory.
                result_.dropped_relocations++;
                continue;
            }
            std::string object = applied_with(rela, ks);
            check_target(base, r, ks, object);
            klp_section(object, base).relocs.push_back(r);
            result_.klp_relocations++;
        }
        rela.relocs = std::move(keep);
    }

  private:
    // The object whose loading applies a relocation in `rela` to `ks`: the
    // symbol's own object, except for another module's export the patch
    // does not change, used by a module's code: applied with that code's
    // module (loaded only while the exporter is: it depends on it). That
    // module is the patched function's, or for a piece of one (its .cold
    // part in .text.unlikely.*) the patched module the section's other
    // livepatch symbols name, else the only module the patch changes. The
    // livepatch core refuses vmlinux symbols in a module's sections, so
    // those stay with vmlinux.
    std::string applied_with(const elf::Section &rela, const KlpSymbolName &ks) const {
        if (ks.objname == "vmlinux" || !exported_by(ks.symbol, ks.objname))
            return ks.objname;
        if (auto owner = patch_.func_sections.find(rela.base); owner != patch_.func_sections.end())
            return owner->second.first;
        if (patch_.names.contains(ks.objname))
            return ks.objname;
        std::set<std::string> modules;
        for (const elf::Relocation &r : rela.relocs)
            if (auto it = klp_syms_.find(r.sym); it != klp_syms_.end() &&
                                                 it->second.objname != "vmlinux" &&
                                                 patch_.names.contains(it->second.objname))
                modules.insert(it->second.objname);
        if (modules.empty())
            for (const auto &name : patch_.names)
                if (name != "vmlinux")
                    modules.insert(name);
        return modules.size() == 1 ? *modules.begin() : ks.objname;
    }

    bool exported_by(const std::string &symbol, const std::string &module) const {
        auto it = symvers_.find(symbol);
        if (it == symvers_.end())
            return false;
        return symvers_module_name(it->second.module) == module;
    }

    void check_target(const elf::Section &base, const elf::Relocation &r, const KlpSymbolName &ks,
                      const std::string &object) {
        if (!base.is_alloc())
            throw Error("{}: section {} is not loaded into memory, yet {}+{:#x} refers to "
                        "livepatch symbol {}: the livepatch core cannot relocate it",
                        obj_.path, base.name, base.name, r.offset, quote(r.sym->name));
        if (alloc_cleared_by_loader(base.name))
            throw Error("{}: {}+{:#x} refers to livepatch symbol {}, but the module loader "
                        "does not keep {} in memory (it clears SHF_ALLOC, so "
                        "apply_relocations() skips its relocations)",
                        obj_.path, base.name, r.offset, quote(r.sym->name), base.name);
        // Applied by apply_relocations() before anything reads the module's
        // tables (see the comment above alloc_cleared_by_loader()).
        if (ks.objname == "vmlinux")
            return;
        if (read_before_module_klp_relocs(base.name))
            throw Refusal("{}: {}+{:#x} refers to livepatch symbol {} of module {}, but {} is "
                          "read when the patch module loads, and the livepatch core applies "
                          "relocations against {}'s symbols only when {} is loaded "
                          "(klp_module_coming()); only vmlinux symbols are resolved at load "
                          "time. The entry must not need {} (for a static key or static call, "
                          "the patch cannot use a non-exported one of a module)",
                          obj_.path, base.name, r.offset, quote(r.sym->name), ks.objname, base.name,
                          ks.objname, ks.objname, ks.symbol);
        if (object != "vmlinux" && !patch_.names.empty() && !patch_.names.contains(object))
            throw Error("{}: {}+{:#x} refers to {} in module {}, but the patch changes nothing "
                        "in {}: its livepatch relocations would never be applied. Check the "
                        "object name in the symbol",
                        obj_.path, base.name, r.offset, quote(r.sym->name), ks.objname, object);
        auto owner = patch_.func_sections.find(&base);
        if (ks.objname != "vmlinux" && owner != patch_.func_sections.end() &&
            owner->second.first != object)
            throw Error("{}: {} (the new {} of {}) refers to {}, a symbol of module {}: "
                        "code of one object may only use another module's symbols if they "
                        "are exported",
                        obj_.path, base.name, owner->second.second, owner->second.first,
                        quote(r.sym->name), ks.objname);
    }

    elf::Section &klp_section(const std::string &objname, elf::Section &base) {
        auto key = std::make_pair(objname, &base);
        auto it = sections_.find(key);
        if (it != sections_.end())
            return *it->second;
        std::string name = fmt::format("{}{}.{}", kRelaPrefix, objname, base.name);
        if (obj_.find_section(name))
            throw Error("{}: already has a section named {}; was the module converted twice?",
                        obj_.path, name);
        elf::Section *sec =
            obj_.add_section(name, SHT_RELA, SHF_ALLOC | SHF_INFO_LINK | elf::kShfRelaLivepatch, 8);
        sec->hdr.sh_entsize = sizeof(Elf64_Rela);
        // Not base->rela: that stays the ordinary relocation section.
        sec->base = &base;
        sections_.emplace(key, sec);
        result_.klp_sections.push_back(name);
        return *sec;
    }

    elf::Object &obj_;
    const PatchObjects &patch_;
    const std::unordered_map<const elf::Symbol *, KlpSymbolName> &klp_syms_;
    const Symvers &symvers_;
    ConvertResult &result_;
    std::map<std::pair<std::string, const elf::Section *>, elf::Section *> sections_;
};

void remove_empty_relas(elf::Object &obj, const std::vector<elf::Section *> &candidates,
                        ConvertResult &result) {
    std::unordered_set<const elf::Section *> doomed;
    for (elf::Section *rela : candidates) {
        if (!rela->relocs.empty())
            continue;
        bool named = std::any_of(obj.symbols.begin(), obj.symbols.end(),
                                 [&](const auto &s) { return s->sec == rela && !s->is_section(); });
        if (named)
            continue;
        doomed.insert(rela);
        rela->base->rela = nullptr;
        result.removed_sections.push_back(rela->name);
    }
    if (doomed.empty())
        return;
    std::erase_if(obj.symbols, [&](const auto &s) { return s && doomed.contains(s->sec); });
    std::erase_if(obj.sections, [&](const auto &s) { return doomed.contains(s.get()); });
    obj.reindex();
}

} // namespace

bool is_valid_objname(std::string_view objname) {
    if (objname.empty() || objname.size() > kMaxObjnameLen)
        return false;
    return std::all_of(objname.begin(), objname.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::optional<KlpSymbolName> parse_klp_symbol(std::string_view name) {
    if (!name.starts_with(kSymPrefix))
        return std::nullopt;
    auto bad = [&](std::string_view why) {
        return Error("livepatch symbol {} is malformed: {}; the format is "
                     ".klp.sym.<objname>.<symbol>,<sympos>",
                     quote(name), why);
    };
    std::string_view rest = name.substr(kSymPrefix.size());
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos)
        throw bad("no '.' after the object name");
    KlpSymbolName out;
    out.objname = rest.substr(0, dot);
    if (!is_valid_objname(out.objname))
        throw bad(fmt::format("object name {} is not vmlinux or a module name "
                              "([A-Za-z0-9_-], at most {} characters)",
                              quote(out.objname), kMaxObjnameLen));
    rest.remove_prefix(dot + 1);
    size_t comma = rest.rfind(',');
    if (comma == std::string_view::npos)
        throw bad("no ',<sympos>' at the end");
    out.symbol = rest.substr(0, comma);
    if (out.symbol.empty())
        throw bad("the symbol name is empty");
    if (out.symbol.size() > kMaxSymbolLen)
        throw bad(fmt::format("the symbol name is longer than {} characters", kMaxSymbolLen));
    if (out.symbol.find(',') != std::string::npos)
        throw bad("the symbol name contains ','");
    std::string_view pos = rest.substr(comma + 1);
    auto [end, ec] = std::from_chars(pos.data(), pos.data() + pos.size(), out.sympos);
    if (pos.empty() || ec != std::errc() || end != pos.data() + pos.size())
        throw bad(fmt::format("sympos {} is not a decimal number", quote(pos)));
    return out;
}

Symvers read_symvers(const std::string &path) {
    std::ifstream in(path);
    if (!in)
        throw Error("{}: cannot read the kernel's export list (Module.symvers)", path);
    Symvers out;
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        if (line.empty())
            continue;
        std::vector<std::string_view> fields;
        std::string_view rest(line);
        while (true) {
            size_t tab = rest.find('\t');
            fields.push_back(rest.substr(0, tab));
            if (tab == std::string_view::npos)
                break;
            rest.remove_prefix(tab + 1);
        }
        if (fields.size() < 4 || fields[1].empty())
            throw Error("{}:{}: not a Module.symvers line "
                        "(<crc> <symbol> <module> <export type> [<namespace>], tab-separated)",
                        path, lineno);
        Export e{std::string(fields[2]), std::string(fields[3]),
                 fields.size() > 4 ? std::string(fields[4]) : std::string()};
        out.insert_or_assign(std::string(fields[1]), std::move(e));
    }
    return out;
}

ConvertResult convert_object(elf::Object &obj, const Symvers &symvers,
                             std::string_view symvers_name) {
    if (obj.file_type != ET_REL || obj.machine != EM_X86_64)
        throw Error("{}: not an x86-64 relocatable object (kernel module)", obj.path);
    ConvertResult result;
    PatchObjects patch = read_patch_objects(obj);

    std::unordered_map<const elf::Symbol *, KlpSymbolName> klp_syms;
    for (auto &owned : obj.symbols) {
        elf::Symbol &sym = *owned;
        if (sym.is_section())
            continue;
        // A C asm label quotes the name for the assembler (its comma would
        // separate operands): gcc emits it as assembler text, which drops the
        // quotes, while clang's integrated assembler keeps them in the name.
        if (sym.name.size() > 2 && sym.name.front() == '"' && sym.name.back() == '"' &&
            sym.name.starts_with("\"" + std::string(kSymPrefix)))
            sym.name = sym.name.substr(1, sym.name.size() - 2);
        std::optional<KlpSymbolName> parsed;
        try {
            parsed = parse_klp_symbol(sym.name);
        } catch (const Error &e) {
            throw Error("{}: {}", obj.path, e.what());
        }
        if (!parsed)
            continue;
        bool undefined = !sym.sec && (sym.shndx == SHN_UNDEF || sym.shndx == elf::kShnLivepatch);
        if (!undefined)
            throw Error("{}: livepatch symbol {} is defined in the module; it must be an "
                        "undefined reference to {} in {}",
                        obj.path, quote(sym.name), parsed->symbol, parsed->objname);
        if (sym.bind == STB_LOCAL)
            throw Error("{}: livepatch symbol {} is local; it must be a global undefined symbol",
                        obj.path, quote(sym.name));
        sym.shndx = elf::kShnLivepatch;
        klp_syms.emplace(&sym, std::move(*parsed));
        result.klp_symbols++;
    }

    check_plain_undefined(obj, symvers, symvers_name);

    std::vector<elf::Section *> relas;
    for (auto &owned : obj.sections)
        if (owned->is_rela() && owned->base && !(owned->hdr.sh_flags & elf::kShfRelaLivepatch))
            relas.push_back(owned.get());
    RelaMover mover(obj, patch, klp_syms, symvers, result);
    for (elf::Section *rela : relas)
        mover.move_from(*rela);
    remove_empty_relas(obj, relas, result);
    return result;
}

ConvertResult convert_module(const std::string &in_ko, const std::string &out_ko,
                             const std::string &symvers_path) {
    Symvers symvers = read_symvers(symvers_path);
    std::unique_ptr<elf::Object> obj = elf::Object::read(in_ko);
    ConvertResult result = convert_object(*obj, symvers, symvers_path);
    obj->write(out_ko);
    log::debug("{}: {} livepatch symbols, {} relocations in {} .klp.rela sections{}", out_ko,
               result.klp_symbols, result.klp_relocations, result.klp_sections.size(),
               result.dropped_relocations
                   ? fmt::format(", {} debug-info relocations dropped", result.dropped_relocations)
                   : std::string());
    return result;
}

} // namespace kpp::klp
