// kpatch-build/old_func_bytes: the address, size, first bytes and stable mask
// of a vmlinux function, read from a small statically linked stand-in for a
// vmlinux whose patch-site tables have the Linux 6.1 layouts: x86_64's, and
// arm64's (OldFuncBytesArm64).
#include "kpatch-build/module/old_func_bytes.h"
#include "libkpp/error.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fmt/format.h>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kpp::build::kOldBytes;
using kpp::build::OldFunction;
using kpp::build::VmlinuxText;
using kpp::testing::TempDir;

// One kind of place the kernel rewrites: the table that records it, the
// entry pointing at label SITE, and how many bytes from SITE it rewrites.
// `start`/`stop` are the linker-script symbols the kernel brackets the
// table with, where old_func_bytes finds it through them.
struct SiteKind {
    std::string table;
    std::string entry;
    uint64_t len;
    std::string start, stop;
};

const std::vector<SiteKind> kSiteKinds = {
    {"__mcount_loc", ".quad SITE", 5, "__start_mcount_loc", "__stop_mcount_loc"},
    {".retpoline_sites", ".long SITE - .", 6, "", ""},
    {".return_sites", ".long SITE - .", 5, "", ""},
    {".smp_locks", ".long SITE - .", 1, "", ""},
    {".ibt_endbr_seal", ".long SITE - .", 4, "", ""},
    // s32 instr, s32 replacement, u16 cpuid, u8 instrlen, u8 replacementlen
    {".altinstructions", ".long SITE - .; .long SITE - .; .word 0; .byte 7; .byte 7", 7, "", ""},
    // s32 code, s32 target, long key
    {"__jump_table", ".long SITE - .; .long SITE - .; .quad 0", 5, "__start___jump_table",
     "__stop___jump_table"},
    // s32 addr, s32 key
    {".static_call_sites", ".long SITE - .; .long 0", 5, "__start_static_call_sites",
     "__stop_static_call_sites"},
    // u8 *instr, u8 type, u8 len, padding
    {".parainstructions", ".quad SITE; .byte 0; .byte 3; .skip 6", 3, "", ""},
};

// Where each site function's patch site starts; the function is 20 bytes.
constexpr uint64_t kSiteOffset = 4;

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// fn_<i> for each site kind i: four nops, the site (twelve nops), four rets;
// then each table with its one entry. reloc_fn holds, at its site, an
// absolute reference that --emit-relocs keeps in .rela.text. short_fn is
// three bytes long.
std::string vmlinux_source() {
    std::string s = "\t.text\n\t.globl _text\n_text:\n";
    auto function = [&s](const std::string &name, const std::string &site, const std::string &at) {
        s += fmt::format("\t.globl {0}\n\t.type {0},@function\n{0}:\n\t.fill 4,1,0x90\n{1}:\n"
                         "{2}\n\t.fill 4,1,0xc3\n\t.size {0}, .-{0}\n",
                         name, site, at);
    };
    for (size_t i = 0; i < kSiteKinds.size(); i++)
        function(fmt::format("fn_{}", i), fmt::format("site_{}", i), "\t.fill 12,1,0x90");
    function("reloc_fn", "reloc_site", "\t.long _text\n\t.fill 8,1,0x90");
    s += "\t.globl short_fn\n\t.type short_fn,@function\nshort_fn:\n\t.byte 0x31,0xc0,0xc3\n"
         "\t.size short_fn, 3\n";
    for (size_t i = 0; i < kSiteKinds.size(); i++) {
        const SiteKind &k = kSiteKinds[i];
        s += fmt::format("\t.section {},\"a\"\n", k.table);
        if (!k.start.empty())
            s += fmt::format("\t.globl {0}\n{0}:\n", k.start);
        s += "\t" + replace_all(k.entry, "SITE", fmt::format("site_{}", i)) + "\n";
        if (!k.stop.empty())
            s += fmt::format("\t.globl {0}\n{0}:\n", k.stop);
    }
    return s;
}

// Two local functions named `dup`, one per file, in link order.
std::string dup_source(uint8_t fill) {
    return fmt::format("\t.text\n\t.type dup,@function\ndup:\n\t.fill 8,1,{:#x}\n\t.size dup, 8\n",
                       fill);
}

class OldFuncBytes : public ::testing::Test {
  protected:
    void SetUp() override {
        vmlinux_ = kpp::testing::link_static(
            dir_, "vmlinux", "vmlinux",
            {{"main", vmlinux_source()}, {"dup1", dup_source(0xaa)}, {"dup2", dup_source(0xbb)}},
            {"-Wl,--emit-relocs"});
    }

    // The address of `name` as nm prints it.
    uint64_t nm_address(const std::string &name) const {
        kpp::testing::RunResult r = kpp::testing::run({"nm", vmlinux_.string()});
        EXPECT_TRUE(r.exited && r.status == 0) << r.err;
        size_t at = r.out.find(" " + name + "\n");
        EXPECT_NE(at, std::string::npos) << name << " not in nm output";
        size_t line = r.out.rfind('\n', at);
        line = line == std::string::npos ? 0 : line + 1;
        return std::stoull(r.out.substr(line, 16), nullptr, 16);
    }

