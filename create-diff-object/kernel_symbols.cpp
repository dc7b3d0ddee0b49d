#include "create-diff-object/kernel_symbols.h"

#include "libkpp/error.h"
#include "libkpp/module_name.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kpp::diff {
namespace {

bool looks_like_elf(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
           magic[3] == 'F';
}

// .ibt_endbr_seal of a linked file: 32-bit offsets, each relative to its
// own entry, to the ENDBRs apply_ibt_endbr() overwrites at boot. (In a
// module's .ko the entries are still relocations; they are not read.)
std::unordered_set<uint64_t> sealed_endbrs(const elf::Object &obj) {
    std::unordered_set<uint64_t> sealed;
    const elf::Section *seal = obj.find_section(".ibt_endbr_seal");
    if (!seal || seal->hdr.sh_addr == 0 || obj.file_type == ET_REL)
        return sealed;
    for (uint64_t at = 0; at + 4 <= seal->data.size(); at += 4) {
        int32_t rel;
        std::memcpy(&rel, seal->data.data() + at, 4);
        sealed.insert(seal->hdr.sh_addr + at + static_cast<int64_t>(rel));
    }
    return sealed;
}

uint8_t type_from_text(std::string_view t) {
    if (t == "FUNC")
        return STT_FUNC;
    if (t == "OBJECT")
        return STT_OBJECT;
    if (t == "FILE")
        return STT_FILE;
    if (t == "SECTION")
        return STT_SECTION;
    return STT_NOTYPE;
}

// A number of a `readelf -s --wide` row: the value in hex, the size in
// decimal (or hex with 0x, for sizes readelf cannot print in its column).
std::optional<uint64_t> number(std::string_view text, int base) {
    if (base == 10 && text.starts_with("0x")) {
        text.remove_prefix(2);
        base = 16;
    }
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// One row of `readelf -s --wide`:
//   Num: Value Size Type Bind Vis Ndx Name
// (ppc64le adds "[<localentry>: 8]" after Vis; it is dropped.) Lines that
// are not rows (headers, blank lines) give nothing; a row whose numbers do
// not read is an error naming the file and line.
std::optional<KernelSymbol> parse_readelf_row(const std::string &path, size_t line_number,
                                              const std::string &line) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string f; in >> f;)
        fields.push_back(f);
    if (fields.size() < 7 || fields[0].empty() || fields[0].back() != ':')
        return std::nullopt;
    if (!std::all_of(fields[0].begin(), fields[0].end() - 1, ::isdigit))
        return std::nullopt;
    std::erase_if(fields, [](const std::string &f) { return f.starts_with("[<") || f == "8]"; });
    if (fields.size() < 7)
        throw Error("{}:{}: symbol row with too few columns: {}", path, line_number, line);
    auto address = number(fields[1], 16);
    auto size = number(fields[2], 10);
    if (!address || !size)
        throw Error("{}:{}: symbol row whose value or size is not a number: {}", path, line_number,
                    line);
    KernelSymbol sym;
    sym.address = *address;
    sym.size = *size;
    sym.type = type_from_text(fields[3]);
    sym.local = fields[4] == "LOCAL";
    sym.defined = fields[6] != "UND";
    if (fields.size() > 7)
        sym.name = fields[7];
    return sym;
}

} // namespace

void KernelSymbols::add(KernelSymbol sym) {
    if (sym.type == STT_FILE) {
        groups_.back().end = symbols_.size();
        groups_.push_back({sym.name, symbols_.size(), symbols_.size()});
    }
    sym.file_group = groups_.size() - 1;
    symbols_.push_back(std::move(sym));
}

void KernelSymbols::build_index() {
    groups_.back().end = symbols_.size();
    by_name_.reserve(symbols_.size());
    for (size_t i = 0; i < symbols_.size(); i++) {
        const KernelSymbol &s = symbols_[i];
        if (!s.name.empty() && s.type != STT_FILE && s.type != STT_SECTION)
            by_name_[s.name].push_back(i);
    }
}

KernelSymbols KernelSymbols::load(const std::string &path) {
    KernelSymbols table;
    table.groups_.push_back({"", 0, 0});
    if (looks_like_elf(path)) {
        auto obj = elf::Object::read_symbols(path, {".ibt_endbr_seal"});
        table.sealed_ = sealed_endbrs(*obj);
        table.symbols_.reserve(obj->symbols.size());
        for (size_t i = 1; i < obj->symbols.size(); i++) {
            const elf::Symbol &s = *obj->symbols[i];
            table.add({s.name, s.value, s.size, s.type, s.is_local(),
                       s.sec != nullptr || s.shndx == SHN_ABS, 0});
        }
    } else {
        std::ifstream in(path);
        if (!in)
            throw Error("{}: cannot open the parent's symbol table", path);
        size_t line_number = 0;
        for (std::string line; std::getline(in, line);)
            if (auto sym = parse_readelf_row(path, ++line_number, line))
                table.add(std::move(*sym));
        if (table.symbols_.empty())
            throw Error("{}: neither an ELF file nor `readelf -s --wide` output", path);
    }
    table.build_index();
    return table;
}

