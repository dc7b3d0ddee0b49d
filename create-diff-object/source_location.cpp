#include "create-diff-object/source_location.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace kpp::diff {
namespace {

constexpr std::array kLineTakingCalls = {
    std::string_view("__might_sleep"),          std::string_view("___might_sleep"),
    std::string_view("__might_fault"),          std::string_view("__might_resched"),
    std::string_view("__cant_sleep"),           std::string_view("__cant_migrate"),
    std::string_view("__warn_printk"),          std::string_view("warn_slowpath_fmt"),
    std::string_view("lockdep_rcu_suspicious"), std::string_view("__kasan_report"),
};

bool names_source_location(const elf::Relocation &r) {
    std::string_view name = r.sym->name;
    if (name.find("__func__") != std::string_view::npos)
        return true;
    return std::find(kLineTakingCalls.begin(), kLineTakingCalls.end(), name) !=
           kLineTakingCalls.end();
}

} // namespace

bool refers_to_source_location(const elf::Section &text, uint64_t begin, uint64_t end) {
    if (!text.rela)
        return false;
    return std::any_of(text.rela->relocs.begin(), text.rela->relocs.end(),
                       [&](const elf::Relocation &r) {
                           return r.offset >= begin && r.offset <= end && names_source_location(r);
                       });
}

} // namespace kpp::diff
