#include "kpatch-build/kbuild/include_graph.h"

#include "kpatch-build/kbuild/header_deps.h"
#include "kpatch-build/kbuild/object_build.h"
#include "kpatch-build/util/text_file.h"
#include "libkpp/log.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>

namespace kpp::build {
namespace fs = std::filesystem;

namespace {

std::string_view trim_left(std::string_view text) {
    size_t start = text.find_first_not_of(" \t");
    return start == std::string_view::npos ? std::string_view{} : text.substr(start);
}

std::string_view word_at(std::string_view text) {
    size_t end = 0;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
        end++;
    return text.substr(0, end);
}

// `<x>` or `"x"` at the start of `text`: x and whether it was quoted.
std::optional<IncludeDirective> delimited_name(std::string_view text) {
    if (text.empty() || (text[0] != '<' && text[0] != '"'))
        return std::nullopt;
    char close = text[0] == '<' ? '>' : '"';
    size_t end = text.find(close, 1);
    if (end == std::string_view::npos || end == 1)
        return std::nullopt;
    return IncludeDirective{text[0] == '<' ? IncludeDirective::Kind::Angle
                                           : IncludeDirective::Kind::Quoted,
                            std::string(text.substr(1, end - 1))};
}

// A directive line's keyword and the rest: "# include <x>" -> ("include", "<x>").
std::pair<std::string_view, std::string_view> directive(std::string_view line) {
    line = trim_left(line);
    if (line.empty() || line[0] != '#')
        return {};
    line = trim_left(line.substr(1));
    std::string_view keyword = word_at(line);
    return {keyword, trim_left(line.substr(keyword.size()))};
}

// Calls visit(keyword, rest) for each preprocessor directive line of `text`.
template <typename Visit> void for_each_directive(std::string_view text, Visit visit) {
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        std::string_view line = text.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        start = end == std::string_view::npos ? text.size() : end + 1;
        auto [keyword, rest] = directive(line);
        if (!keyword.empty())
            visit(keyword, rest);
    }
}

bool looks_like_file_name(std::string_view name) {
    size_t dot = name.rfind('.');
    return dot != std::string_view::npos && dot + 1 < name.size() &&
           name.find_first_of(" \t()") == std::string_view::npos;
}

// A #define whose value names a file is a computed #include's likely target
// (`#define GENL_MAGIC_INCLUDE_FILE <linux/drbd_genl.h>`, Kconfig strings in
// autoconf.h). The trace event headers name themselves differently: by
// TRACE_INCLUDE_FILE, else TRACE_SYSTEM, which define_trace.h turns into
// "<that>.h" (Documentation/trace/tracepoints.rst).
struct DefinedFiles {
    std::vector<IncludeDirective> files;
    std::vector<std::string> macros; // macros defined with a file name as value
};

DefinedFiles defined_files(std::string_view text) {
    DefinedFiles defined;
    for_each_directive(text, [&](std::string_view keyword, std::string_view rest) {
        if (keyword != "define")
            return;
        std::string_view macro = word_at(rest);
        std::string_view value = trim_left(rest.substr(macro.size()));
        if (auto name = delimited_name(value); name && looks_like_file_name(name->name)) {
            defined.files.push_back(*name);
            defined.macros.emplace_back(macro);
        } else if (macro == "TRACE_INCLUDE_FILE" || macro == "TRACE_SYSTEM") {
            if (std::string_view stem = word_at(value); !stem.empty())
                defined.files.push_back({IncludeDirective::Kind::Angle, std::string(stem) + ".h"});
        }
    });
    return defined;
}

// Macros whose computed #include the graph follows without a file-valued
// definition: define_trace.h's TRACE_INCLUDE(), whose file defined_files()
// finds from TRACE_INCLUDE_FILE / TRACE_SYSTEM.
bool followed_computed_include(const std::string &macro) {
    return macro == "TRACE_INCLUDE";
}

// The -include files of kbuild's flags (kconfig.h, compiler_types.h, ...):
// every `-include PATH` in a Makefile or Kbuild file, with kbuild's
// directory variables dropped. Per-directory ones count for every unit.
std::vector<std::string> forced_include_names(const fs::path &tree,
                                              const std::vector<std::string> &makefiles) {
    std::set<std::string> names;
    for (const auto &makefile : makefiles) {
        std::string text = read_text_file_or_empty(tree / makefile);
        for (size_t at = text.find("-include"); at != std::string::npos;
             at = text.find("-include", at + 8)) {
            bool starts_word = at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1]));
            std::string_view rest(text);
            rest = rest.substr(at + 8);
            if (!starts_word || rest.empty() || !std::isspace(static_cast<unsigned char>(rest[0])))
                continue;
            rest = trim_left(rest);
            std::string_view path = rest.substr(0, rest.find_first_of(" \t\\\n"));
            for (std::string_view prefix : {"$(srctree)/", "$(objtree)/", "$(src)/", "$(obj)/"})
                if (path.starts_with(prefix))
                    path.remove_prefix(prefix.size());
            if (!path.empty() && path.find('$') == std::string_view::npos)
                names.emplace(path);
        }
    }
    return {names.begin(), names.end()};
}

