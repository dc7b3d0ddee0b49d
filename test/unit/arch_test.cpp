// The x86_64 Arch rules on code gcc compiled here, and on relocations a
// malformed object may carry.
#include "create-diff-object/arch.h"
#include "libkpp/elf/object.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <elf.h>

using namespace kpp;
using namespace kpp::testing;

namespace {

class ArchX86 : public ::testing::Test {
  protected:
    TempDir dir;
    std::unique_ptr<elf::Object> obj = elf::Object::read(
        compile(dir, "o", "arch", "int counter;\nint bump(void) { return ++counter; }\n").string());
    const diff::Arch &arch = diff::Arch::for_object(*obj);
    elf::Section &text = *obj->find_section(".text.bump");

    // The relocation of .text.bump that points at SYMBOL.
    const elf::Relocation &reloc_to(const std::string &symbol) {
        auto &relocs = text.rela->relocs;
        auto it = std::find_if(relocs.begin(), relocs.end(),
                               [&](const elf::Relocation &r) { return r.sym->name == symbol; });
        EXPECT_NE(it, relocs.end()) << "no relocation to " << symbol;
        return *it;
    }
};

TEST_F(ArchX86, RipRelativeDataAccessPointsAtTheVariable) {
    // "mov counter(%rip),%eax": addend -4 undoes the next-instruction bias.
    EXPECT_EQ(arch.target_offset(text, reloc_to("counter")), 0);
}

TEST_F(ArchX86, FunctionWithFentryCallHasFtraceHook) {
    EXPECT_TRUE(arch.has_ftrace_hook(*obj, *obj->find_symbol("bump")));
}

TEST_F(ArchX86, HugeAddendWrapsInsteadOfOverflowing) {
    // Found by fuzz_diff: an addend near INT64_MAX overflowed (UB) when the
    // instruction bias was added. The result wraps; users bound-check it.
    elf::Relocation rel = reloc_to("counter");
    rel.addend = INT64_MAX - 3;
    EXPECT_EQ(arch.target_offset(text, rel), INT64_MIN);
}

TEST_F(ArchX86, RelocationPastTheBytesHasNoInstructionBias) {
    // Found by scripts/fuzz.sh (fuzz_diff, regression
    // nobits-text-relocation): code made SHT_NOBITS keeps its relocations
    // but has no bytes; the instruction before a relocation's offset was
    // read all the same. There is no instruction: the bias is the bare 4.
    elf::Relocation rel = reloc_to("counter");
    rel.addend = -4;
    text.hdr.sh_type = SHT_NOBITS;
    text.data.clear();
    EXPECT_EQ(arch.target_offset(text, rel), 0);
}

} // namespace
