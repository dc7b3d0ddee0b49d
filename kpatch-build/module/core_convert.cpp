// The diff output as input of the kmod/core template; see core_convert.h.
#include "kpatch-build/module/core_convert.h"

#include "create-diff-object/arch.h"
#include "libkpp/error.h"
#include "libkpp/log.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

namespace kpp::build {
namespace {

// struct kpp_patch_func (kmod/patch/kpatchpp-macros.h).
constexpr size_t kFuncSize = 48;
constexpr size_t kFuncOldSize = 8;
constexpr size_t kFuncSympos = 24;
constexpr size_t kFuncOldName = 32;
constexpr size_t kFuncObjname = 40;

// struct kpp_core_old (kpatchpp-core-template.c): addr, bytes, mask.
constexpr size_t kOldSize = 8 + 2 * kOldBytes;

// struct kpp_core_reloc (kmod/core/kpatchpp-core.h).
// addr: a vmlinux data symbol's address (VmlinuxText::data_address), else 0;
// veneer: zeroed module text for a branch kpatch.ko may find out of reach
// (Arch::veneer_size(): arm64's B and BL), else 0.
constexpr size_t kRelocSize = 64;
constexpr size_t kRelocLoc = 0;
constexpr size_t kRelocName = 8;
constexpr size_t kRelocObjname = 16;
constexpr size_t kRelocSympos = 24;
constexpr size_t kRelocAddend = 32;
constexpr size_t kRelocType = 40;
constexpr size_t kRelocAddr = 48;
constexpr size_t kRelocVeneer = 56;
constexpr uint64_t kVeneerAlign = 16; // the veneer's 8-byte literal stays aligned

// struct kpp_core_desc (kpatchpp-core-template.c): pointer/count pairs.
constexpr size_t kDescFuncs = 0;
constexpr size_t kDescNrFuncs = 8;
constexpr size_t kDescOlds = 16;
constexpr size_t kDescRelocs = 24;
constexpr size_t kDescNrRelocs = 32;
constexpr size_t kDescForce = 40;
constexpr size_t kDescNrForce = 48;
constexpr size_t kDescCallbacks = 56;   // 4 pointers
constexpr size_t kDescNrCallbacks = 88; // 4 counts
constexpr size_t kDescVmlinuxText = 120;
constexpr size_t kDescSize = 128;
constexpr size_t kCallbackSize = 16;
constexpr std::array<const char *, 4> kCallbackKinds = {"pre_patch", "post_patch", "pre_unpatch",
                                                        "post_unpatch"};

template <typename T> void store(std::vector<uint8_t> &data, size_t offset, T value) {
    std::memcpy(data.data() + offset, &value, sizeof(T));
}

template <typename T> T load(const std::vector<uint8_t> &data, size_t offset) {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof(T));
    return value;
}

bool is_debug_section(std::string_view name) {
    return name.starts_with(".debug_") || name.starts_with(".zdebug_");
}

// Sections nothing reads before the patch module's init runs: the core can
// fill their fields then. .data..percpu is copied out by the loader.
bool resolvable_by_core(std::string_view name) {
    if (name.starts_with(".data..percpu"))
        return false;
    return name.starts_with(".text") || name.starts_with(".rodata") || name.starts_with(".data");
}

class Converter {
  public:
    Converter(elf::Object &obj, const VmlinuxText &vmlinux)
        : obj_(obj), vmlinux_(vmlinux), arch_(diff::Arch::for_object(obj)) {}

    CoreConvertResult run(const klp::Symvers &symvers);

  private:
    elf::Section *add_table(const std::string &name, size_t size);
    elf::Symbol *section_symbol(elf::Section *sec);
    void point(elf::Section *table, size_t offset, elf::Section *to, int64_t addend = 0);
    void point_to_string(elf::Section *table, size_t offset, const std::string &text);
    std::string string_at(const elf::Section &table, size_t offset) const;
    void reserve_veneer(size_t entry, uint32_t type);
    void convert_functions();
    void convert_relocations();
    void check_undefined(const klp::Symvers &symvers) const;
    void write_descriptor();

