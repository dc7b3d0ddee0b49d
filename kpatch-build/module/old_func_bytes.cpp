// First bytes of vmlinux functions and their stable mask; see old_func_bytes.h.
#include "kpatch-build/module/old_func_bytes.h"

#include "create-diff-object/arch.h"
#include "libkpp/error.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <unordered_map>

namespace kpp::build {
namespace {

template <typename T> T load(const std::vector<uint8_t> &data, size_t offset) {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof(T));
    return value;
}

// Lengths of the rewritten instruction at each kind of site (x86_64 only;
// the ftrace site, static branches and KASLR relocations: Arch).
constexpr uint64_t kRetpolineLen = 6; // call/jmp thunk 5, jcc thunk 6
constexpr uint64_t kReturnLen = 5;
constexpr uint64_t kLockLen = 1;
constexpr uint64_t kStaticCallLen = 5;
constexpr uint64_t kEndbrLen = 4;

// Linux 6.1 entry sizes; struct alt_instr is the same on x86_64 and arm64.
constexpr size_t kAltInstrSize = 12; // s32 instr, s32 repl, u16 cpuid/feature, u8 len, u8 replen
constexpr size_t kAltInstrLen = 10;
constexpr size_t kJumpEntrySize = 16;     // s32 code, s32 target, long key
constexpr size_t kStaticCallSiteSize = 8; // s32 addr, s32 key
constexpr size_t kParaSiteSize = 16;      // u8 *instr, u8 type, u8 len
constexpr size_t kParaLen = 9;

} // namespace

VmlinuxText::VmlinuxText(const std::string &path)
    : path_(path), obj_(elf::Object::read_symbols(path)) {
    const elf::Symbol *text = obj_->find_symbol("_text");
    if (!text)
        throw Error("{}: no _text symbol: not a vmlinux", path);
    text_addr_ = text->value;
    collect_unstable();
}

std::vector<uint8_t> VmlinuxText::read(uint64_t addr, uint64_t len) const {
    for (const auto &sec : obj_->sections) {
        const Elf64_Shdr &h = sec->hdr;
        // Written so that no sum can wrap: addresses and sizes come from the file.
        if (h.sh_type != SHT_PROGBITS || !(h.sh_flags & SHF_ALLOC) || addr < h.sh_addr ||
            len > h.sh_size || addr - h.sh_addr > h.sh_size - len)
            continue;
        std::vector<uint8_t> out(len);
        std::ifstream in(path_, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(h.sh_offset + (addr - h.sh_addr)));
        if (!in.read(reinterpret_cast<char *>(out.data()), static_cast<std::streamsize>(len)))
            throw Error("{}: cannot read {} bytes at {:#x} (section {})", path_, len, addr,
                        sec->name);
        return out;
    }
    throw Error("{}: no section holds {} bytes at {:#x}", path_, len, addr);
}

std::vector<uint8_t> VmlinuxText::read_section(const std::string &name) const {
    const elf::Section *sec = obj_->find_section(name);
    if (!sec || sec->hdr.sh_size == 0)
        return {};
    return read(sec->hdr.sh_addr, sec->hdr.sh_size);
}

std::vector<Elf64_Rela> VmlinuxText::read_relas(const std::string &name) const {
    const elf::Section *sec = obj_->find_section(name);
    if (!sec || sec->hdr.sh_type != SHT_RELA)
        return {};
    std::vector<Elf64_Rela> relas(sec->hdr.sh_size / sizeof(Elf64_Rela));
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(sec->hdr.sh_offset));
    if (!in.read(reinterpret_cast<char *>(relas.data()),
                 static_cast<std::streamsize>(relas.size() * sizeof(Elf64_Rela))))
        throw Error("{}: cannot read {} ({} bytes)", path_, name, sec->hdr.sh_size);
    return relas;
}

std::vector<uint8_t> VmlinuxText::read_between(const std::string &start, const std::string &stop,
                                               uint64_t *addr) const {
    const elf::Symbol *from = obj_->find_symbol(start);
    const elf::Symbol *to = obj_->find_symbol(stop);
    if (!from || !to || to->value <= from->value)
        return {};
    *addr = from->value;
    return read(from->value, to->value - from->value);
}