// Every file of the tree by its last path component, except hidden
// directories, Documentation and the other architectures' arch/ folders
// (kbuild's include path has only arch/$(SRCARCH); the configured one is the
// one prepared, with include/generated).
class TreeFiles {
  public:
    explicit TreeFiles(const fs::path &tree) {
        std::string arch = configured_arch(tree);
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(tree, ec); !ec && it != fs::end(it);
             it.increment(ec)) {
            std::string relative = it->path().lexically_relative(tree).string();
            std::string name = it->path().filename().string();
            if (it->is_directory()) {
                if (name.starts_with(".") || relative == "Documentation" ||
                    (!arch.empty() && relative.starts_with("arch/") &&
                     relative.find('/', 5) == std::string::npos && relative != "arch/" + arch))
                    it.disable_recursion_pending();
                continue;
            }
            if (!it->is_regular_file())
                continue;
            by_name_[name].push_back(relative);
            if (name == "Makefile" || name == "Kbuild" || name.starts_with("Makefile."))
                makefiles_.push_back(relative);
        }
        for (const auto &makefile : makefiles_)
            if (!makefile.starts_with("tools/"))
                read_makefile(read_text_file_or_empty(tree / makefile));
    }

    bool contains(const std::string &relative) const {
        auto it = by_name_.find(fs::path(relative).filename().string());
        return it != by_name_.end() &&
               std::find(it->second.begin(), it->second.end(), relative) != it->second.end();
    }

    // Files whose path is `name` or ends with "/name".
    std::vector<std::string> ending_with(const std::string &name) const {
        std::vector<std::string> found;
        auto it = by_name_.find(fs::path(name).filename().string());
        if (it == by_name_.end())
            return found;
        for (const auto &path : it->second)
            if (path == name || (path.size() > name.size() && path.ends_with(name) &&
                                 path[path.size() - name.size() - 1] == '/'))
                if (!path.starts_with("tools/") || in_tools_include_dir(path, name))
                    found.push_back(path);
        return found;
    }

    // Whether some kernel Makefile mentions the name (or its stem: the
    // "x.asn1" of x.asn1.h is the "x.asn1.o" of a rule): a file not in the
    // tree is one the build makes only then.
    bool made_by_kbuild(const std::string &name) const {
        std::string file = fs::path(name).filename().string();
        return makefile_words_.contains(file) || makefile_words_.contains(stem(file));
    }

    const std::vector<std::string> &makefiles() const { return makefiles_; }

  private:
    static std::string stem(const std::string &file) {
        size_t dot = file.rfind('.');
        return dot == std::string::npos ? file : file.substr(0, dot);
    }

    // tools/ is its own world (user programs, their own copies of the
    // kernel's headers); a kernel unit reaches it only through a Makefile
    // that names a directory there ($(srctree)/tools/lib for the bpf preload
    // skeleton).
    bool in_tools_include_dir(const std::string &path, const std::string &name) const {
        std::string dir = path.substr(0, path.size() - name.size());
        while (dir.ends_with("/"))
            dir.pop_back();
        return tools_dirs_.contains(dir);
    }

    // The asm headers listed as generic-y/generated-y are made by `make
    // prepare` and are in the tree; other words may name files the build
    // makes later.
    void read_makefile(const std::string &text) {
        static constexpr std::string_view separators = " \t\\$()=:,;+'\"";
        for (size_t line_start = 0; line_start < text.size();) {
            size_t line_end = std::min(text.find('\n', line_start), text.size());
            std::string_view line(text.data() + line_start, line_end - line_start);
            line_start = line_end + 1;
            std::string_view first = word_at(trim_left(line));
            if (first == "generic" || first == "generated" || first == "mandatory")
                continue;
            for (size_t start = 0; start < line.size();) {
                size_t end = std::min(line.find_first_of(separators, start), line.size());
                read_makefile_word(std::string(line.substr(start, end - start)));
                start = end + 1;
            }
        }
    }

    void read_makefile_word(const std::string &word) {
        if (word.empty())
            return;
        std::string file = fs::path(word).filename().string();
        makefile_words_.insert(file);
        makefile_words_.insert(stem(file));
        if (size_t at = word.find("tools/");
            at != std::string::npos && (at == 0 || word[at - 1] == '/')) {
            std::string dir = fs::path(word.substr(at)).lexically_normal().string();
            while (dir.ends_with("/"))
                dir.pop_back();
            tools_dirs_.insert(dir);
        }
    }

    static std::string configured_arch(const fs::path &tree) {
        std::error_code ec;
        for (const auto &entry : fs::directory_iterator(tree / "arch", ec))
            if (fs::is_directory(entry.path() / "include/generated"))
                return entry.path().filename().string();
        return "";
    }

    std::unordered_map<std::string, std::vector<std::string>> by_name_;
    std::vector<std::string> makefiles_;
    std::set<std::string> makefile_words_;
    std::set<std::string> tools_dirs_;
};

