// Reading an ELF64 file into the model.
#include "libkpp/elf/libelf_handle.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <gelf.h>

#include <algorithm>

namespace kpp::elf {
namespace {

bool is_symbol_table(const GElf_Shdr &shdr) {
    return shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_STRTAB ||
           shdr.sh_type == SHT_SYMTAB_SHNDX;
}

std::vector<uint8_t> section_bytes(Elf_Scn *scn, const GElf_Shdr &shdr, const std::string &path,
                                   const std::string &name) {
    if (shdr.sh_type == SHT_NOBITS || shdr.sh_size == 0)
        return {};
    Elf_Data *data = elf_rawdata(scn, nullptr);
    if (!data || data->d_size != shdr.sh_size || !data->d_buf)
        throw Error("{}: section {} is truncated or unreadable ({})", path, name, elf_errmsg(-1));
    const auto *p = static_cast<const uint8_t *>(data->d_buf);
    return {p, p + data->d_size};
}

void read_sections(Object &obj, Elf *elf, uint64_t file_size, bool symbols_only,
                   const std::vector<std::string> &with_data) {
    size_t count = 0, shstrndx = 0;
    if (elf_getshdrnum(elf, &count) != 0 || elf_getshdrstrndx(elf, &shstrndx) != 0)
        throw Error("{}: cannot read the section header table ({})", obj.path, elf_errmsg(-1));
    obj.sections.reserve(count);
    obj.sections.push_back(std::make_unique<Section>());
    for (size_t i = 1; i < count; i++) {
        Elf_Scn *scn = elf_getscn(elf, i);
        GElf_Shdr shdr;
        if (!scn || !gelf_getshdr(scn, &shdr))
            throw Error("{}: cannot read section header {} ({})", obj.path, i, elf_errmsg(-1));
        const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (!name)
            throw Error("{}: section {} has no valid name", obj.path, i);
        // Real objects align to at most a page or a huge page; anything
        // larger is corrupt and would make the writer lay out gigabytes.
        constexpr uint64_t kMaxAlign = 1 << 21;
        if (shdr.sh_addralign > kMaxAlign)
            throw Error("{}: section {} claims an alignment of {:#x} bytes", obj.path, name,
                        shdr.sh_addralign);
        // Checked even for sections whose bytes are not read here: their
        // size and offset are what a later read of the file goes by.
        if (shdr.sh_type != SHT_NOBITS &&
            (shdr.sh_offset > file_size || shdr.sh_size > file_size - shdr.sh_offset))
            throw Error("{}: section {} ({:#x} bytes at {:#x}) ends past the end of the file "
                        "({:#x} bytes): truncated?",
                        obj.path, name, shdr.sh_size, shdr.sh_offset, file_size);
        auto sec = std::make_unique<Section>();
        sec->name = name;
        sec->hdr = shdr;
        sec->index = i;
        if (!symbols_only || is_symbol_table(shdr) ||
            std::find(with_data.begin(), with_data.end(), sec->name) != with_data.end())
            sec->data = section_bytes(scn, shdr, obj.path, sec->name);
        obj.sections.push_back(std::move(sec));
    }
}

Section *section_at(Object &obj, size_t index) {
    return index > 0 && index < obj.sections.size() ? obj.sections[index].get() : nullptr;
}

void read_symbols(Object &obj, Elf *elf) {
    Section *symtab = nullptr;
    Section *shndx_table = nullptr;
    for (auto &sec : obj.sections) {
        if (sec->hdr.sh_type == SHT_SYMTAB)
            symtab = sec.get();
        else if (sec->hdr.sh_type == SHT_SYMTAB_SHNDX)
            shndx_table = sec.get();
    }
    obj.symbols.push_back(std::make_unique<Symbol>());
    if (!symtab)
        return;
    if (symtab->hdr.sh_entsize != sizeof(Elf64_Sym) || symtab->data.size() % sizeof(Elf64_Sym))
        throw Error("{}: .symtab has a bad entry size", obj.path);
    size_t count = symtab->data.size() / sizeof(Elf64_Sym);
    const auto *syms = reinterpret_cast<const Elf64_Sym *>(symtab->data.data());
    const auto *xindex =
        shndx_table ? reinterpret_cast<const Elf64_Word *>(shndx_table->data.data()) : nullptr;
    if (xindex && shndx_table->data.size() < count * sizeof(Elf64_Word))
        throw Error("{}: .symtab_shndx is shorter than .symtab", obj.path);
    obj.symbols.reserve(count);
    for (size_t i = 1; i < count; i++) {
        const Elf64_Sym &raw = syms[i];
        auto sym = std::make_unique<Symbol>();
        const char *name = elf_strptr(elf, symtab->hdr.sh_link, raw.st_name);
        if (!name)
            throw Error("{}: symbol {} has no valid name", obj.path, i);
        sym->name = name;
        sym->bind = GELF_ST_BIND(raw.st_info);
        sym->type = GELF_ST_TYPE(raw.st_info);
        sym->other = raw.st_other;
        sym->value = raw.st_value;
        sym->size = raw.st_size;
        sym->index = i;
        size_t shndx = raw.st_shndx;
        if (shndx == SHN_XINDEX) {
            if (!xindex)
                throw Error("{}: symbol {} uses SHN_XINDEX but there is no .symtab_shndx", obj.path,
                            sym->name);
            shndx = xindex[i];
        }
        if (shndx != SHN_UNDEF && (shndx < SHN_LORESERVE || raw.st_shndx == SHN_XINDEX)) {
            sym->sec = section_at(obj, shndx);
            if (!sym->sec)
                throw Error("{}: symbol {} points at section {}, which does not exist", obj.path,
                            sym->name, shndx);
        } else {
            sym->shndx = static_cast<uint16_t>(shndx);
        }
        if (sym->type == STT_SECTION && sym->sec)
            sym->name = sym->sec->name;
        obj.symbols.push_back(std::move(sym));
    }
}

void read_relocations(Object &obj) {
    for (auto &owned : obj.sections) {
        Section *sec = owned.get();
        if (sec->hdr.sh_type == SHT_REL)
            throw Error("{}: section {} uses REL relocations; only RELA objects are supported",
                        obj.path, sec->name);
        if (!sec->is_rela())
            continue;
        Section *base = section_at(obj, sec->hdr.sh_info);
        if (!base)
            throw Error("{}: relocation section {} relocates no valid section", obj.path,
                        sec->name);
        // Tables the writer regenerates cannot carry relocations.
        uint32_t base_type = base->hdr.sh_type;
        if (base_type == SHT_SYMTAB || base_type == SHT_STRTAB || base_type == SHT_RELA ||
            base_type == SHT_SYMTAB_SHNDX || base_type == SHT_NULL)
            throw Error("{}: relocation section {} relocates {}, which cannot be relocated",
                        obj.path, sec->name, base->name);
        if (sec->data.size() % sizeof(Elf64_Rela))
            throw Error("{}: relocation section {} is truncated", obj.path, sec->name);
        sec->base = base;
        base->rela = sec;
        const auto *relas = reinterpret_cast<const Elf64_Rela *>(sec->data.data());
        size_t count = sec->data.size() / sizeof(Elf64_Rela);
        sec->relocs.reserve(count);
        for (size_t i = 0; i < count; i++) {
            size_t symidx = ELF64_R_SYM(relas[i].r_info);
            // Type 0 is "none" on every architecture: a linker leaves such
            // entries, against no symbol, where a relocation's target was
            // discarded (clang's .debug_addr in a linked module). They do
            // nothing, and the table is rewritten without them.
            if (symidx == 0 && ELF64_R_TYPE(relas[i].r_info) == 0)
                continue;
            if (symidx == 0 || symidx >= obj.symbols.size())
                throw Error("{}: relocation {} in {} refers to symbol {}, which does not exist",
                            obj.path, i, sec->name, symidx);
            if (relas[i].r_offset >= base->size() && base->hdr.sh_type != SHT_NOBITS)
                throw Error("{}: relocation {} in {} is beyond the end of {}", obj.path, i,
                            sec->name, base->name);
            sec->relocs.push_back({relas[i].r_offset,
                                   static_cast<uint32_t>(ELF64_R_TYPE(relas[i].r_info)),
                                   relas[i].r_addend, obj.symbols[symidx].get()});
        }
        // Passes look relocations up by offset.
        std::stable_sort(
            sec->relocs.begin(), sec->relocs.end(),
            [](const Relocation &a, const Relocation &b) { return a.offset < b.offset; });
        // The table is regenerated from relocs on write.
        sec->data.clear();
    }
    for (auto &sec : obj.sections) {
        uint32_t type = sec->hdr.sh_type;
        bool links_section =
            type == SHT_GROUP || type == SHT_SYMTAB_SHNDX || (sec->hdr.sh_flags & SHF_LINK_ORDER);
        if (links_section && sec->hdr.sh_link)
            sec->link = section_at(obj, sec->hdr.sh_link);
    }
}

} // namespace

namespace {

std::unique_ptr<Object> read_object(const std::string &path, bool symbols_only,
                                    const std::vector<std::string> &with_data = {}) {
    LibelfFile file(path, LibelfFile::Mode::Read);
    Elf *elf = file.elf();
    auto obj = std::make_unique<Object>();
    obj->path = path;

    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf, &ehdr))
        throw Error("{}: truncated or corrupt ELF header ({})", path, elf_errmsg(-1));
    if (gelf_getclass(elf) != ELFCLASS64)
        throw Error("{}: not a 64-bit ELF file", path);
    if (ehdr.e_ident[EI_DATA] != ELFDATA2LSB)
        throw Error("{}: big-endian objects are not supported", path);
    size_t file_size = 0;
    elf_rawfile(elf, &file_size);
    if (ehdr.e_shoff + static_cast<uint64_t>(ehdr.e_shnum) * ehdr.e_shentsize > file_size)
        throw Error("{}: truncated: the section header table ends past the end of the file", path);
    obj->machine = ehdr.e_machine;
    obj->file_type = ehdr.e_type;
    obj->os_abi = ehdr.e_ident[EI_OSABI];
    obj->flags = ehdr.e_flags;

    read_sections(*obj, elf, file_size, symbols_only, with_data);
    read_symbols(*obj, elf);
    if (!symbols_only)
        read_relocations(*obj);
    bind_sections_to_symbols(*obj);
    obj->reindex();
    return obj;
}

} // namespace

std::unique_ptr<Object> Object::read(const std::string &path) {
    return read_object(path, false);
}

std::unique_ptr<Object> Object::read_symbols(const std::string &path,
                                             const std::vector<std::string> &with_data) {
    return read_object(path, true, with_data);
}

} // namespace kpp::elf