    // The mask of a function whose bytes [from, from + len) are rewritten.
    static std::array<uint8_t, kOldBytes> mask_without(uint64_t from, uint64_t len) {
        std::array<uint8_t, kOldBytes> mask{};
        mask.fill(0xff);
        for (uint64_t i = from; i < from + len && i < kOldBytes; i++)
            mask[i] = 0;
        return mask;
    }

    TempDir dir_;
    fs::path vmlinux_;
};

TEST_F(OldFuncBytes, TextAddressIsTheLinkTimeText) {
    VmlinuxText text(vmlinux_.string());
    EXPECT_EQ(text.text_addr(), nm_address("_text"));
    EXPECT_NE(text.text_addr(), 0u);
}

TEST_F(OldFuncBytes, EachKindOfPatchSiteIsMaskedForExactlyItsLength) {
    VmlinuxText text(vmlinux_.string());
    for (size_t i = 0; i < kSiteKinds.size(); i++) {
        const std::string name = fmt::format("fn_{}", i);
        OldFunction fn = text.function(name, 0);
        EXPECT_EQ(fn.addr, nm_address(name)) << name;
        EXPECT_EQ(fn.size, 20u) << name;
        for (uint64_t b = 0; b < kOldBytes; b++)
            EXPECT_EQ(fn.bytes[b], 0x90) << name << " byte " << b;
        EXPECT_EQ(fn.mask, mask_without(kSiteOffset, kSiteKinds[i].len))
            << kSiteKinds[i].table << " site of " << name;
    }
}

TEST_F(OldFuncBytes, AbsoluteReferencesKaslrMovesAreMasked) {
    VmlinuxText text(vmlinux_.string());
    OldFunction fn = text.function("reloc_fn", 0);
    EXPECT_EQ(fn.mask, mask_without(kSiteOffset, 4));
}

TEST_F(OldFuncBytes, AFunctionShorterThanTheCheckHasOnlyItsOwnBytesChecked) {
    VmlinuxText text(vmlinux_.string());
    OldFunction fn = text.function("short_fn", 0);
    EXPECT_EQ(fn.size, 3u);
    EXPECT_EQ(fn.bytes[0], 0x31);
    EXPECT_EQ(fn.bytes[2], 0xc3);
    for (uint64_t b = 0; b < kOldBytes; b++)
        EXPECT_EQ(fn.mask[b], b < 3 ? 0xff : 0) << "byte " << b;
}

TEST_F(OldFuncBytes, SymposCountsSameNamedFunctionsInAddressOrder) {
    VmlinuxText text(vmlinux_.string());
    OldFunction first = text.function("dup", 1);
    OldFunction second = text.function("dup", 2);
    EXPECT_LT(first.addr, second.addr);
    EXPECT_EQ(first.bytes[0], 0xaa);
    EXPECT_EQ(second.bytes[0], 0xbb);
}

// The message of the kpp::Error that `call` throws ("" when none).
template <typename Call> std::string error_of(Call call) {
    try {
        call();
    } catch (const kpp::Error &e) {
        return e.what();
    }
    return "";
}

TEST_F(OldFuncBytes, AmbiguousMissingAndOutOfRangeNamesAreRefusedByName) {
    VmlinuxText text(vmlinux_.string());
    std::string ambiguous = error_of([&] { text.function("dup", 0); });
    EXPECT_NE(ambiguous.find("2 functions are named dup"), std::string::npos) << ambiguous;
    EXPECT_NE(ambiguous.find("sympos"), std::string::npos) << ambiguous;
    std::string missing = error_of([&] { text.function("no_such_fn", 0); });
    EXPECT_NE(missing.find("no function no_such_fn"), std::string::npos) << missing;
    std::string range = error_of([&] { text.function("dup", 3); });
    EXPECT_NE(range.find("no position 3"), std::string::npos) << range;
}

TEST(OldFuncBytesInput, AFileWithoutTextIsNotAVmlinux) {
    TempDir dir;
    fs::path exe = kpp::testing::link_static(
        dir, "x", "x", {{"main", "\t.text\n\t.globl other\nother:\n\tret\n"}}, {"-Wl,-e,other"});
    std::string what = error_of([&] { VmlinuxText text(exe.string()); });
    EXPECT_NE(what.find("not a vmlinux"), std::string::npos) << what;
}

TEST(OldFuncBytesInput, AnAltinstructionsTableOfAnotherLayoutIsRefused) {
    TempDir dir;
    fs::path exe = kpp::testing::link_static(
        dir, "x", "x",
        {{"main", "\t.text\n\t.globl _text\n_text:\n\tret\n"
                  "\t.section .altinstructions,\"a\"\n\t.fill 13,1,0\n"}});
    std::string what = error_of([&] { VmlinuxText text(exe.string()); });
    EXPECT_NE(what.find(".altinstructions is 13 bytes"), std::string::npos) << what;
}

