// kmod/core/arch/aarch64_reloc.c, the AArch64 relocations kpatch.ko applies
// on arm64, against the linker: a small assembly file with one relocation
// of each supported type is assembled and linked at fixed addresses by the
// cross binutils; applying each relocation of the object to its unrelocated
// field must give the linked file's bytes. Then the refusals (range,
// alignment, a field not left empty, unknown types) and the veneer, read
// back by objdump.
extern "C" {
#include "arch/aarch64_reloc.h"
}

#include "libkpp/elf/object.h"
#include "testing/compile.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fmt/format.h>
#include <set>
#include <string>
#include <vector>

namespace {

using kpp::testing::run;
using kpp::testing::TempDir;
using kpp::testing::write_file;

constexpr uint64_t kTextAddr = 0x400000;
constexpr uint64_t kDataAddr = 0x600000;

// Targets placed by --defsym: within a branch's reach of .text, data below
// 4 GiB (ABS32) at the alignments the loads need, and one symbol 3 GiB
// away (beyond ADR and branches, within ADRP's +-4 GiB).
const std::vector<std::pair<std::string, uint64_t>> kSymbols = {
    {"near_fn", kTextAddr + 0x12340},
    {"byte_sym", 0x12345677},
    {"half_sym", 0x1234567a},
    {"word_sym", 0x1234567c},
    {"dword_sym", 0x12345688},
    {"quad_sym", 0x123456a0},
    {"far_sym", kTextAddr + 0xc0001234},
};

const char *kSource = R"(
	.text
	.globl _start
_start:
	bl	near_fn
	b	near_fn + 8
	adr	x2, near_fn
	adrp	x0, byte_sym
	add	x0, x0, :lo12:byte_sym
	ldrb	w1, [x0, :lo12:byte_sym]
	ldrh	w1, [x0, :lo12:half_sym]
	ldr	w1, [x0, :lo12:word_sym]
	ldr	x1, [x0, :lo12:dword_sym]
	ldr	q1, [x0, :lo12:quad_sym]
	adrp	x3, far_sym + 0x2000
	adrp	x4, :pg_hi21_nc:far_sym
	ret
	.data
	.quad	near_fn + 16
	.quad	far_sym - .
	.word	word_sym
	.word	near_fn - .
)";

const std::set<uint32_t> kSupported = {
    R_AARCH64_ABS64,
    R_AARCH64_ABS32,
    R_AARCH64_PREL64,
    R_AARCH64_PREL32,
    R_AARCH64_ADR_PREL_LO21,
    R_AARCH64_ADR_PREL_PG_HI21,
    R_AARCH64_ADR_PREL_PG_HI21_NC,
    R_AARCH64_ADD_ABS_LO12_NC,
    R_AARCH64_LDST8_ABS_LO12_NC,
    R_AARCH64_LDST16_ABS_LO12_NC,
    R_AARCH64_LDST32_ABS_LO12_NC,
    R_AARCH64_LDST64_ABS_LO12_NC,
    R_AARCH64_LDST128_ABS_LO12_NC,
    R_AARCH64_JUMP26,
    R_AARCH64_CALL26,
};

void require_ok(const kpp::testing::RunResult &r, const std::string &what) {
    if (!r.exited || r.status != 0)
        throw std::runtime_error(what + " failed: " + r.err);
}

uint32_t le32(const uint8_t *p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        p[i] = uint8_t(v >> (8 * i));
}

class Aarch64Reloc : public ::testing::Test {
  protected:
    void SetUp() override {
        write_file(dir_ / "t.S", kSource);
        require_ok(run({kpp::testing::kAarch64Compiler, "-c", "-o", (dir_ / "t.o").string(),
                        (dir_ / "t.S").string()}),
                   "assembling t.S");
        std::vector<std::string> link = {"aarch64-linux-gnu-ld", "-o", (dir_ / "t").string(),
                                         fmt::format("-Ttext={:#x}", kTextAddr),
                                         fmt::format("-Tdata={:#x}", kDataAddr)};
        for (const auto &[name, addr] : kSymbols)
            link.push_back(fmt::format("--defsym={}={:#x}", name, addr));
        link.push_back((dir_ / "t.o").string());
        require_ok(run(link), "linking t.o");
        obj_ = kpp::elf::Object::read((dir_ / "t.o").string());
        exe_ = kpp::elf::Object::read((dir_ / "t").string());
    }

