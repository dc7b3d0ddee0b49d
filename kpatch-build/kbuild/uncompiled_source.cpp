#include "kpatch-build/kbuild/uncompiled_source.h"

#include "kpatch-build/kbuild/include_graph.h"
#include "kpatch-build/kbuild/kconfig_values.h"
#include "kpatch-build/util/text_file.h"

#include <fmt/format.h>
#include <regex>
#include <set>
#include <sstream>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

bool may_include(const fs::path &file) {
    auto ext = file.extension();
    return ext == ".c" || ext == ".h" || ext == ".S";
}

// The file names (last path component) that the #include lines of `text`
// name: "#include <linux/fs.h>" and "# include \"../x/joydev.c\"" give fs.h
// and joydev.c.
std::set<std::string> included_names(std::string_view text) {
    std::set<std::string> names;
    for (const auto &directive : include_directives(text))
        if (directive.kind != IncludeDirective::Kind::Computed)
            names.insert(fs::path(directive.name).filename().string());
    return names;
}

// kbuild rules, one per line with the "\" continuations joined.
std::vector<std::string> kbuild_lines(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string joined;
    for (std::string line; std::getline(in, line);) {
        bool continued = !line.empty() && line.back() == '\\';
        joined += continued ? line.substr(0, line.size() - 1) + " " : line;
        if (!continued) {
            lines.push_back(joined);
            joined.clear();
        }
    }
    if (!joined.empty())
        lines.push_back(joined);
    return lines;
}

bool names_object(const std::string &line, const std::string &object) {
    std::istringstream words(line);
    for (std::string word; words >> word;)
        if (word == object)
            return true;
    return false;
}

} // namespace

std::map<std::string, std::vector<std::string>>
files_including_any(const fs::path &tree, const std::vector<std::string> &sources) {
    std::map<std::string, std::vector<std::string>> sources_by_name, found;
    for (const auto &source : sources) {
        sources_by_name[fs::path(source).filename().string()].push_back(source);
        found[source];
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(tree, ec); it != fs::end(it);
         it.increment(ec)) {
        if (ec)
            break;
        if (it->is_directory() && it->path().filename().string().starts_with(".")) {
            it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file() || !may_include(it->path()))
            continue;
        for (const auto &name : included_names(read_text_file_or_empty(it->path()))) {
            auto wanted = sources_by_name.find(name);
            if (wanted == sources_by_name.end())
                continue;
            for (const auto &source : wanted->second)
                found[source].push_back(it->path().lexically_relative(tree).string());
        }
    }
    return found;
}

std::vector<std::string> files_including(const fs::path &tree, const std::string &source) {
    return files_including_any(tree, {source})[source];
}

std::string kbuild_rule_for(const fs::path &tree, const std::string &source) {
    fs::path dir = tree / fs::path(source).parent_path();
    std::string object = fs::path(source).filename().replace_extension(".o").string();
    for (const char *makefile : {"Kbuild", "Makefile"}) {
        for (const auto &line : kbuild_lines(read_text_file_or_empty(dir / makefile))) {
            if (!names_object(line, object))
                continue;
            std::string rule;
            std::istringstream words(line);
            for (std::string word; words >> word;)
                rule += (rule.empty() ? "" : " ") + word;
            return rule;
        }
    }
    return "";
}

std::string config_symbol_of(const std::string &rule) {
    static const std::regex symbol(R"(CONFIG_[A-Za-z0-9_]+)");
    std::smatch m;
    return std::regex_search(rule, m, symbol) ? m.str() : "";
}

std::optional<std::string> uncompiled_source_reason(const fs::path &tree, const std::string &source,
                                                    const std::string &config_text) {
    if (!files_including(tree, source).empty())
        return std::nullopt;
    return not_compiled_reason(tree, source, config_text);
}

std::string not_compiled_reason(const fs::path &tree, const std::string &source,
                                const std::string &config_text) {
    std::string rule = kbuild_rule_for(tree, source), why;
    if (std::string symbol = config_symbol_of(rule); !symbol.empty()) {
        auto value = config_value(config_text, symbol);
        why = fmt::format(" (kbuild: {}; {} {})", rule, symbol,
                          value ? "is " + *value + " but no compile unit is built from the file"
                                : "is not set");
    }
    return fmt::format("{} is not compiled in this kernel's configuration{} and no file includes "
                       "it: the patch to it changes nothing",
                       source, why);
}

} // namespace kpp::build