void VmlinuxText::collect_unstable() {
    const diff::Arch &arch = diff::Arch::for_object(*obj_);
    auto add = [this](uint64_t site, uint64_t len) { unstable_.emplace_back(site, site + len); };
    // Tables of s32 offsets relative to each entry.
    auto relative = [&](const std::string &name, uint64_t len) {
        const elf::Section *sec = obj_->find_section(name);
        std::vector<uint8_t> data = read_section(name);
        for (size_t off = 0; off + 4 <= data.size(); off += 4)
            add(sec->hdr.sh_addr + off + load<int32_t>(data, off), len);
    };
    relative(".retpoline_sites", kRetpolineLen);
    relative(".return_sites", kReturnLen);
    relative(".smp_locks", kLockLen);
    relative(".ibt_endbr_seal", kEndbrLen);

    uint64_t base = 0;
    // A relocatable arm64 vmlinux leaves its absolute addresses 0 in the
    // file: the kernel writes each from its R_AARCH64_RELATIVE addend at boot.
    std::unordered_map<uint64_t, uint64_t> boot_addends;
    for (const Elf64_Rela &r : read_relas(".rela.dyn"))
        if (ELF64_R_TYPE(r.r_info) == arch.relative())
            boot_addends[r.r_offset] = static_cast<uint64_t>(r.r_addend);
    auto address_at = [&](const std::vector<uint8_t> &table, uint64_t table_addr, size_t off) {
        auto boot = boot_addends.find(table_addr + off);
        return boot != boot_addends.end() ? boot->second : load<uint64_t>(table, off);
    };

    std::vector<uint8_t> data = read_between("__start_mcount_loc", "__stop_mcount_loc", &base);
    for (size_t off = 0; off + 8 <= data.size(); off += 8)
        add(address_at(data, base, off), arch.ftrace_site_len());

    if (const elf::Section *alt = obj_->find_section(".altinstructions")) {
        data = read_section(".altinstructions");
        if (data.size() % kAltInstrSize)
            throw Error("{}: .altinstructions is {} bytes, not a multiple of {} (not Linux "
                        "6.1's layout)",
                        path_, data.size(), kAltInstrSize);
        for (size_t off = 0; off < data.size(); off += kAltInstrSize)
            add(alt->hdr.sh_addr + off + load<int32_t>(data, off), data[off + kAltInstrLen]);
    }

    data = read_between("__start___jump_table", "__stop___jump_table", &base);
    for (size_t off = 0; off + kJumpEntrySize <= data.size(); off += kJumpEntrySize)
        add(base + off + load<int32_t>(data, off), arch.jump_label_len());

    data = read_between("__start_static_call_sites", "__stop_static_call_sites", &base);
    for (size_t off = 0; off + kStaticCallSiteSize <= data.size(); off += kStaticCallSiteSize)
        add(base + off + load<int32_t>(data, off), kStaticCallLen);

    data = read_section(".parainstructions");
    for (size_t off = 0; off + kParaSiteSize <= data.size(); off += kParaSiteSize)
        add(load<uint64_t>(data, off), data[off + kParaLen]);

    // A relocatable vmlinux keeps the relocations KASLR applies: x86_64's
    // in .rela.text (--emit-relocs), arm64's in .rela.dyn.
    for (const char *name : {".rela.text", ".rela.dyn"})
        for (const Elf64_Rela &r : read_relas(name))
            if (uint64_t len = arch.kaslr_reloc_len(ELF64_R_TYPE(r.r_info)))
                add(r.r_offset, len);
    std::sort(unstable_.begin(), unstable_.end());
}

OldFunction VmlinuxText::function(const std::string &name, uint64_t sympos) const {
    std::vector<const elf::Symbol *> found;
    for (const auto &sym : obj_->symbols)
        if (sym->is_func() && sym->name == name && !sym->is_undefined())
            found.push_back(sym.get());
    std::sort(found.begin(), found.end(),
              [](const elf::Symbol *a, const elf::Symbol *b) { return a->value < b->value; });
    if (found.empty())
        throw Error("{}: no function {} (is it the vmlinux the kernel tree built?)", path_, name);
    if (sympos == 0 && found.size() > 1)
        throw Error("{}: {} functions are named {}; the patch needs a sympos", path_, found.size(),
                    name);
    if (sympos > found.size())
        throw Error("{}: function {} has no position {} ({} of that name)", path_, name, sympos,
                    found.size());
    const elf::Symbol *sym = found[sympos ? sympos - 1 : 0];

    OldFunction fn;
    fn.addr = sym->value;
    fn.size = sym->size;
    uint64_t len = std::min<uint64_t>(kOldBytes, sym->size);
    std::vector<uint8_t> bytes = read(fn.addr, len);
    std::copy(bytes.begin(), bytes.end(), fn.bytes.begin());
    std::fill_n(fn.mask.begin(), len, 0xff);
    for (const auto &[start, end] : unstable_) {
        if (start >= fn.addr + len)
            break;
        for (uint64_t a = std::max(start, fn.addr); a < std::min(end, fn.addr + len); a++)
            fn.mask[a - fn.addr] = 0;
    }
    return fn;
}

std::optional<uint64_t> VmlinuxText::data_address(const std::string &name, uint64_t sympos) const {
    std::vector<const elf::Symbol *> found;
    for (const auto &sym : obj_->symbols)
        if (sym && sym->name == name && sym->sec && !sym->is_section() && !sym->is_file())
            found.push_back(sym.get());
    std::sort(found.begin(), found.end(),
              [](const elf::Symbol *a, const elf::Symbol *b) { return a->value < b->value; });
    if (found.empty() || (sympos == 0 && found.size() > 1) || sympos > found.size())
        return std::nullopt;
    const elf::Symbol *sym = found[sympos ? sympos - 1 : 0];
    if (!sym->sec->is_alloc() || sym->sec->is_text() || sym->sec->name.starts_with(".data..percpu"))
        return std::nullopt;
    return sym->value;
}

} // namespace kpp::build