// The files an #include of `directive` in `from` can open: the file next to
// `from` for a quoted name that exists there (the preprocessor always takes
// that one), else every file ending with the name.
std::vector<std::string> resolve(const TreeFiles &files, const std::string &from,
                                 const IncludeDirective &directive) {
    if (directive.kind == IncludeDirective::Kind::Quoted) {
        std::string beside =
            (fs::path(from).parent_path() / directive.name).lexically_normal().string();
        if (files.contains(beside))
            return {beside};
    }
    std::string name = fs::path(directive.name).lexically_normal().string();
    while (name.starts_with("../"))
        name.erase(0, 3);
    return files.ending_with(name);
}

std::string unit_source(const fs::path &tree, const std::string &goal) {
    std::string target = preprocess_target(tree, goal);
    fs::path base = fs::path(target).replace_extension();
    // A composite module's member from another directory has a goal like
    // arch/x86/kvm/../../../virt/kvm/kvm_main.o: its file is virt/kvm/kvm_main.c.
    for (const char *ext : {".c", ".S"})
        if (fs::exists(tree / (base.string() + ext)))
            return fs::path(base.string() + ext).lexically_normal().string();
    return "";
}

} // namespace

std::vector<IncludeDirective> include_directives(std::string_view text) {
    std::vector<IncludeDirective> found;
    for_each_directive(text, [&](std::string_view keyword, std::string_view rest) {
        if (keyword != "include" && keyword != "include_next")
            return;
        if (auto name = delimited_name(rest))
            found.push_back(*name);
        else if (std::string_view macro = word_at(rest); !macro.empty())
            found.push_back({IncludeDirective::Kind::Computed, std::string(macro)});
    });
    return found;
}

