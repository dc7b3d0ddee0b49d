// Laying the model out as an ELF64 relocatable object.
#include "libkpp/elf/libelf_handle.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <gelf.h>

#include <algorithm>
#include <cstring>

namespace kpp::elf {
namespace {

// A string table under construction, sharing identical names.
class StringTable {
  public:
    StringTable() { bytes_.push_back(0); }
    uint32_t add(const std::string &s) {
        if (s.empty())
            return 0;
        auto [it, added] = offsets_.try_emplace(s, static_cast<uint32_t>(bytes_.size()));
        if (added) {
            bytes_.insert(bytes_.end(), s.begin(), s.end());
            bytes_.push_back(0);
        }
        return it->second;
    }
    std::vector<uint8_t> take() { return std::move(bytes_); }

  private:
    std::vector<uint8_t> bytes_;
    std::unordered_map<std::string, uint32_t> offsets_;
};

// ELF wants every local symbol before the first global one.
void order_symbols(Object &obj) {
    std::stable_partition(obj.symbols.begin() + 1, obj.symbols.end(),
                          [](const std::unique_ptr<Symbol> &s) { return s->is_local(); });
    for (size_t i = 0; i < obj.symbols.size(); i++)
        obj.symbols[i]->index = i;
}

void order_sections(Object &obj) {
    // Only a malformed object links a kept section (SHF_LINK_ORDER) to a
    // table that is rebuilt here: its pointer would dangle after the erase.
    for (const auto &sec : obj.sections)
        if (sec && sec->link && !is_regenerated(*sec) && is_regenerated(*sec->link))
            throw Error("{}: section {} is linked to {}, a table kpp regenerates", obj.path,
                        sec->name, sec->link->name);
    // Likewise a symbol defined in such a table: it loses its section before
    // the section is freed, not after.
    for (auto &sym : obj.symbols)
        if (sym->sec && is_regenerated(*sym->sec))
            sym->sec = nullptr;
    std::erase_if(obj.sections,
                  [](const std::unique_ptr<Section> &s) { return s && is_regenerated(*s); });
    for (auto &sec : obj.sections)
        if (sec->hdr.sh_type == SHT_GROUP)
            throw Error("{}: section groups (COMDAT) are not supported: {}", obj.path, sec->name);
}

std::vector<uint8_t> rela_bytes(const Section &rela) {
    std::vector<uint8_t> out(rela.relocs.size() * sizeof(Elf64_Rela));
    auto *dst = reinterpret_cast<Elf64_Rela *>(out.data());
    for (const Relocation &r : rela.relocs) {
        dst->r_offset = r.offset;
        dst->r_info = ELF64_R_INFO(r.sym->index, r.type);
        dst->r_addend = r.addend;
        dst++;
    }
    return out;
}

} // namespace

bool is_regenerated(const Section &sec) {
    switch (sec.hdr.sh_type) {
    case SHT_SYMTAB:
    case SHT_SYMTAB_SHNDX:
        return true;
    case SHT_STRTAB:
        return sec.name == ".strtab" || sec.name == ".shstrtab";
    default:
        return false;
    }
}

void Object::write(const std::string &out_path) {
    order_sections(*this);
    reindex();
    if (symbols.empty())
        symbols.push_back(std::make_unique<Symbol>());
    order_symbols(*this);

    // Placement: the kept sections, then the regenerated tables.
    Section *symtab = add_section(".symtab", SHT_SYMTAB, 0, 8);
    Section *strtab = add_section(".strtab", SHT_STRTAB, 0, 1);
    Section *shndx_table = nullptr;
    bool need_xindex = sections.size() + 1 >= SHN_LORESERVE;
    if (need_xindex)
        shndx_table = add_section(".symtab_shndx", SHT_SYMTAB_SHNDX, 0, 4);
    Section *shstrtab = add_section(".shstrtab", SHT_STRTAB, 0, 1);
    for (size_t i = 0; i < sections.size(); i++)
        sections[i]->index = i;

    StringTable names;
    std::vector<uint8_t> syms(symbols.size() * sizeof(Elf64_Sym));
    std::vector<uint8_t> xindex(need_xindex ? symbols.size() * sizeof(Elf64_Word) : 0);
    auto *raw = reinterpret_cast<Elf64_Sym *>(syms.data());
    uint32_t first_global = static_cast<uint32_t>(symbols.size());
    for (size_t i = 1; i < symbols.size(); i++) {
        const Symbol &sym = *symbols[i];
        if (!sym.is_local() && first_global == symbols.size())
            first_global = static_cast<uint32_t>(i);
        raw[i].st_name = sym.is_section() ? 0 : names.add(sym.name);
        raw[i].st_info = GELF_ST_INFO(sym.bind, sym.type);
        raw[i].st_other = sym.other;
        raw[i].st_value = sym.value;
        raw[i].st_size = sym.size;
        size_t shndx = sym.sec ? sym.sec->index : sym.shndx;
        if (sym.sec && shndx >= SHN_LORESERVE) {
            raw[i].st_shndx = SHN_XINDEX;
            reinterpret_cast<Elf64_Word *>(xindex.data())[i] = static_cast<Elf64_Word>(shndx);
        } else {
            raw[i].st_shndx = static_cast<uint16_t>(shndx);
        }
    }
    symtab->data = std::move(syms);
    symtab->hdr.sh_entsize = sizeof(Elf64_Sym);
    symtab->hdr.sh_link = static_cast<uint32_t>(strtab->index);
    symtab->hdr.sh_info = first_global;
    strtab->data = names.take();
    if (shndx_table) {
        shndx_table->data = std::move(xindex);
        shndx_table->hdr.sh_entsize = sizeof(Elf64_Word);
        shndx_table->link = symtab;
    }

    StringTable section_names;
    for (size_t i = 1; i < sections.size(); i++)
        sections[i]->hdr.sh_name = section_names.add(sections[i]->name);
    shstrtab->data = section_names.take();

    LibelfFile file(out_path, LibelfFile::Mode::Write);
    Elf *elf = file.elf();
    if (!gelf_newehdr(elf, ELFCLASS64))
        throw Error("{}: cannot create the ELF header: {}", out_path, elf_errmsg(-1));
    GElf_Ehdr ehdr;
    gelf_getehdr(elf, &ehdr);
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_OSABI] = os_abi;
    ehdr.e_type = file_type;
    ehdr.e_machine = machine;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_flags = flags;

