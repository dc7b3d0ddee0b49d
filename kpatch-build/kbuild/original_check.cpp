// Original objects against the kernel's code; see original_check.h.
#include "kpatch-build/kbuild/original_check.h"

#include "create-diff-object/arch.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <fmt/format.h>
#include <fstream>
#include <map>
#include <utility>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

// The functions of a parent by name: globals by name, locals by their
// STT_FILE group's file name and their name (two files of one name share
// a key: any of their functions may be the one).
class ParentFunctions {
  public:
    explicit ParentFunctions(const fs::path &path)
        : path_(path), obj_(elf::Object::read_symbols(path.string())) {
        std::string file;
        for (const auto &sym : obj_->symbols) {
            if (!sym)
                continue;
            if (sym->is_file())
                file = sym->name;
            else if (sym->is_func() && sym->sec && !sym->is_undefined())
                by_key_[key(sym->is_local() ? file : "", sym->name)].push_back(sym.get());
        }
    }

    const std::vector<const elf::Symbol *> &find(const std::string &file,
                                                 const elf::Symbol &sym) const {
        static const std::vector<const elf::Symbol *> none;
        auto it = by_key_.find(key(sym.is_local() ? file : "", sym.name));
        return it == by_key_.end() ? none : it->second;
    }

    std::vector<uint8_t> bytes(const elf::Symbol &sym) const {
        const Elf64_Shdr &h = sym.sec->hdr;
        // Written so that no difference can wrap: the values come from the file.
        if (h.sh_type != SHT_PROGBITS || sym.value < h.sh_addr ||
            sym.value - h.sh_addr > h.sh_size || sym.size > h.sh_size - (sym.value - h.sh_addr))
            throw Error("{}: {} lies outside its section {}", path_.string(), sym.name,
                        sym.sec->name);
        std::vector<uint8_t> out(sym.size);
        std::ifstream in(path_, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(h.sh_offset + (sym.value - h.sh_addr)));
        if (!in.read(reinterpret_cast<char *>(out.data()), static_cast<std::streamsize>(sym.size)))
            throw Error("{}: cannot read the {} bytes of {}", path_.string(), sym.size, sym.name);
        return out;
    }

  private:
    static std::string key(const std::string &file, const std::string &name) {
        return file + '\0' + name;
    }

    fs::path path_;
    std::unique_ptr<elf::Object> obj_;
    std::map<std::string, std::vector<const elf::Symbol *>> by_key_;
};

// The function's bytes in its object, with the relocated fields zeroed,
// and a mask that is 0 over those fields.
struct Compiled {
    std::vector<uint8_t> bytes, mask;
};

Compiled compiled(const elf::Symbol &sym, const diff::Arch &arch) {
    const auto &data = sym.sec->data;
    Compiled c;
    c.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(sym.value),
                   data.begin() + static_cast<std::ptrdiff_t>(sym.value + sym.size));
    c.mask.assign(sym.size, 0xff);
    if (sym.sec->rela)
        for (const auto &r : sym.sec->rela->relocs)
            for (uint64_t b = r.offset; b < r.offset + arch.field_len(r.type); b++)
                if (b >= sym.value && b < sym.value + sym.size)
                    c.mask[b - sym.value] = 0;
    return c;
}

// "" when `theirs` matches; else the first differing offset.
std::string difference(const Compiled &ours, const std::vector<uint8_t> &theirs) {
    for (size_t i = 0; i < ours.bytes.size(); i++)
        if (ours.mask[i] && ours.bytes[i] != theirs[i])
            return fmt::format("the bytes differ at +{:#x}", i);
    return "";
}

std::string object_file_name(const elf::Object &obj) {
    for (const auto &sym : obj.symbols)
        if (sym && sym->is_file())
            return sym->name;
    return "";
}

} // namespace

std::vector<NotReproduced> functions_not_reproduced(const fs::path &object, const fs::path &parent,
                                                    const std::string &parent_name) {
    auto obj = elf::Object::read(object.string());
    const diff::Arch &arch = diff::Arch::for_object(*obj);
    ParentFunctions functions(parent);
    const std::string file = object_file_name(*obj);
    std::vector<NotReproduced> out;
    for (const auto &sym : obj->symbols) {
        if (!sym || !sym->is_func() || !sym->sec || sym->is_undefined() || sym->size == 0 ||
            sym->value + sym->size > sym->sec->data.size())
            continue;
        const auto &candidates = functions.find(file, *sym);
        if (candidates.empty()) {
            out.push_back({sym->name, "not in " + parent_name});
            continue;
        }
        Compiled ours = compiled(*sym, arch);
        std::string why;
        for (const elf::Symbol *theirs : candidates) {
            if (theirs->size != sym->size) {
                why = fmt::format("{} bytes in {}, {} compiled", theirs->size, parent_name,
                                  sym->size);
                continue;
            }
            why = difference(ours, functions.bytes(*theirs));
            if (why.empty())
                break;
        }
        if (!why.empty())
            out.push_back({sym->name, why});
    }
    return out;
}

std::string not_reproduced_message(const std::string &object,
                                   const std::vector<NotReproduced> &functions,
                                   const std::string &compiler_text, const std::string &kernel_text,
                                   size_t shown) {
    std::vector<std::string> items;
    for (size_t i = 0; i < functions.size() && i < shown; i++)
        items.push_back(fmt::format("{}: {}", functions[i].function, functions[i].why));
    if (functions.size() > shown)
        items.push_back(fmt::format("{} more", functions.size() - shown));
    return fmt::format("{}: the original object compiled with '{}' is not the kernel's code, "
                       "built with '{}' ({}); a patch built on it could miss code the kernel "
                       "runs: use the kernel's compiler, or --skip-compiler-check to build "
                       "anyway",
                       object, compiler_text, kernel_text, fmt::join(items, "; "));
}

} // namespace kpp::build