IncludeGraph IncludeGraph::scan(const fs::path &tree, const std::vector<std::string> &objects,
                                const std::map<std::string, std::string> &goals) {
    TreeFiles files(tree);
    IncludeGraph graph;
    graph.all_objects_ = objects;
    std::sort(graph.all_objects_.begin(), graph.all_objects_.end());

    std::vector<std::vector<size_t>> includes; // file id -> ids it includes
    std::vector<bool> opaque;                  // its includes cannot all be followed
    std::vector<std::pair<size_t, std::string>> computed_macros;
    std::set<std::string> file_valued_macros;
    std::deque<size_t> to_read;
    auto id_of = [&](const std::string &path) {
        auto [it, inserted] = graph.ids_.emplace(path, graph.paths_.size());
        if (inserted) {
            graph.paths_.push_back(path);
            includes.emplace_back();
            opaque.push_back(false);
            graph.units_of_.emplace_back();
            to_read.push_back(it->second);
        }
        return it->second;
    };

    for (const auto &name : forced_include_names(tree, files.makefiles()))
        for (const auto &path : files.ending_with(name))
            graph.forced_.push_back(id_of(path));
    std::vector<std::string> sourceless;
    for (const auto &object : objects) {
        std::string source = unit_source(tree, make_goal(goals, object));
        if (source.empty())
            sourceless.push_back(object);
        else
            graph.units_of_[id_of(source)].push_back(object);
    }

    while (!to_read.empty()) {
        size_t id = to_read.front();
        to_read.pop_front();
        std::string from = graph.paths_[id];
        std::string text = read_text_file_or_empty(tree / from);
        DefinedFiles defined = defined_files(text);
        file_valued_macros.insert(defined.macros.begin(), defined.macros.end());
        auto follow = [&](const IncludeDirective &directive) {
            auto targets = resolve(files, from, directive);
            for (const auto &target : targets) {
                size_t target_id = id_of(target); // may grow `includes`
                includes[id].push_back(target_id);
            }
            return !targets.empty();
        };
        for (const auto &directive : include_directives(text)) {
            if (directive.kind == IncludeDirective::Kind::Computed)
                computed_macros.emplace_back(id, directive.name);
            // A quoted name found nowhere that a Makefile names is made by
            // the build (x509.asn1.h, flask.h) and may include anything.
            // Others belong to other configurations (ACPICA's disassembler,
            // user-space builds of shared code) and are not opened here.
            else if (!follow(directive) && directive.kind == IncludeDirective::Kind::Quoted &&
                     directive.name.find('/') == std::string::npos &&
                     files.made_by_kbuild(directive.name)) {
                opaque[id] = true;
                log::debug("{}: #include \"{}\" is not in the tree", from, directive.name);
            }
        }
        for (const auto &file : defined.files)
            follow(file);
    }
    for (const auto &[id, macro] : computed_macros) {
        if (followed_computed_include(macro) || file_valued_macros.contains(macro))
            continue;
        opaque[id] = true;
        log::debug("{}: #include {} has no definition naming a file", graph.paths_[id], macro);
    }

    graph.included_by_.assign(graph.paths_.size(), {});
    for (size_t id = 0; id < includes.size(); id++)
        for (size_t target : includes[id])
            graph.included_by_[target].push_back(id);

    std::set<std::string> opaque_objects(sourceless.begin(), sourceless.end());
    for (size_t id = 0; id < opaque.size(); id++) {
        if (!opaque[id])
            continue;
        auto readers = graph.objects_possibly_reading(graph.paths_[id]);
        log::debug("{}: its includes cannot all be followed; {} objects read it", graph.paths_[id],
                   readers.size());
        opaque_objects.insert(readers.begin(), readers.end());
    }
    graph.opaque_objects_.assign(opaque_objects.begin(), opaque_objects.end());
    return graph;
}

std::vector<std::string> IncludeGraph::objects_possibly_reading(const std::string &path) const {
    std::set<std::string> objects(opaque_objects_.begin(), opaque_objects_.end());
    auto start = ids_.find(fs::path(path).lexically_normal().string());
    if (start == ids_.end())
        return {objects.begin(), objects.end()};
    std::vector<bool> seen(paths_.size(), false);
    std::vector<size_t> stack = {start->second};
    seen[start->second] = true;
    while (!stack.empty()) {
        size_t id = stack.back();
        stack.pop_back();
        if (std::find(forced_.begin(), forced_.end(), id) != forced_.end())
            return all_objects_;
        objects.insert(units_of_[id].begin(), units_of_[id].end());
        for (size_t includer : included_by_[id])
            if (!seen[includer]) {
                seen[includer] = true;
                stack.push_back(includer);
            }
    }
    return {objects.begin(), objects.end()};
}

} // namespace kpp::build
