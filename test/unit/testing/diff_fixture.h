// The fixture of the diff_objects() tests: compile two versions of a C
// snippet (gcc or clang) or take two objects, diff them against a parent
// whose symbol table is the original object's, and look at the result.
#pragma once

#include "create-diff-object/diff.h"
#include "libkpp/elf/object.h"
#include "libkpp/error.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kpp::testing {

// The struct sizes test/corpus/run-pair.sh gives.
inline diff::StructSizes corpus_sizes() {
    diff::StructSizes s;
    s.para = 16;
    s.ex = 12;
    s.bug = 12;
    s.alt = 13;
    s.jump = 24;
    s.orc = 6;
    s.static_call = 8;
    s.printk_index = 44;
    return s;
}

// kKernelFlags for clang 14, which has no -mrecord-mcount (a clang kernel
// build gets __mcount_loc from objtool).
inline const std::vector<std::string> &clang_kernel_flags() {
    static const std::vector<std::string> flags = [] {
        std::vector<std::string> f = kKernelFlags;
        std::erase(f, "-mrecord-mcount");
        return f;
    }();
    return flags;
}

inline std::filesystem::path compile_clang(const TempDir &dir, const std::string &subdir,
                                           const std::string &name, const std::string &source,
                                           const std::vector<std::string> &extra = {}) {
    return compile(dir, subdir, name, source, extra, &clang_kernel_flags(), "clang");
}

class DiffFixture : public ::testing::Test {
  protected:
    TempDir dir;
    std::filesystem::path orig, patched, output;
    std::filesystem::path symvers_file = "/dev/null"; // Module.symvers the diff reads
    std::string parent = "vmlinux";                   // vmlinux or the module patched

    // Compiles both versions as NAME.c (so FILE symbols match) and diffs them
    // against `parent`, whose symbol table is the original object's.
    diff::Result diff(const std::string &orig_src, const std::string &patched_src,
                      const std::vector<std::string> &extra = {}, const std::string &name = "unit",
                      const std::function<void(diff::StructSizes &)> &adjust = {}) {
        orig = compile(dir, "orig", name, orig_src, extra);
        patched = compile(dir, "patched", name, patched_src, extra);
        return diff_built(parent, adjust);
    }

    // The same with clang.
    diff::Result diff_clang(const std::string &orig_src, const std::string &patched_src,
                            const std::vector<std::string> &extra = {}) {
        orig = compile_clang(dir, "orig", "unit", orig_src, extra);
        patched = compile_clang(dir, "patched", "unit", patched_src, extra);
        return diff_built(parent);
    }

    // Diffs `orig` and `patched` as they are, for the parent `parent`
    // (vmlinux or a module name) whose symbol table is the original's.
    diff::Result diff_built(const std::string &parent_name,
                            const std::function<void(diff::StructSizes &)> &adjust = {}) {
        output = dir / "output.o";
        diff::Options o;
        o.orig_path = orig.string();
        o.patched_path = patched.string();
        o.parent_name = parent_name;
        o.parent_symtab = symtab_of(dir, orig).string();
        o.symvers_path = symvers_file.string();
        o.patch_name = "test_unit";
        o.output_path = output.string();
        o.report_path = (dir / "report.json").string();
        o.sizes = corpus_sizes();
        if (adjust)
            adjust(o.sizes);
        return diff::diff_objects(o);
    }

    static bool has_function(const diff::Result &r, const std::string &name) {
        return std::any_of(r.functions.begin(), r.functions.end(),
                           [&](const diff::FunctionChange &f) { return f.name == name; });
    }

    // The sorted names of the functions the diff put in the patch.
    static std::vector<std::string> function_names(const diff::Result &r) {
        std::vector<std::string> names;
        for (const diff::FunctionChange &f : r.functions)
            names.push_back(f.name);
        std::sort(names.begin(), names.end());
        return names;
    }

    // The functions the output object defines (nm's t and T), sorted.
    std::set<std::string> output_functions() const {
        std::set<std::string> names;
        auto out = elf::Object::read(output.string());
        for (const auto &s : out->symbols)
            if (s->is_func() && s->sec)
                names.insert(s->name);
        return names;
    }

    // Names of the symbols the relocations of SECTION in OBJ point at.
    static std::vector<std::string> targets(const elf::Object &obj, const std::string &section) {
        std::vector<std::string> out;
        elf::Section *sec = obj.find_section(section);
        if (!sec || !sec->rela)
            return out;
        for (const auto &r : sec->rela->relocs)
            out.push_back(r.sym->is_section() && r.sym->sec ? r.sym->sec->name : r.sym->name);
        return out;
    }

    static bool contains(const std::vector<std::string> &v, const std::string &s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
};

// Runs f, which must throw kpp::Refusal whose message names every one of
// `names` (and, when given, of that kind: the reports count refusals by it).
inline void expect_refusal(const std::function<void()> &f, const std::vector<std::string> &names,
                           std::optional<RefusalKind> kind = std::nullopt) {
    try {
        f();
        ADD_FAILURE() << "expected kpp::Refusal";
    } catch (const Refusal &e) {
        if (kind) {
            EXPECT_EQ(refusal_kind_name(e.kind()), refusal_kind_name(*kind)) << e.what();
        }
        for (const auto &n : names)
            EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
                << "message does not name " << n << ": " << e.what();
    } catch (const Error &e) {
        ADD_FAILURE() << "expected kpp::Refusal, got kpp::Error: " << e.what();
    }
}

} // namespace kpp::testing