    uint64_t symbol_value(const std::string &name) const {
        const kpp::elf::Symbol *s = exe_->find_symbol(name);
        if (!s)
            throw std::runtime_error("no symbol " + name + " in the linked file");
        return s->value;
    }

    TempDir dir_;
    std::unique_ptr<kpp::elf::Object> obj_, exe_;
};

TEST_F(Aarch64Reloc, EveryTypeGivesTheLinkersBytes) {
    std::set<uint32_t> seen;
    for (const char *name : {".text", ".data"}) {
        const kpp::elf::Section *sec = obj_->find_section(name);
        const kpp::elf::Section *linked = exe_->find_section(name);
        ASSERT_TRUE(sec && sec->rela && linked) << name;
        for (const auto &r : sec->rela->relocs) {
            SCOPED_TRACE(
                fmt::format("{}+{:#x} type {} against {}", name, r.offset, r.type, r.sym->name));
            size_t len = kpp_aarch64_reloc_len(r.type);
            ASSERT_TRUE(len == 4 || len == 8);
            uint8_t field[8] = {};
            std::memcpy(field, sec->data.data() + r.offset, len);
            uint64_t loc = linked->hdr.sh_addr + r.offset;
            uint64_t val = symbol_value(r.sym->name) + uint64_t(r.addend);
            ASSERT_EQ(kpp_aarch64_reloc(r.type, loc, val, field), 0);
            EXPECT_EQ(0, std::memcmp(field, linked->data.data() + r.offset, len))
                << fmt::format("{:02x}", fmt::join(field, field + len, " ")) << " vs the linker's "
                << fmt::format("{:02x}", fmt::join(linked->data.begin() + r.offset,
                                                   linked->data.begin() + r.offset + len, " "));
            seen.insert(r.type);
        }
    }
    EXPECT_EQ(seen, kSupported) << "the source must exercise every supported type";
}

// bl . (imm26 = 0), as the assembler leaves it for a RELA relocation.
constexpr uint32_t kBl = 0x94000000;
// ldr x1, [x0] (imm12 = 0)
constexpr uint32_t kLdrX = 0xf9400001;

int apply(uint32_t type, uint64_t loc, uint64_t val, uint32_t insn, uint32_t *out = nullptr) {
    uint8_t field[4];
    put_le32(field, insn);
    int ret = kpp_aarch64_reloc(type, loc, val, field);
    if (out)
        *out = le32(field);
    return ret;
}

TEST(Aarch64RelocLimits, BranchReachIsPlusMinus128MiB) {
    const uint64_t loc = 0xffff800010000000;
    const uint64_t reach = uint64_t{128} << 20;
    uint32_t insn = 0;
    EXPECT_EQ(apply(R_AARCH64_CALL26, loc, loc + reach - 4, kBl, &insn), 0);
    EXPECT_EQ(insn, kBl | 0x1ffffff);
    EXPECT_EQ(apply(R_AARCH64_CALL26, loc, loc - reach, kBl, &insn), 0);
    EXPECT_EQ(insn, kBl | 0x2000000);
    EXPECT_EQ(apply(R_AARCH64_CALL26, loc, loc + reach, kBl), -ERANGE);
    EXPECT_EQ(apply(R_AARCH64_JUMP26, loc, loc - reach - 4, kBl), -ERANGE);
    EXPECT_EQ(apply(R_AARCH64_CALL26, loc, loc + 2, kBl), -ERANGE) << "not a whole instruction";
    EXPECT_TRUE(kpp_aarch64_is_branch(R_AARCH64_CALL26));
    EXPECT_TRUE(kpp_aarch64_is_branch(R_AARCH64_JUMP26));
    EXPECT_FALSE(kpp_aarch64_is_branch(R_AARCH64_ADR_PREL_PG_HI21));
}

TEST(Aarch64RelocLimits, AdrpReachIsPlusMinus4GiBButNcWraps) {
    const uint64_t loc = 0xffff800010000000;
    const uint64_t reach = uint64_t{4} << 30;
    constexpr uint32_t kAdrp = 0x90000000;
    EXPECT_EQ(apply(R_AARCH64_ADR_PREL_PG_HI21, loc, loc + reach - 4096, kAdrp), 0);
    EXPECT_EQ(apply(R_AARCH64_ADR_PREL_PG_HI21, loc, loc + reach, kAdrp), -ERANGE);
    EXPECT_EQ(apply(R_AARCH64_ADR_PREL_PG_HI21_NC, loc, loc + reach, kAdrp), 0);
    EXPECT_EQ(apply(R_AARCH64_ADR_PREL_LO21, loc, loc + (1 << 20), 0x10000000u), -ERANGE);
}

