#include "kpatch-build/update/withdrawal.h"

#include "libkpp/elf/object.h"

#include <fmt/format.h>

namespace kpp::build::update {

namespace {

// Who makes a symbol or a header unavailable, for the reason line.
struct Unavailable {
    std::map<std::string, std::string> symbol_owner; // symbol -> object
    std::map<std::string, std::string> header_owner; // header -> object

    void add(const ObjectDependencies &object) {
        for (const auto &symbol : object.defines)
            symbol_owner.emplace(symbol, object.object);
        for (const auto &header : object.changed_headers)
            header_owner.emplace(header, object.object);
    }
};

std::string dependency_on(const ObjectDependencies &object, const Unavailable &unavailable,
                          const std::set<std::string> &refused) {
    auto why = [&](const std::string &owner) {
        return refused.contains(owner) ? "refused" : "needs other changes";
    };
    for (const auto &symbol : object.references)
        if (auto it = unavailable.symbol_owner.find(symbol); it != unavailable.symbol_owner.end())
            return fmt::format("uses {} of {}, whose changes are not applied ({})", symbol,
                               it->second, why(it->second));
    for (const auto &header : object.changed_headers)
        if (auto it = unavailable.header_owner.find(header); it != unavailable.header_owner.end())
            return fmt::format("reads {}, whose change is not applied in {} ({})", header,
                               it->second, why(it->second));
    return "";
}

template <class Keep>
std::set<std::string> symbols_of(const std::filesystem::path &path, Keep keep) {
    std::set<std::string> names;
    auto object = elf::Object::read_symbols(path.string());
    for (const auto &symbol : object->symbols)
        if (!symbol->name.empty() && keep(*symbol))
            names.insert(symbol->name);
    return names;
}

} // namespace

std::map<std::string, std::string>
withdraw_dependents(const std::vector<ObjectDependencies> &objects) {
    Unavailable unavailable;
    std::set<std::string> refused;
    for (const auto &object : objects)
        if (object.unavailable) {
            unavailable.add(object);
            refused.insert(object.object);
        }
    std::map<std::string, std::string> withdrawn;
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto &object : objects) {
            if (!object.changed || object.unavailable || withdrawn.contains(object.object))
                continue;
            std::string reason = dependency_on(object, unavailable, refused);
            if (reason.empty())
                continue;
            withdrawn.emplace(object.object, reason);
            unavailable.add(object);
            grew = true;
        }
    }
    return withdrawn;
}

std::set<std::string> undefined_symbols(const std::filesystem::path &object) {
    return symbols_of(object, [](const elf::Symbol &s) { return s.is_undefined(); });
}

std::set<std::string> defined_globals(const std::filesystem::path &object) {
    return symbols_of(object, [](const elf::Symbol &s) {
        return !s.is_local() && !s.is_undefined() && !s.is_file() && !s.is_section();
    });
}

} // namespace kpp::build::update
