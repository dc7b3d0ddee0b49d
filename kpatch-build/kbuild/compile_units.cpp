#include "kpatch-build/kbuild/compile_units.h"

#include "kpatch-build/util/interrupt.h"
#include "libkpp/error.h"

#include <algorithm>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fstream>
#include <memory>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

struct DwflDeleter {
    void operator()(Dwfl *dwfl) const { dwfl_end(dwfl); }
};

// libdwfl applies a relocatable module's relocations to its DWARF (the CU
// names of a .ko are offsets into .debug_line_str that need them); a plain
// dwarf_begin() would read zeros.
std::unique_ptr<Dwfl, DwflDeleter> open_offline(const fs::path &elf, Dwarf **dwarf) {
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = nullptr,
    };
    std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&callbacks));
    if (!dwfl)
        throw Error("{}: cannot start libdwfl: {}", elf.string(), dwfl_errmsg(-1));
    Dwfl_Module *module = dwfl_report_offline(dwfl.get(), "binary", elf.c_str(), -1);
    dwfl_report_end(dwfl.get(), nullptr, nullptr);
    Dwarf_Addr bias = 0;
    *dwarf = module ? dwfl_module_getdwarf(module, &bias) : nullptr;
    if (!*dwarf)
        throw Error("{}: no DWARF debug info ({})", elf.string(), dwfl_errmsg(-1));
    return dwfl;
}

bool is_module_file(const fs::path &path, std::string_view suffix) {
    return path.filename().string().ends_with(suffix);
}

} // namespace

std::vector<std::string> compile_unit_names(const fs::path &elf) {
    Dwarf *dwarf = nullptr;
    auto dwfl = open_offline(elf, &dwarf);
    std::vector<std::string> names;
    Dwarf_CU *cu = nullptr;
    Dwarf_Die die;
    while (dwarf_get_units(dwarf, cu, &cu, nullptr, nullptr, &die, nullptr) == 0) {
        if (dwarf_tag(&die) != DW_TAG_compile_unit)
            continue;
        if (const char *name = dwarf_diename(&die))
            names.push_back(name);
    }
    return names;
}

std::string object_of_source(std::string_view source) {
    fs::path path = fs::path(source).lexically_normal();
    std::string ext = path.extension().string();
    // Hidden files are kbuild's link-time units (.vmlinux.export.c: the
    // export table, generated at link time, data only): no patch touches
    // them, they have no make goal, and nothing in them is replaced live.
    if (path.is_absolute() || path.empty() || *path.begin() == ".." || source.ends_with(".mod.c") ||
        path.filename().string().starts_with('.') || (ext != ".c" && ext != ".S"))
        return "";
    return path.replace_extension(".o").string();
}

void CompileUnitIndex::add(const std::string &object, const std::string &binary,
                           const std::string &goal) {
    auto &binaries = binaries_[object];
    if (std::find(binaries.begin(), binaries.end(), binary) == binaries.end())
        binaries.push_back(binary);
    if (!goal.empty() && goal != object)
        goals_[object] = goal;
}

namespace {

// Adds the objects of one binary's compile units; a unit named through
// another directory ("dir/../other/f.c") keeps that name as its goal.
void add_units(CompileUnitIndex &index, const fs::path &elf, const std::string &binary) {
    for (const auto &name : compile_unit_names(elf)) {
        std::string object = object_of_source(name);
        if (object.empty())
            continue;
        fs::path path(name);
        bool elsewhere = std::find(path.begin(), path.end(), "..") != path.end();
        index.add(object, binary, elsewhere ? path.replace_extension(".o").string() : "");
    }
}

} // namespace

CompileUnitIndex CompileUnitIndex::scan(const fs::path &vmlinux, const fs::path &modules_dir,
                                        std::string_view module_suffix) {
    CompileUnitIndex index;
    add_units(index, vmlinux, "vmlinux");
    if (!fs::is_directory(modules_dir))
        throw Error("{} not found: the debug modules of this kernel are missing",
                    modules_dir.string());
    for (const auto &entry : fs::recursive_directory_iterator(modules_dir)) {
        if (!entry.is_regular_file() || !is_module_file(entry.path(), module_suffix))
            continue;
        interrupt::throw_if_requested();
        add_units(index, entry.path(), fs::relative(entry.path(), modules_dir).string());
    }
    return index;
}

void CompileUnitIndex::save(const fs::path &file) const {
    std::ofstream out(file);
    for (const auto &[object, binaries] : binaries_) {
        auto goal = goals_.find(object);
        for (const auto &binary : binaries) {
            out << object << '\t' << binary;
            if (goal != goals_.end())
                out << '\t' << goal->second;
            out << '\n';
        }
    }
    if (!out.flush())
        throw Error("cannot write {}", file.string());
}

CompileUnitIndex CompileUnitIndex::load(const fs::path &file) {
    std::ifstream in(file);
    if (!in)
        throw Error("cannot read {}", file.string());
    CompileUnitIndex index;
    for (std::string line; std::getline(in, line);) {
        size_t tab = line.find('\t');
        if (tab == std::string::npos)
            throw Error("{}: malformed line '{}'", file.string(), line);
        size_t goal_tab = line.find('\t', tab + 1);
        std::string goal = goal_tab == std::string::npos ? "" : line.substr(goal_tab + 1);
        index.add(line.substr(0, tab), line.substr(tab + 1, goal_tab - tab - 1), goal);
    }
    return index;
}

std::string CompileUnitIndex::binary_of(const std::string &object) const {
    auto it = binaries_.find(object);
    if (it == binaries_.end())
        return "";
    if (it->second.size() > 1)
        throw Error("{} is linked into {} binaries ({}); kpatch-build patches an object in one "
                    "parent only",
                    object, it->second.size(), fmt::join(it->second, ", "));
    return it->second.front();
}

std::vector<std::string> CompileUnitIndex::objects() const {
    std::vector<std::string> objects;
    for (const auto &[object, binaries] : binaries_)
        objects.push_back(object);
    return objects;
}

} // namespace kpp::build