// The same on an arm64 stand-in, linked as arm64's vmlinux is: a PIE whose
// .rela.dyn the kernel applies to itself, its absolute addresses (those of
// __mcount_loc) left 0 in the file (--no-apply-dynamic-relocs). Each function is five NOPs with
// its site at byte 4: the ftrace site (the two NOPs of
// -fpatchable-function-entry=2) behind a BTI landing pad, a static branch,
// an alternative of one instruction, and an absolute address KASLR moves.
constexpr uint32_t kArmNop = 0xd503201f;
constexpr uint32_t kArmBtiC = 0xd503245f;

std::string arm64_vmlinux_source() {
    std::string s = "\t.text\n\t.globl _text\n_text:\n";
    auto function = [&s](const std::string &name, const std::string &first,
                         const std::string &site) {
        s += fmt::format("\t.globl {0}\n\t.type {0},%function\n{0}:\n\t{1}\n{0}_site:\n{2}\n"
                         "\t.size {0}, .-{0}\n",
                         name, first, site);
    };
    const std::string nops = "\tnop\n\tnop\n\tnop\n\tnop";
    function("ftrace_fn", "bti c", nops);
    function("jump_fn", "nop", nops);
    function("alt_fn", "nop", nops);
    function("reloc_fn", "nop", "\t.quad _text\n\tnop\n\tnop");
    s += "\t.section __mcount_loc,\"a\"\n\t.globl __start_mcount_loc\n__start_mcount_loc:\n"
         "\t.quad ftrace_fn_site\n\t.globl __stop_mcount_loc\n__stop_mcount_loc:\n";
    s += "\t.section __jump_table,\"aw\"\n\t.globl __start___jump_table\n"
         "__start___jump_table:\n\t.long jump_fn_site - .; .long jump_fn_site - .; .quad 0\n"
         "\t.globl __stop___jump_table\n__stop___jump_table:\n";
    // s32 orig, s32 alt, u16 feature, u8 orig_len, u8 alt_len
    s += "\t.section .altinstructions,\"a\"\n"
         "\t.long alt_fn_site - .; .long alt_fn_site - .; .hword 0; .byte 4; .byte 4\n";
    return s;
}

class OldFuncBytesArm64 : public ::testing::Test {
  protected:
    void SetUp() override {
        vmlinux_ = kpp::testing::link_static(
            dir_, "vmlinux", "vmlinux", {{"main", arm64_vmlinux_source()}},
            {"-Wl,-pie", "-Wl,-z,notext", "-Wl,--no-apply-dynamic-relocs"},
            kpp::testing::kAarch64Compiler);
    }

    static std::array<uint8_t, kOldBytes> mask_without(uint64_t from, uint64_t len) {
        std::array<uint8_t, kOldBytes> mask{};
        mask.fill(0xff);
        for (uint64_t i = from; i < from + len && i < kOldBytes; i++)
            mask[i] = 0;
        return mask;
    }

    static uint32_t word(const OldFunction &fn, size_t at) {
        uint32_t value;
        std::memcpy(&value, fn.bytes.data() + at, 4);
        return value;
    }

    TempDir dir_;
    fs::path vmlinux_;
};

TEST_F(OldFuncBytesArm64, TheTwoPatchableEntryNopsAreMaskedAndTheBtiLandingPadKept) {
    OldFunction fn = VmlinuxText(vmlinux_.string()).function("ftrace_fn", 0);
    EXPECT_EQ(fn.size, 20u);
    EXPECT_EQ(word(fn, 0), kArmBtiC);
    EXPECT_EQ(word(fn, 4), kArmNop);
    EXPECT_EQ(fn.mask, mask_without(4, 8));
}

TEST_F(OldFuncBytesArm64, AStaticBranchIsOneInstruction) {
    EXPECT_EQ(VmlinuxText(vmlinux_.string()).function("jump_fn", 0).mask, mask_without(4, 4));
}

TEST_F(OldFuncBytesArm64, AnAlternativeIsMaskedForItsOriginalLength) {
    EXPECT_EQ(VmlinuxText(vmlinux_.string()).function("alt_fn", 0).mask, mask_without(4, 4));
}

TEST_F(OldFuncBytesArm64, AnAddressTheImageRelocatesAtBootIsMasked) {
    kpp::testing::RunResult r = kpp::testing::run({"readelf", "-rW", vmlinux_.string()});
    ASSERT_NE(r.out.find("R_AARCH64_RELATIVE"), std::string::npos) << r.out;
    EXPECT_EQ(VmlinuxText(vmlinux_.string()).function("reloc_fn", 0).mask, mask_without(4, 8));
}

} // namespace