FileGroups::FileGroups(const KernelSymbols &kernel, const elf::Object &obj)
    : kernel_(kernel), obj_(obj) {
    files_.push_back({"", {}, std::nullopt});
    for (const auto &sym : obj.symbols) {
        if (sym->is_file()) {
            files_.push_back({sym->name, {}, std::nullopt});
        } else if (sym->is_local() && sym->sec && !sym->is_section()) {
            // Every defined local belongs to a file (a relocation may name a
            // label or a TLS variable too); functions and objects tell the
            // file's group apart in the parent.
            file_of_[sym.get()] = files_.size() - 1;
            if (sym->is_func() || sym->is_object())
                files_.back().locals.push_back(sym.get());
        }
    }
}

size_t FileGroups::of(const elf::Symbol *local) {
    auto known = file_of_.find(local);
    if (known == file_of_.end())
        throw Error("{}: {} is not a local symbol defined in this object, so it has no place "
                    "among the parent's local symbols",
                    obj_.path, local->name);
    File &file = files_[known->second];
    if (!file.group)
        file.group = kernel_.group_of(obj_.path, file.name, file.locals);
    return *file.group;
}

size_t KernelSymbols::group_of(const std::string &path, const std::string &file,
                               const std::vector<const elf::Symbol *> &locals) const {
    // Several files may share a base name (core.c); the right group is the
    // one that holds the most of this object's local symbols.
    size_t best = 0, best_score = 0;
    bool tie = false;
    for (size_t g = 1; g < groups_.size(); g++) {
        if (groups_[g].file != file)
            continue;
        size_t score = 0;
        for (const elf::Symbol *local : locals) {
            auto it = by_name_.find(local->name);
            if (it == by_name_.end())
                continue;
            score += std::any_of(it->second.begin(), it->second.end(),
                                 [&](size_t i) { return symbols_[i].file_group == g; });
        }
        if (best == 0 || score > best_score) {
            best = g;
            best_score = score;
            tie = false;
        } else if (score == best_score) {
            tie = true;
        }
    }
    if (best == 0)
        throw Error("{}: the parent's symbol table has no FILE symbol for {}; is it the right "
                    "vmlinux or module?",
                    path, file.empty() ? "this object" : file);
    if (tie)
        throw Error("{}: {} matches several FILE groups in the parent's symbol table equally well",
                    path, file);
    return best;
}

std::optional<KernelSymbols::Position> KernelSymbols::find(std::string_view name, bool local,
                                                           size_t group) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
        return std::nullopt;
    std::vector<size_t> defined;
    for (size_t i : it->second)
        if (symbols_[i].defined)
            defined.push_back(i);
    if (defined.empty())
        return std::nullopt;
    size_t mine = defined.front();
    if (local) {
        auto in_group = std::find_if(defined.begin(), defined.end(), [&](size_t i) {
            return symbols_[i].local && symbols_[i].file_group == group;
        });
        if (in_group == defined.end())
            return std::nullopt;
        mine = *in_group;
    } else {
        auto global = std::find_if(defined.begin(), defined.end(),
                                   [&](size_t i) { return !symbols_[i].local; });
        if (global != defined.end())
            mine = *global;
    }
    bool sealed = sealed_.contains(symbols_[mine].address);
    if (defined.size() == 1)
        return Position{0, symbols_[mine].size, sealed};
    // kallsyms lists symbols by address; livepatch counts from 1 in that order.
    std::stable_sort(defined.begin(), defined.end(),
                     [&](size_t a, size_t b) { return symbols_[a].address < symbols_[b].address; });
    uint64_t pos = std::find(defined.begin(), defined.end(), mine) - defined.begin() + 1;
    return Position{pos, symbols_[mine].size, sealed};
}

ExportedSymbols ExportedSymbols::load(const std::string &path) {
    ExportedSymbols exported;
    if (path.empty())
        return exported;
    std::ifstream in(path);
    if (!in)
        throw Error("{}: cannot open Module.symvers", path);
    // crc <tab> symbol <tab> module <tab> export type <tab> namespace; the
    // module column names vmlinux for the kernel's own exports.
    for (std::string line; std::getline(in, line);) {
        auto first = line.find('\t');
        if (first == std::string::npos)
            continue;
        auto second = line.find('\t', first + 1);
        std::string name = line.substr(first + 1, second - first - 1);
        std::string module, ns;
        if (second != std::string::npos) {
            auto third = line.find('\t', second + 1);
            module = line.substr(second + 1, third - second - 1);
            auto fourth = third == std::string::npos ? third : line.find('\t', third + 1);
            if (fourth != std::string::npos)
                ns = line.substr(fourth + 1);
        }
        if (!ns.empty())
            exported.namespaces_.emplace(name, std::move(ns));
        exported.exporter_.emplace(std::move(name), symvers_module_name(module));
    }
    return exported;
}

std::string_view ExportedSymbols::exporter_of(std::string_view name) const {
    auto it = exporter_.find(std::string(name));
    return it == exporter_.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view ExportedSymbols::namespace_of(std::string_view name) const {
    auto it = namespaces_.find(std::string(name));
    return it == namespaces_.end() ? std::string_view() : std::string_view(it->second);
}

} // namespace kpp::diff
