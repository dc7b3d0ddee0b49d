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

std::string special_static_key(std::string_view name) {
    std::string key = stable_name(name);
    if (key.starts_with("__UNIQUE_ID_")) {
        size_t end = key.find('.');
        if (end == std::string::npos)
            end = key.size();
        size_t digits = end;
        while (digits > 0 && std::isdigit(static_cast<unsigned char>(key[digits - 1])))
            digits--;
        key.erase(digits, end - digits);
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

bool is_special_static(std::string_view name) {
    static constexpr std::array kPrefixes = {
        std::string_view("__already_done."), std::string_view("__key."),
        std::string_view("__warned."),       std::string_view("__func__."),
        std::string_view("descriptor."),     std::string_view("_rs."),
        std::string_view("__print_once."),   std::string_view("__UNIQUE_ID_"),
        std::string_view("_entry."),         std::string_view("_entry_ptr."),
        std::string_view("__msg."),
    };
    return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                       [&](std::string_view p) { return name.starts_with(p); });
}

} // namespace kpp::diff
