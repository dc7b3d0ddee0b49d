// The ELF model every kpatch++ tool works on: one relocatable object held as
// typed sections, symbols and relocations. Only this library talks to libelf;
// passes read and change the model and never see raw offsets or indices.
//
// Reading parses the section headers, the symbol table and every SHT_RELA
// section into objects that point at each other. Writing lays the model out
// again: the symbol table, string tables and relocation sections are rebuilt
// from the model, so a pass may add, drop or re-point anything and the output
// stays consistent.
#pragma once

#include <elf.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kpp::elf {

struct Section;
struct Symbol;

// Livepatch ELF extensions (include/uapi/linux/elf.h, module-elf-format.rst).
inline constexpr uint16_t kShnLivepatch = 0xff20;
inline constexpr uint64_t kShfRelaLivepatch = 0x00100000;

// How a section or symbol of the patched object relates to the original one.
// Set by the diff passes; meaningless elsewhere.
enum class Status : uint8_t { Unknown, Same, Changed, New };

struct Relocation {
    uint64_t offset = 0; // within the relocated section
    uint32_t type = 0;   // R_X86_64_*
    int64_t addend = 0;
    Symbol *sym = nullptr;
};

struct Symbol {
    std::string name;
    uint8_t bind = STB_LOCAL;
    uint8_t type = STT_NOTYPE;
    uint8_t other = 0;
    // SHN_UNDEF, SHN_ABS, SHN_COMMON, kShnLivepatch ... when sec is null;
    // otherwise rewritten from sec on output.
    uint16_t shndx = SHN_UNDEF;
    Section *sec = nullptr;
    uint64_t value = 0;
    uint64_t size = 0;
    size_t index = 0; // position in .symtab as read, or as last written

    // Diff annotations.
    Symbol *twin = nullptr;   // the correlated symbol in the other object
    Symbol *parent = nullptr; // for foo.cold / foo.part.N: the function foo
    std::vector<Symbol *> children;
    Status status = Status::Unknown;
    bool include = false;

    bool is_func() const { return type == STT_FUNC; }
    bool is_object() const { return type == STT_OBJECT; }
    bool is_section() const { return type == STT_SECTION; }
    bool is_file() const { return type == STT_FILE; }
    bool is_local() const { return bind == STB_LOCAL; }
    bool is_undefined() const { return sec == nullptr && shndx == SHN_UNDEF && !is_file(); }
};

struct Section {
    std::string name;
    Elf64_Shdr hdr{}; // type, flags, addralign, entsize are kept; the rest is laid out on write
    std::vector<uint8_t> data; // empty for SHT_NOBITS (hdr.sh_size holds the size)
    size_t index = 0;          // position in the section header table as read, or as last written

    // A SHT_RELA section points at the section it relocates (base) and holds
    // the relocations; that section points back at it (rela).
    Section *base = nullptr;
    Section *rela = nullptr;
    std::vector<Relocation> relocs;
    // For a SHT_GROUP, SHT_SYMTAB_SHNDX or other section whose sh_link names
    // another section (not a symbol table or a string table).
    Section *link = nullptr;

    Symbol *secsym = nullptr; // the STT_SECTION symbol, if the object has one
    Symbol *owner = nullptr;  // with -ffunction/-fdata-sections: the function or object it holds

    // Diff annotations.
    Section *twin = nullptr;
    Status status = Status::Unknown;
    bool include = false;

    uint64_t size() const { return hdr.sh_type == SHT_NOBITS ? hdr.sh_size : data.size(); }
    bool is_rela() const { return hdr.sh_type == SHT_RELA; }
    bool is_text() const { return (hdr.sh_flags & SHF_EXECINSTR) != 0; }
    bool is_alloc() const { return (hdr.sh_flags & SHF_ALLOC) != 0; }
    bool is_string_table_like() const { return (hdr.sh_flags & SHF_STRINGS) != 0; }
    std::span<const uint8_t> bytes(uint64_t offset, uint64_t len) const;
};

class Object {
  public:
    // Reads an ELF64 relocatable object (or, for symbol look-ups, any ELF64
    // file with a symbol table). Throws kpp::Error naming the file on any
    // malformed input.
    static std::unique_ptr<Object> read(const std::string &path);
    // Reads only the section headers and the symbol table: enough to look
    // symbols up in a large vmlinux without loading its contents. The
    // sections named in `with_data` get their bytes too.
    static std::unique_ptr<Object> read_symbols(const std::string &path,
                                                const std::vector<std::string> &with_data = {});

    // Writes the model as an ELF64 relocatable object. Sections are written
    // in the order of `sections`; .symtab, .strtab, .shstrtab and the
    // relocation sections are regenerated.
    void write(const std::string &path);

    std::string path;
    uint16_t machine = EM_X86_64;
    uint16_t file_type = ET_REL;
    uint8_t os_abi = ELFOSABI_NONE;
    uint32_t flags = 0;

    // sections[0] and symbols[0] are the null entries.
    std::vector<std::unique_ptr<Section>> sections;
    std::vector<std::unique_ptr<Symbol>> symbols;

    Section *find_section(std::string_view name) const;
    Symbol *find_symbol(std::string_view name) const;

    Section *add_section(std::string name, uint32_t type, uint64_t sh_flags, uint64_t align);
    // Creates (or returns) the SHT_RELA section for base.
    Section *rela_for(Section *base);
    Symbol *add_symbol(std::string name, uint8_t bind, uint8_t type, Section *sec, uint64_t value,
                       uint64_t size);

    // Re-derives the by-name indexes after passes renamed or removed entries.
    void reindex();

  private:
    std::unordered_map<std::string_view, Section *> section_by_name_;
    std::unordered_map<std::string_view, Symbol *> symbol_by_name_;
};

// Whether Object::write() drops sec and generates it anew (.symtab,
// .strtab, .shstrtab, .symtab_shndx).
bool is_regenerated(const Section &sec);

// The section symbols and owners for every section: called by read(), and
// again by tools that build objects by hand.
void bind_sections_to_symbols(Object &obj);

} // namespace kpp::elf
