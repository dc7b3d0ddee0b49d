#include "kpatch-build/kbuild/kconfig_values.h"

#include "libkpp/error.h"

#include <fstream>
#include <sstream>

namespace kpp::build {

std::optional<std::string> config_value(std::string_view config_text, std::string_view option) {
    size_t pos = 0;
    while (pos < config_text.size()) {
        size_t end = config_text.find('\n', pos);
        std::string_view line =
            config_text.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (line.size() > option.size() && line.starts_with(option) && line[option.size()] == '=') {
            std::string_view value = line.substr(option.size() + 1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            return std::string(value);
        }
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return std::nullopt;
}

bool config_enabled(std::string_view config_text, std::string_view option) {
    return config_value(config_text, option) == "y";
}

std::string read_config_file(const std::filesystem::path &config) {
    std::ifstream in(config);
    if (!in)
        throw Error("cannot read the kernel config {}", config.string());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace kpp::build
