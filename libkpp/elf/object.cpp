// Look-ups, construction helpers and section/symbol binding for the model.
#include "libkpp/elf/object.h"

#include <algorithm>

namespace kpp::elf {

std::span<const uint8_t> Section::bytes(uint64_t offset, uint64_t len) const {
    if (offset > data.size())
        return {};
    return std::span<const uint8_t>(data).subspan(offset,
                                                  std::min<uint64_t>(len, data.size() - offset));
}

Section *Object::find_section(std::string_view name) const {
    auto it = section_by_name_.find(name);
    return it == section_by_name_.end() ? nullptr : it->second;
}

// Local names may repeat (two static functions in two files of one vmlinux);
// this finds the first one, which for globals is the only one.
Symbol *Object::find_symbol(std::string_view name) const {
    auto it = symbol_by_name_.find(name);
    return it == symbol_by_name_.end() ? nullptr : it->second;
}

Section *Object::add_section(std::string name, uint32_t type, uint64_t sh_flags, uint64_t align) {
    if (sections.empty())
        sections.push_back(std::make_unique<Section>()); // the null section
    auto sec = std::make_unique<Section>();
    sec->name = std::move(name);
    sec->hdr.sh_type = type;
    sec->hdr.sh_flags = sh_flags;
    sec->hdr.sh_addralign = align;
    Section *raw = sec.get();
    sections.push_back(std::move(sec));
    section_by_name_.emplace(raw->name, raw);
    return raw;
}

Section *Object::rela_for(Section *base) {
    if (base->rela)
        return base->rela;
    Section *rela = add_section(".rela" + base->name, SHT_RELA, SHF_INFO_LINK, 8);
    rela->hdr.sh_entsize = sizeof(Elf64_Rela);
    rela->base = base;
    base->rela = rela;
    return rela;
}

Symbol *Object::add_symbol(std::string name, uint8_t bind, uint8_t type, Section *sec,
                           uint64_t value, uint64_t size) {
    if (symbols.empty())
        symbols.push_back(std::make_unique<Symbol>());
    auto sym = std::make_unique<Symbol>();
    sym->name = std::move(name);
    sym->bind = bind;
    sym->type = type;
    sym->sec = sec;
    sym->value = value;
    sym->size = size;
    Symbol *raw = sym.get();
    symbols.push_back(std::move(sym));
    symbol_by_name_.emplace(raw->name, raw);
    return raw;
}

void Object::reindex() {
    section_by_name_.clear();
    symbol_by_name_.clear();
    section_by_name_.reserve(sections.size());
    symbol_by_name_.reserve(symbols.size());
    for (auto &sec : sections)
        if (sec && !sec->name.empty())
            section_by_name_.emplace(sec->name, sec.get());
    for (auto &sym : symbols)
        if (sym && !sym->name.empty() && !sym->is_section())
            symbol_by_name_.emplace(sym->name, sym.get());
}

namespace {

using SymbolsOf = std::unordered_map<const Section *, std::vector<const Symbol *>>;

// The functions and objects of each section, but for the __pfx_ symbols
// that kernels built with call padding put on up to 16 bytes before a
// function.
SymbolsOf named_symbols(const Object &obj) {
    SymbolsOf named;
    for (const auto &sym : obj.symbols)
        if (sym->sec && (sym->is_func() || sym->is_object()) && !sym->name.starts_with("__pfx_"))
            named[sym->sec].push_back(sym.get());
    return named;
}

// With -ffunction-sections/-fdata-sections a function or object owns the
// section it fills. A function may also start a little into it (after
// __pfx_ padding, or arm64's -fpatchable-function-entry=N,M NOPs) when
// nothing but its aliases is there; and it may end before the section does:
// arm64's alternatives put their replacement instructions in subsection 1 of
// the function's own section, after its last instruction.
bool owns_section(const Symbol &sym, const std::vector<const Symbol *> &named) {
    const Section &sec = *sym.sec;
    bool ends_it = sym.value + sym.size == sec.size();
    if (sym.value == 0 && ends_it)
        return true;
    bool alone = std::all_of(named.begin(), named.end(),
                             [&](const Symbol *other) { return other->value == sym.value; });
    return sym.is_func() && alone && sym.value <= 16 &&
           (ends_it || (sec.is_text() && sym.value + sym.size <= sec.size()));
}

} // namespace

void bind_sections_to_symbols(Object &obj) {
    SymbolsOf named = named_symbols(obj);
    for (auto &owned : obj.symbols) {
        Symbol *sym = owned.get();
        if (!sym->sec)
            continue;
        if (sym->is_section()) {
            if (!sym->sec->secsym)
                sym->sec->secsym = sym;
            continue;
        }
        if ((sym->is_func() || sym->is_object()) && !sym->sec->owner &&
            owns_section(*sym, named[sym->sec]))
            sym->sec->owner = sym;
    }
}

} // namespace kpp::elf
