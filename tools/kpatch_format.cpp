// Text and JSON output of the kpatch command.
#include "tools/kpatch_cli.h"

#include <fmt/format.h>

#include <map>

namespace kpp::cli {

nlohmann::json to_json(const LoadedPatch &p) {
    nlohmann::json objs = nlohmann::json::array();
    for (const auto &o : p.objects) {
        nlohmann::json funcs = nlohmann::json::array();
        for (const auto &f : o.functions)
            funcs.push_back({{"name", f.name}, {"sympos", f.sympos}});
        nlohmann::json jo = {{"name", o.name}, {"functions", funcs}};
        jo["patched"] = o.patched ? nlohmann::json(*o.patched) : nlohmann::json(nullptr);
        objs.push_back(jo);
    }
    return {
        {"name", p.name}, {"enabled", p.enabled}, {"transition", p.transition}, {"objects", objs}};
}

nlohmann::json to_json(const ModuleInfo &m) {
    nlohmann::json funcs = nlohmann::json::array();
    for (const auto &f : m.functions)
        funcs.push_back({{"name", f.name},
                         {"objname", f.objname},
                         {"sympos", f.sympos},
                         {"old_size", f.old_size},
                         {"new_size", f.new_size}});
    return {{"file", m.path},           {"name", m.name},
            {"vermagic", m.vermagic},   {"release", m.release},
            {"livepatch", m.livepatch}, {"description", m.description},
            {"license", m.license},     {"srcversion", m.srcversion},
            {"functions", funcs}};
}

nlohmann::json list_json(const std::vector<LoadedPatch> &loaded,
                         const std::vector<InstalledPatch> &installed, const std::string &running) {
    nlohmann::json l = nlohmann::json::array();
    for (const auto &p : loaded)
        l.push_back(to_json(p));
    nlohmann::json inst = nlohmann::json::array();
    for (const auto &i : installed)
        inst.push_back({{"release", i.release},
                        {"name", i.name},
                        {"path", i.path},
                        {"running_kernel", i.release == running}});
    return {{"kernel_release", running}, {"loaded", l}, {"installed", inst}};
}

namespace {
std::string state_words(const LoadedPatch &p) {
    std::string s = p.enabled ? "enabled" : "disabled";
    if (p.transition)
        s += p.enabled ? ", patching in progress" : ", unpatching in progress";
    return s;
}
} // namespace

std::string list_text(const std::vector<LoadedPatch> &loaded,
                      const std::vector<InstalledPatch> &installed, const std::string &running) {
    std::string out = "Loaded patch modules:\n";
    if (loaded.empty())
        out += "  (none)\n";
    for (const auto &p : loaded) {
        size_t nfuncs = 0;
        for (const auto &o : p.objects)
            nfuncs += o.functions.size();
        out += fmt::format("  {} [{}] {} function(s)\n", p.name, state_words(p), nfuncs);
    }
    out += "\nInstalled patch modules:\n";
    if (installed.empty())
        out += "  (none)\n";
    std::map<std::string, std::vector<const InstalledPatch *>> by_release;
    for (const auto &i : installed)
        by_release[i.release].push_back(&i);
    for (const auto &[rel, list] : by_release) {
        out += fmt::format("  {}{}:\n", rel, rel == running ? " (running)" : "");
        for (const auto *i : list)
            out += fmt::format("    {} ({})\n", i->name, i->path);
    }
    return out;
}

std::string info_text(const ModuleInfo &m) {
    std::string out;
    out += fmt::format("file:        {}\n", m.path);
    out += fmt::format("name:        {}\n", m.name);
    out += fmt::format("livepatch:   {}\n", m.livepatch ? "yes" : "no");
    out += fmt::format("kernel:      {}\n", m.release.empty() ? "?" : m.release);
    out += fmt::format("vermagic:    {}\n", m.vermagic);
    if (!m.description.empty())
        out += fmt::format("description: {}\n", m.description);
    if (!m.srcversion.empty())
        out += fmt::format("srcversion:  {}\n", m.srcversion);
    out += fmt::format("functions:   {}\n", m.functions.size());
    for (const auto &f : m.functions)
        out += fmt::format("  {}:{},{} (new size {})\n", f.objname, f.name, f.sympos, f.new_size);
    return out;
}

std::string info_text(const LoadedPatch &p) {
    std::string out;
    out += fmt::format("name:        {}\n", p.name);
    out += fmt::format("state:       loaded, {}\n", state_words(p));
    for (const auto &o : p.objects) {
        out += fmt::format("object:      {}{}\n", o.name,
                           o.patched ? (*o.patched ? " (patched)" : " (not patched)") : "");
        for (const auto &f : o.functions)
            out += fmt::format("  {},{}\n", f.name, f.sympos);
    }
    return out;
}

std::string tasks_text(const std::vector<UnpatchedTask> &tasks) {
    std::string out;
    for (const auto &t : tasks) {
        out += fmt::format("  pid {} ({}) patch_state={}\n", t.pid, t.comm, t.state);
        for (const auto &l : t.stack)
            out += fmt::format("      {}\n", l);
    }
    return out;
}

} // namespace kpp::cli