    // Relocation tables are regenerated into buffers that must live until
    // elf_update() has written them.
    std::vector<std::vector<uint8_t>> rela_buffers;
    rela_buffers.reserve(sections.size());
    for (size_t i = 1; i < sections.size(); i++) {
        Section &sec = *sections[i];
        Elf_Scn *scn = elf_newscn(elf);
        GElf_Shdr shdr;
        if (!scn || !gelf_getshdr(scn, &shdr))
            throw Error("{}: cannot add section {}: {}", out_path, sec.name, elf_errmsg(-1));
        shdr = sec.hdr;
        shdr.sh_offset = 0;
        shdr.sh_addr = 0;
        const std::vector<uint8_t> *bytes = &sec.data;
        if (sec.is_rela()) {
            if (!sec.base)
                throw Error("{}: relocation section {} relocates nothing", out_path, sec.name);
            rela_buffers.push_back(rela_bytes(sec));
            bytes = &rela_buffers.back();
            shdr.sh_link = static_cast<uint32_t>(symtab->index);
            shdr.sh_info = static_cast<uint32_t>(sec.base->index);
            shdr.sh_entsize = sizeof(Elf64_Rela);
            shdr.sh_flags |= SHF_INFO_LINK;
        } else if (sec.link) {
            shdr.sh_link = static_cast<uint32_t>(sec.link->index);
        } else if (&sec != symtab) {
            shdr.sh_link = 0;
        }
        if (sec.hdr.sh_type == SHT_NOBITS) {
            shdr.sh_size = sec.hdr.sh_size;
        } else {
            shdr.sh_size = bytes->size();
        }
        Elf_Data *data = elf_newdata(scn);
        if (!data)
            throw Error("{}: cannot add data to {}: {}", out_path, sec.name, elf_errmsg(-1));
        data->d_type = ELF_T_BYTE;
        data->d_align = std::max<uint64_t>(sec.hdr.sh_addralign, 1);
        data->d_size = shdr.sh_size;
        data->d_buf =
            sec.hdr.sh_type == SHT_NOBITS ? nullptr : const_cast<uint8_t *>(bytes->data());
        if (!gelf_update_shdr(scn, &shdr))
            throw Error("{}: cannot write header of {}: {}", out_path, sec.name, elf_errmsg(-1));
    }

    if (shstrtab->index >= SHN_LORESERVE) {
        ehdr.e_shstrndx = SHN_XINDEX;
        Elf_Scn *zero = elf_getscn(elf, 0);
        GElf_Shdr shdr0;
        gelf_getshdr(zero, &shdr0);
        shdr0.sh_link = static_cast<uint32_t>(shstrtab->index);
        gelf_update_shdr(zero, &shdr0);
    } else {
        ehdr.e_shstrndx = static_cast<uint16_t>(shstrtab->index);
    }
    if (!gelf_update_ehdr(elf, &ehdr))
        throw Error("{}: cannot write the ELF header: {}", out_path, elf_errmsg(-1));
    if (elf_update(elf, ELF_C_WRITE) < 0)
        throw Error("{}: cannot write the object: {}", out_path, elf_errmsg(-1));
    path = out_path;
}

} // namespace kpp::elf
