// What the running kernel (the patch's parent: vmlinux or one module) has:
// its symbol table, to find the position a local symbol has among symbols
// of the same name (livepatch's sympos), and the exported symbols.
#pragma once

#include "libkpp/elf/object.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kpp::diff {

struct KernelSymbol {
    std::string name;
    uint64_t address = 0;
    uint64_t size = 0;
    uint8_t type = STT_NOTYPE;
    bool local = false;
    bool defined = false;
    size_t file_group = 0; // index into KernelSymbols::groups(); 0 = before any FILE symbol
};

class KernelSymbols {
  public:
    // path is the parent's ELF file, or the text `readelf -s --wide` printed
    // for it; the two are told apart by content.
    static KernelSymbols load(const std::string &path);

    struct FileGroup {
        std::string file; // the STT_FILE name, e.g. "meminfo.c"
        size_t first = 0, end = 0;
    };

    // The FILE group in the parent holding `file`'s symbols, told apart
    // from other files of the same name by which of `locals` it holds.
    // Throws kpp::Error when no group, or more than one, fits.
    size_t group_of(const std::string &path, const std::string &file,
                    const std::vector<const elf::Symbol *> &locals) const;

    struct Position {
        uint64_t sympos = 0; // 0 when the name is unique in the parent
        uint64_t size = 0;
        // CONFIG_X86_KERNEL_IBT: the kernel overwrote the ENDBR at this
        // symbol's address at boot (vmlinux's .ibt_endbr_seal), so an
        // indirect call to it faults. Known for a linked parent (vmlinux).
        bool endbr_sealed = false;
    };
    // Where the symbol `name` (local to `group` when local is true) sits.
    std::optional<Position> find(std::string_view name, bool local, size_t group) const;

    bool empty() const { return symbols_.empty(); }

  private:
    void add(KernelSymbol sym);
    void build_index();

    std::vector<KernelSymbol> symbols_;
    std::vector<FileGroup> groups_;
    std::unordered_map<std::string_view, std::vector<size_t>> by_name_;
    std::unordered_set<uint64_t> sealed_; // addresses of sealed ENDBRs
};

// Which parent FILE group each local symbol of an object belongs to. An
// object linked from several files (ld -r, vmlinux.o) has several FILE
// symbols, and each local belongs to the one before it. Groups are matched
// on first use, so a file whose locals the patch never refers to (and which
// the final link may have emptied) is never asked about.
class FileGroups {
  public:
    FileGroups(const KernelSymbols &kernel, const elf::Object &obj);
    size_t of(const elf::Symbol *local);

  private:
    const KernelSymbols &kernel_;
    const elf::Object &obj_;
    struct File {
        std::string name;
        std::vector<const elf::Symbol *> locals;
        std::optional<size_t> group;
    };
    std::vector<File> files_;
    std::unordered_map<const elf::Symbol *, size_t> file_of_;
};

// Module.symvers: the exported symbols and who exports them.
class ExportedSymbols {
  public:
    static ExportedSymbols load(const std::string &path);
    bool empty() const { return exporter_.empty(); }
    // Who exports `name`: "vmlinux", a module's name ("binfmt_misc", from
    // the Module.symvers column "fs/binfmt_misc" or an external module's
    // full path), or "" when nothing exports it.
    std::string_view exporter_of(std::string_view name) const;
    // The namespace `name` is exported in (EXPORT_SYMBOL_NS), or "".
    std::string_view namespace_of(std::string_view name) const;

  private:
    std::unordered_map<std::string, std::string> exporter_;   // symbol -> "vmlinux" or module
    std::unordered_map<std::string, std::string> namespaces_; // symbol -> its namespace
};

} // namespace kpp::diff
