// What a patch module file says about itself: .modinfo, and the functions it
// replaces from .kpatchpp.funcs (docs/patch-module.md), read with libkpp's
// ELF model so relocations to .kpatchpp.strings resolve to the names.
#include "tools/kpatch_cli.h"

#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace kpp::cli {

namespace {

constexpr size_t kFuncEntrySize = 48;
constexpr uint64_t kOffNewAddr = 0, kOffOldSize = 8, kOffNewSize = 16, kOffSympos = 24,
                   kOffOldName = 32, kOffObjname = 40;

uint64_t read_u64(const elf::Section &sec, uint64_t off) {
    uint64_t v = 0;
    if (off + 8 <= sec.data.size())
        std::memcpy(&v, sec.data.data() + off, 8);
    return v;
}

// The NUL-terminated string a pointer field points at, through its relocation.
std::optional<std::string> string_at(const elf::Section &sec, uint64_t off) {
    if (!sec.rela)
        return std::nullopt;
    for (const auto &r : sec.rela->relocs) {
        if (r.offset != off || !r.sym)
            continue;
        const elf::Section *target = r.sym->sec;
        if (!target || target->hdr.sh_type == SHT_NOBITS)
            return std::nullopt;
        int64_t pos = static_cast<int64_t>(r.sym->value) + r.addend;
        if (pos < 0 || static_cast<uint64_t>(pos) >= target->data.size())
            return std::nullopt;
        const char *b = reinterpret_cast<const char *>(target->data.data()) + pos;
        size_t max = target->data.size() - static_cast<size_t>(pos);
        return std::string(b, strnlen(b, max));
    }
    return std::nullopt;
}

} // namespace

std::string module_name_from(std::string_view arg) {
    std::string s(fs::path(std::string(arg)).filename().string());
    if (s.size() > 3 && s.ends_with(".ko"))
        s.resize(s.size() - 3);
    for (auto &c : s)
        if (c == '-')
            c = '_';
    return s;
}

ModuleInfo read_module_info(const std::string &path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw Error("{}: no such module file", path);
    auto obj = elf::Object::read(path);
    if (obj->file_type != ET_REL)
        throw Refusal("{}: not a kernel module (ELF type {}, modules are relocatable objects)",
                      path, obj->file_type);
    ModuleInfo info;
    info.path = path;
    const elf::Section *modinfo = obj->find_section(".modinfo");
    if (!modinfo)
        throw Refusal("{}: not a kernel module (no .modinfo section)", path);
    const auto &d = modinfo->data;
    for (size_t i = 0; i < d.size();) {
        const char *s = reinterpret_cast<const char *>(d.data()) + i;
        size_t len = strnlen(s, d.size() - i);
        std::string_view kv(s, len);
        i += len + 1;
        auto eq = kv.find('=');
        if (eq == std::string_view::npos)
            continue;
        auto key = kv.substr(0, eq);
        std::string value(kv.substr(eq + 1));
        if (key == "name")
            info.name = value;
        else if (key == "vermagic")
            info.vermagic = value;
        else if (key == "livepatch")
            info.livepatch = value == "Y";
        else if (key == "description")
            info.description = value;
        else if (key == "license")
            info.license = value;
        else if (key == "srcversion")
            info.srcversion = value;
    }
    if (info.name.empty())
        info.name = module_name_from(path);
    info.release = info.vermagic.substr(0, info.vermagic.find(' '));

    if (const elf::Section *funcs = obj->find_section(".kpatchpp.funcs")) {
        if (funcs->data.size() % kFuncEntrySize != 0)
            throw Error("{}: .kpatchpp.funcs is {} bytes, not a multiple of {}", path,
                        funcs->data.size(), kFuncEntrySize);
        for (uint64_t off = 0; off < funcs->data.size(); off += kFuncEntrySize) {
            PatchFunction f;
            (void)kOffNewAddr;
            f.old_size = read_u64(*funcs, off + kOffOldSize);
            f.new_size = read_u64(*funcs, off + kOffNewSize);
            f.sympos = read_u64(*funcs, off + kOffSympos);
            f.name = string_at(*funcs, off + kOffOldName).value_or("?");
            f.objname = string_at(*funcs, off + kOffObjname).value_or("vmlinux");
            info.functions.push_back(std::move(f));
        }
    }
    return info;
}

void check_patch_module(const ModuleInfo &info, const std::string &rel) {
    if (!info.livepatch)
        throw Refusal("{}: {} is not a livepatch module (no livepatch=Y in .modinfo)", info.path,
                      info.name);
    if (info.release != rel)
        throw Refusal("{}: built for kernel {}, not {} (vermagic '{}')", info.path,
                      info.release.empty() ? "?" : info.release, rel, info.vermagic);
}

} // namespace kpp::cli