TEST(Aarch64RelocLimits, LoadOffsetMustBeAlignedToTheAccess) {
    uint32_t insn = 0;
    EXPECT_EQ(apply(R_AARCH64_LDST64_ABS_LO12_NC, 0, 0x1238, kLdrX, &insn), 0);
    EXPECT_EQ(insn, kLdrX | (0x238u >> 3) << 10);
    EXPECT_EQ(apply(R_AARCH64_LDST64_ABS_LO12_NC, 0, 0x1234, kLdrX), -ERANGE);
    EXPECT_EQ(apply(R_AARCH64_LDST128_ABS_LO12_NC, 0, 0x1238, 0x3dc00001u), -ERANGE);
}

// The ABI's range for the 32-bit data fields: -2^31 <= X < 2^32.
TEST(Aarch64RelocLimits, DataFieldsCheckTheirRange) {
    auto with = [](uint32_t type, uint64_t loc, uint64_t val) {
        uint8_t field[8] = {};
        return kpp_aarch64_reloc(type, loc, val, field);
    };
    EXPECT_EQ(with(R_AARCH64_ABS32, 0, 0xffffffff), 0);
    EXPECT_EQ(with(R_AARCH64_ABS32, 0, uint64_t{1} << 32), -ERANGE);
    EXPECT_EQ(with(R_AARCH64_PREL32, uint64_t{1} << 31, 0), 0);
    EXPECT_EQ(with(R_AARCH64_PREL32, (uint64_t{1} << 31) + 1, 0), -ERANGE);
    EXPECT_EQ(with(R_AARCH64_PREL32, 0, uint64_t{1} << 32), -ERANGE);
    EXPECT_EQ(with(R_AARCH64_PREL64, 0, uint64_t{1} << 40), 0);
}

TEST(Aarch64RelocLimits, AFieldNotLeftEmptyIsRefused) {
    EXPECT_EQ(apply(R_AARCH64_CALL26, 0x1000, 0x2000, kBl | 1), -ENOTEMPTY);
    EXPECT_EQ(apply(R_AARCH64_ADD_ABS_LO12_NC, 0, 0x10, 0x91000400u), -ENOTEMPTY);
    EXPECT_EQ(apply(R_AARCH64_ADR_PREL_PG_HI21, 0, 0x1000, 0x90000000u | 1u << 29), -ENOTEMPTY);
    uint8_t field[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(kpp_aarch64_reloc(R_AARCH64_ABS64, 0, 0x1000, field), -ENOTEMPTY);
}

TEST(Aarch64RelocLimits, UnsupportedTypesAreRefused) {
    for (uint32_t type :
         {uint32_t{R_AARCH64_MOVW_UABS_G0}, uint32_t{R_AARCH64_CONDBR19},
          uint32_t{R_AARCH64_TSTBR14}, uint32_t{R_AARCH64_ABS16}, uint32_t{R_X86_64_PC32}}) {
        EXPECT_EQ(kpp_aarch64_reloc_len(type), 0u) << type;
        EXPECT_EQ(apply(type, 0, 0, 0), -EINVAL) << type;
    }
}

TEST(Aarch64Veneer, LoadsTheTargetIntoX16AndBranches) {
    TempDir dir;
    uint8_t veneer[KPP_AARCH64_VENEER_SIZE];
    const uint64_t target = 0xffff800008bbfb24;
    kpp_aarch64_veneer(veneer, target);
    write_file(dir / "veneer.bin", std::string(reinterpret_cast<char *>(veneer), sizeof(veneer)));
    auto r = run({"aarch64-linux-gnu-objdump", "-D", "-b", "binary", "-m", "aarch64",
                  (dir / "veneer.bin").string()});
    ASSERT_TRUE(r.exited && r.status == 0) << r.err;
    EXPECT_NE(r.out.find("ldr\tx16, 0x8"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("br\tx16"), std::string::npos) << r.out;
    uint64_t literal = 0;
    for (int i = 7; i >= 0; --i)
        literal = literal << 8 | veneer[8 + i];
    EXPECT_EQ(literal, target);
}

} // namespace
