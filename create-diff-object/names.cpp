#include "create-diff-object/names.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace kpp::diff {

std::string stable_name(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    size_t i = 0;
    while (i < name.size()) {
        size_t dot = name.find('.', i + 1);
        std::string_view part = name.substr(i, dot == std::string_view::npos ? dot : dot - i);
        bool numbered = i > 0 && part.size() > 1 && part[0] == '.' &&
                        std::all_of(part.begin() + 1, part.end(), [](char c) {
                            return std::isdigit(static_cast<unsigned char>(c));
                        });
        if (!numbered)
            out += part;
        if (dot == std::string_view::npos)
            break;
        i = dot;
    }
    return out;
}

namespace {

void drop_trailing_digits(std::string &s, size_t end) {
    size_t digits = end;
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(s[digits - 1])))
        digits--;
    s.erase(digits, end - digits);
}

} // namespace

std::string special_static_key(std::string_view name) {
    std::string key = stable_name(name);
    if (key.starts_with("__UNIQUE_ID_")) {
        size_t end = key.find('.');
        drop_trailing_digits(key, end == std::string::npos ? key.size() : end);
    } else if (key.find(".L") != std::string::npos) {
        drop_trailing_digits(key, key.size());
    }
    return key;
}

std::string_view parent_function_name(std::string_view name) {
    for (std::string_view marker : {".cold", ".part."}) {
        size_t at = name.find(marker);
        if (at != std::string_view::npos && at > 0)
            return name.substr(0, at);
    }
    return {};
}

bool is_compiler_constant(std::string_view name) {
    return name.starts_with("CSWTCH.") || name.starts_with(".Lswitch.table.") ||
           name.starts_with(".L__const.") || name == ".L.str" || name.starts_with(".L.str.");
}

bool is_special_static(std::string_view name) {
    // The variables the kernel's macros declare, as GCC (`__key.3`) and
    // clang (`func.__key`, `func.__key.1`) name them.
    static constexpr std::array kMacroStatics = {
        std::string_view("__already_done"), std::string_view("__key"),
        std::string_view("__warned"),       std::string_view("__func__"),
        std::string_view("descriptor"),     std::string_view("_rs"),
        std::string_view("__print_once"),   std::string_view("_entry"),
        std::string_view("_entry_ptr"),     std::string_view("__msg"),
    };
    std::string stable = stable_name(name);
    std::string_view var = stable;
    if (size_t dot = var.rfind('.'); dot != std::string_view::npos && !name.starts_with("."))
        var.remove_prefix(dot + 1);
    bool decorated = stable != name || var.size() != stable.size(); // never a plain global
    bool macro_static = decorated && std::find(kMacroStatics.begin(), kMacroStatics.end(), var) !=
                                         kMacroStatics.end();
    return macro_static || name.starts_with("__UNIQUE_ID_") ||
           name.find(".__UNIQUE_ID_") != std::string_view::npos ||
           name.starts_with(".L__unnamed_") || name.starts_with(".Lubsan_") ||
           is_compiler_constant(name);
}

std::string_view data_name_of_section(std::string_view section) {
    for (std::string_view prefix : {".rodata.", ".data.rel.ro.local.", ".data.rel.ro.",
                                    ".data.rel.local.", ".data.rel.", ".data.", ".bss."})
        if (section.starts_with(prefix))
            return section.substr(prefix.size());
    return {};
}

std::string static_local_source_name(std::string_view name) {
    if (name.empty() || name.starts_with(".") || is_special_static(name))
        return {};
    std::string stable = stable_name(name);
    if (stable.ends_with(".llvm")) // promoted by ThinLTO: foo.count.llvm.<hash>
        stable.resize(stable.size() - 5);
    size_t dot = stable.rfind('.');
    if (dot != std::string::npos)
        return stable.substr(dot + 1);              // clang: func.var
    return stable != name ? stable : std::string(); // GCC: var.N
}

} // namespace kpp::diff
