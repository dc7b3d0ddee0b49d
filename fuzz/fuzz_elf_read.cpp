// fuzz_elf_read: arbitrary bytes as an object file.
//
// Object::read() and Object::read_symbols() must either build a model or
// throw kpp::Error. A model that was read must write back out (or refuse
// with kpp::Error), and what was written must read again into the same
// model: the same kept sections with the same names, types and sizes, the
// same relocations, the same symbols. Anything else is a finding.
#include "common.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"

#include <fmt/format.h>

#include <exception>
#include <string>
#include <typeinfo>

using kpp::elf::Object;
using kpp::elf::Section;
using kpp::elf::Symbol;

namespace {

struct SectionShape {
    std::string name;
    uint32_t type;
    uint64_t size;
    size_t relocs;
};

std::vector<SectionShape> kept_sections(const Object &obj) {
    std::vector<SectionShape> out;
    for (size_t i = 1; i < obj.sections.size(); i++) {
        const Section &s = *obj.sections[i];
        if (!kpp::elf::is_regenerated(s))
            out.push_back({s.name, s.hdr.sh_type, s.size(), s.relocs.size()});
    }
    return out;
}

// Compares the model as written (obj, after write() re-ordered it) with the
// model read back from the written file.
void check_round_trip(const Object &obj, const std::vector<SectionShape> &before,
                      const Object &again) {
    auto after = kept_sections(again);
    if (after.size() != before.size())
        kpp::fuzz::finding(fmt::format("round trip: {} sections written, {} read back",
                                       before.size(), after.size()));
    for (size_t i = 0; i < before.size(); i++) {
        const SectionShape &a = before[i], &b = after[i];
        if (a.name != b.name || a.type != b.type || a.size != b.size || a.relocs != b.relocs)
            kpp::fuzz::finding(fmt::format(
                "round trip: section {} '{}' type {} size {} relocs {} read back as '{}' type {} "
                "size {} relocs {}",
                i + 1, a.name, a.type, a.size, a.relocs, b.name, b.type, b.size, b.relocs));
    }
    if (again.symbols.size() != obj.symbols.size())
        kpp::fuzz::finding(fmt::format("round trip: {} symbols written, {} read back",
                                       obj.symbols.size(), again.symbols.size()));
    for (size_t i = 1; i < obj.symbols.size(); i++) {
        const Symbol &a = *obj.symbols[i], &b = *again.symbols[i];
        // A section symbol is named after its section, which write() may
        // have regenerated away; every other symbol keeps its name.
        bool same_name = a.is_section() || a.name == b.name;
        if (!same_name || a.bind != b.bind || a.type != b.type || a.value != b.value ||
            a.size != b.size)
            kpp::fuzz::finding(fmt::format(
                "round trip: symbol {} '{}' (bind {} type {} value {:#x} size {}) read back as "
                "'{}' (bind {} type {} value {:#x} size {})",
                i, a.name, a.bind, a.type, a.value, a.size, b.name, b.bind, b.type, b.value,
                b.size));
    }
}

void run(const uint8_t *data, size_t size) {
    const std::string &dir = kpp::fuzz::scratch_dir();
    const std::string in = dir + "/input.o", out = dir + "/written.o";
    kpp::fuzz::write_file(in, data, size);

    try {
        Object::read_symbols(in);
    } catch (const kpp::Error &) {
    }

    std::unique_ptr<Object> obj;
    try {
        obj = Object::read(in);
    } catch (const kpp::Error &) {
        return; // malformed input, told apart as such: what we want
    }
    auto before = kept_sections(*obj);
    try {
        obj->write(out);
    } catch (const kpp::Error &) {
        return; // a model the writer refuses, with a message
    }
    std::unique_ptr<Object> again;
    try {
        again = Object::read(out);
    } catch (const kpp::Error &e) {
        kpp::fuzz::finding(
            fmt::format("an object we read and wrote does not read back: {}", e.what()));
    }
    check_round_trip(*obj, before, *again);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        run(data, size);
    } catch (const std::exception &e) {
        kpp::fuzz::finding(fmt::format("uncaught {}: {}", typeid(e).name(), e.what()));
    } catch (...) {
        kpp::fuzz::finding("uncaught exception of unknown type");
    }
    return 0;
}
