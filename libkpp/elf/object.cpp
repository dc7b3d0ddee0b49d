// Look-ups, construction helpers and section/symbol binding for the model.
#include "libkpp/elf/object.h"

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

// arm64's alternatives put their replacement instructions in subsection 1
// of the function's own section, after its last instruction and outside its
// symbol: a function that starts a text section and is its only function
// or object still owns it, replacements included.
void bind_lone_functions(Object &obj) {
    std::unordered_map<Section *, std::vector<Symbol *>> named;
    for (auto &sym : obj.symbols)
        if (sym->sec && !sym->sec->owner && (sym->is_func() || sym->is_object()))
            named[sym->sec].push_back(sym.get());
    for (auto &[sec, syms] : named) {
        Symbol *only = syms.size() == 1 ? syms.front() : nullptr;
        if (only && only->is_func() && sec->is_text() && only->value <= 16 &&
            only->value + only->size <= sec->size())
            sec->owner = only;
    }
}

} // namespace

void bind_sections_to_symbols(Object &obj) {
    for (auto &owned : obj.symbols) {
        Symbol *sym = owned.get();
        if (!sym->sec)
            continue;
        if (sym->is_section()) {
            if (!sym->sec->secsym)
                sym->sec->secsym = sym;
            continue;
        }
        // With -ffunction-sections/-fdata-sections a function or object
        // that fills its section owns it. Kernels built with call padding put
        // a __pfx_ symbol for up to 16 bytes of padding before a function.
        bool fills = sym->size + sym->value == sym->sec->size() &&
                     (sym->value == 0 || (sym->is_func() && sym->value <= 16));
        if ((sym->is_func() || sym->is_object()) && fills && !sym->sec->owner)
            sym->sec->owner = sym;
    }
    bind_lone_functions(obj);
}

} // namespace kpp::elf