    elf::Object &obj_;
    const VmlinuxText &vmlinux_;
    const diff::Arch &arch_;
    elf::Section *strings_ = nullptr;
    elf::Section *veneers_ = nullptr;
    elf::Section *olds_ = nullptr;
    elf::Section *relocs_ = nullptr;
    CoreConvertResult result_;
};

elf::Section *Converter::add_table(const std::string &name, size_t size) {
    if (obj_.find_section(name))
        throw Error("{}: already has a {} section: converted twice?", obj_.path, name);
    elf::Section *sec = obj_.add_section(name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
    sec->data.assign(size, 0);
    section_symbol(sec);
    return sec;
}

elf::Symbol *Converter::section_symbol(elf::Section *sec) {
    if (!sec->secsym)
        sec->secsym = obj_.add_symbol(sec->name, STB_LOCAL, STT_SECTION, sec, 0, 0);
    return sec->secsym;
}

// An 8-byte pointer at table+offset to `to`+addend, filled by the loader.
void Converter::point(elf::Section *table, size_t offset, elf::Section *to, int64_t addend) {
    obj_.rela_for(table)->relocs.push_back(
        {offset, arch_.absolute64(), addend, section_symbol(to)});
}

// Zeroed text for the veneer of the branch of relocation entry `entry`,
// when branches of `type` may need one.
void Converter::reserve_veneer(size_t entry, uint32_t type) {
    uint64_t size = arch_.veneer_size(type);
    if (!size)
        return;
    if (!veneers_) {
        veneers_ = obj_.add_section(".text.kpatchpp.veneers", SHT_PROGBITS,
                                    SHF_ALLOC | SHF_EXECINSTR, kVeneerAlign);
        section_symbol(veneers_);
    }
    auto at = static_cast<int64_t>(veneers_->data.size());
    veneers_->data.resize(veneers_->data.size() +
                          (size + kVeneerAlign - 1) / kVeneerAlign * kVeneerAlign);
    point(relocs_, entry + kRelocVeneer, veneers_, at);
    result_.veneers++;
}

void Converter::point_to_string(elf::Section *table, size_t offset, const std::string &text) {
    if (!strings_) {
        strings_ = obj_.add_section(".kpatchpp.core.strings", SHT_PROGBITS, SHF_ALLOC, 1);
        section_symbol(strings_);
    }
    auto at = static_cast<int64_t>(strings_->data.size());
    strings_->data.insert(strings_->data.end(), text.begin(), text.end());
    strings_->data.push_back(0);
    point(table, offset, strings_, at);
}

// The string a pointer field of `table` (filled by a relocation) points to.
std::string Converter::string_at(const elf::Section &table, size_t offset) const {
    if (table.rela)
        for (const auto &r : table.rela->relocs) {
            if (r.offset != offset || !r.sym || !r.sym->sec)
                continue;
            const auto &data = r.sym->sec->data;
            uint64_t at = r.sym->value + static_cast<uint64_t>(r.addend);
            if (at >= data.size())
                break;
            const char *text = reinterpret_cast<const char *>(data.data() + at);
            return std::string(text, strnlen(text, data.size() - at));
        }
    throw Error("{}: {}+{:#x} does not point to a string", obj_.path, table.name, offset);
}

void Converter::convert_functions() {
    elf::Section *funcs = obj_.find_section(".kpatchpp.funcs");
    if (!funcs)
        return;
    if (funcs->data.size() % kFuncSize)
        throw Error("{}: .kpatchpp.funcs is {} bytes, not a multiple of {}", obj_.path,
                    funcs->data.size(), kFuncSize);
    size_t n = funcs->data.size() / kFuncSize;
    olds_ = add_table(".kpatchpp.core.olds", n * kOldSize);
    for (size_t i = 0; i < n; i++) {
        size_t at = i * kFuncSize;
        std::string name = string_at(*funcs, at + kFuncOldName);
        std::string objname = string_at(*funcs, at + kFuncObjname);
        if (objname != "vmlinux")
            throw Refusal("{}: {} is a function of module {}; kpatch-build --core patches "
                          "vmlinux only (docs/core.md)",
                          obj_.path, name, objname);
        OldFunction fn = vmlinux_.function(name, load<uint64_t>(funcs->data, at + kFuncSympos));
        uint64_t old_size = load<uint64_t>(funcs->data, at + kFuncOldSize);
        if (old_size && old_size != fn.size)
            throw Error("{}: {} is {} bytes in vmlinux, the diff says {}", obj_.path, name, fn.size,
                        old_size);
        size_t o = i * kOldSize;
        store(olds_->data, o, fn.addr);
        std::copy(fn.bytes.begin(), fn.bytes.end(), olds_->data.begin() + o + 8);
        std::copy(fn.mask.begin(), fn.mask.end(), olds_->data.begin() + o + 8 + kOldBytes);
        log::debug("core: {} at {:#x}, {} bytes", name, fn.addr, fn.size);
    }
    result_.functions = n;
}

void Converter::convert_relocations() {
    relocs_ = add_table(".kpatchpp.core.relocs", 0);
    std::vector<elf::Section *> relas;
    for (const auto &sec : obj_.sections)
        if (sec->is_rela() && sec->base && sec.get() != relocs_->rela)
            relas.push_back(sec.get());
    for (elf::Section *rela : relas) {
        std::vector<elf::Relocation> kept;
        for (const auto &r : rela->relocs) {
            auto klp = r.sym ? klp::parse_klp_symbol(r.sym->name) : std::nullopt;
            if (!klp) {
                kept.push_back(r);
                continue;
            }
            const std::string &target = rela->base->name;
            if (is_debug_section(target)) {
                result_.dropped_relocations++;
                continue;
            }
            if (!resolvable_by_core(target))
                throw Refusal("{}: {} refers to {} (not exported), which kpatch.ko resolves only "
                              "after the module loader has read {}; not supported with --core",
                              obj_.path, target, klp->symbol, target);
            size_t e = relocs_->data.size();
            relocs_->data.resize(e + kRelocSize, 0);
            point(relocs_, e + kRelocLoc, rela->base, static_cast<int64_t>(r.offset));
            point_to_string(relocs_, e + kRelocName, klp->symbol);
            point_to_string(relocs_, e + kRelocObjname, klp->objname);
            store(relocs_->data, e + kRelocSympos, klp->sympos);
            store(relocs_->data, e + kRelocAddend, r.addend);
            store(relocs_->data, e + kRelocType, r.type);
            if (klp->objname == "vmlinux")
                if (auto addr = vmlinux_.data_address(klp->symbol, klp->sympos))
                    store(relocs_->data, e + kRelocAddr, *addr);
            reserve_veneer(e, r.type);
            result_.relocations++;
        }
        rela->relocs = std::move(kept);
    }
    std::erase_if(obj_.symbols, [](const std::unique_ptr<elf::Symbol> &sym) {
        return sym && sym->is_undefined() && klp::parse_klp_symbol(sym->name);
    });
    obj_.reindex();
}

void Converter::check_undefined(const klp::Symvers &symvers) const {
    for (const auto &sym : obj_.symbols) {
        if (!sym || !sym->is_undefined() || sym->name.empty())
            continue;
        // They would load on a livepatch kernel, but use the livepatch core's
        // store while the files of the patch that include the header use
        // kpatch.ko's, and on the kernels --core is for they do not exist.
        if (sym->name.starts_with("klp_shadow_"))
            throw Error("{}: the patch calls {} of the livepatch core, which kpatch.ko does not "
                        "use; #include <linux/kpatchpp-macros.h> in every patched file that "
                        "uses shadow variables (with --core it maps klp_shadow_* to kpatch.ko's "
                        "kpp_shadow_*)",
                        obj_.path, sym->name);
        if (sym->bind != STB_WEAK && !symvers.contains(sym->name))
            throw Error("{}: {} is undefined and not exported (Module.symvers); the module "
                        "could not load",
                        obj_.path, sym->name);
    }
}

void Converter::write_descriptor() {
    elf::Section *desc = add_table(".kpatchpp.core", kDescSize);
    if (elf::Section *funcs = obj_.find_section(".kpatchpp.funcs")) {
        point(desc, kDescFuncs, funcs);
        store<uint64_t>(desc->data, kDescNrFuncs, result_.functions);
        point(desc, kDescOlds, olds_);
    }
    point(desc, kDescRelocs, relocs_);
    store<uint64_t>(desc->data, kDescNrRelocs, result_.relocations);
    if (elf::Section *force = obj_.find_section(".kpatchpp.force")) {
        point(desc, kDescForce, force);
        store<uint64_t>(desc->data, kDescNrForce, force->data.size() / 8);
    }
    for (size_t k = 0; k < kCallbackKinds.size(); k++) {
        elf::Section *cb =
            obj_.find_section(std::string(".kpatchpp.callbacks.") + kCallbackKinds[k]);
        if (!cb)
            continue;
        point(desc, kDescCallbacks + 8 * k, cb);
        store<uint64_t>(desc->data, kDescNrCallbacks + 8 * k, cb->data.size() / kCallbackSize);
    }
    store(desc->data, kDescVmlinuxText, vmlinux_.text_addr());
    obj_.add_symbol("kpp_core_desc", STB_GLOBAL, STT_OBJECT, desc, 0, kDescSize);
}

CoreConvertResult Converter::run(const klp::Symvers &symvers) {
    convert_functions();
    convert_relocations();
    check_undefined(symvers);
    write_descriptor();
    return result_;
}

} // namespace

CoreConvertResult convert_for_core(elf::Object &obj, const VmlinuxText &vmlinux,
                                   const klp::Symvers &symvers) {
    return Converter(obj, vmlinux).run(symvers);
}

CoreConvertResult convert_for_core(const std::string &in_o, const std::string &out_o,
                                   const std::string &vmlinux, const std::string &symvers,
                                   const std::string &core_symvers) {
    auto obj = elf::Object::read(in_o);
    VmlinuxText text(vmlinux);
    klp::Symvers exports = klp::read_symvers(symvers);
    if (!core_symvers.empty())
        for (auto &[name, e] : klp::read_symvers(core_symvers))
            exports.insert_or_assign(name, std::move(e));
    CoreConvertResult result = convert_for_core(*obj, text, exports);
    obj->write(out_o);
    log::info("core patch: {} functions, {} relocations for kpatch.ko to resolve ({} with a "
              "veneer)",
              result.functions, result.relocations, result.veneers);
    return result;
}

} // namespace kpp::build
