// SPDX-License-Identifier: GPL-2.0
/*
 * AArch64 relocation arithmetic (ELF for the Arm 64-bit Architecture,
 * "Static Data relocations" and "Static AArch64 relocations"), for the
 * types gcc emits for the small code model the kernel is built with.
 */
#include <linux/elf.h>
#include <linux/errno.h>
#include <linux/types.h>
#include "aarch64_reloc.h"

/* Page(x): x with its low 12 bits cleared. */
#define KPP_PAGE(x) ((x) & ~(u64)0xfff)

static u32 kpp_get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void kpp_put32(u8 *p, u32 v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void kpp_put64(u8 *p, u64 v)
{
	kpp_put32(p, (u32)v);
	kpp_put32(p + 4, (u32)(v >> 32));
}

/* Does @v fit a two's complement field of @bits bits? */
static bool kpp_fits_signed(s64 v, unsigned int bits)
{
	return v >= -((s64)1 << (bits - 1)) && v < ((s64)1 << (bits - 1));
}

size_t kpp_aarch64_reloc_len(unsigned int type)
{
	switch (type) {
	case R_AARCH64_ABS64:
	case R_AARCH64_PREL64:
		return 8;
	case R_AARCH64_ABS32:
	case R_AARCH64_PREL32:
	case R_AARCH64_ADR_PREL_LO21:
	case R_AARCH64_ADR_PREL_PG_HI21:
	case R_AARCH64_ADR_PREL_PG_HI21_NC:
	case R_AARCH64_ADD_ABS_LO12_NC:
	case R_AARCH64_LDST8_ABS_LO12_NC:
	case R_AARCH64_LDST16_ABS_LO12_NC:
	case R_AARCH64_LDST32_ABS_LO12_NC:
	case R_AARCH64_LDST64_ABS_LO12_NC:
	case R_AARCH64_LDST128_ABS_LO12_NC:
	case R_AARCH64_JUMP26:
	case R_AARCH64_CALL26:
		return 4;
	default:
		return 0;
	}
}

bool kpp_aarch64_is_branch(unsigned int type)
{
	return type == R_AARCH64_CALL26 || type == R_AARCH64_JUMP26;
}

/* ADR/ADRP: immlo in bits 29-30, immhi in bits 5-23. */
static int kpp_put_adr(u8 *field, s64 imm)
{
	u32 insn = kpp_get32(field);
	const u32 imm_bits = 3u << 29 | 0x7ffffu << 5;

	if (insn & imm_bits)
		return -ENOTEMPTY;
	if (!kpp_fits_signed(imm, 21))
		return -ERANGE;
	insn |= ((u32)imm & 3) << 29 | (((u32)imm >> 2) & 0x7ffff) << 5;
	kpp_put32(field, insn);
	return 0;
}

/* ADD/LDR/STR (unsigned immediate): imm12 in bits 10-21, in units of 1 << @shift. */
static int kpp_put_lo12(u8 *field, u64 val, unsigned int shift)
{
	u32 insn = kpp_get32(field);
	u64 lo12 = val & 0xfff;

	if (insn & 0xfffu << 10)
		return -ENOTEMPTY;
	if (lo12 & ((1u << shift) - 1))
		return -ERANGE;
	kpp_put32(field, insn | (u32)(lo12 >> shift) << 10);
	return 0;
}

/* B/BL: imm26 in bits 0-25, in instructions. */
static int kpp_put_branch(u8 *field, s64 off)
{
	u32 insn = kpp_get32(field);

	if (insn & 0x3ffffff)
		return -ENOTEMPTY;
	if ((off & 3) || !kpp_fits_signed(off, 28))
		return -ERANGE;
	kpp_put32(field, insn | ((u32)(off >> 2) & 0x3ffffff));
	return 0;
}

static int kpp_put_data(u8 *field, size_t len, u64 v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (field[i])
			return -ENOTEMPTY;
	if (len == 8)
		kpp_put64(field, v);
	else
		kpp_put32(field, (u32)v);
	return 0;
}

int kpp_aarch64_reloc(unsigned int type, u64 loc, u64 val, u8 *field)
{
	s64 prel = (s64)(val - loc);

	switch (type) {
	case R_AARCH64_ABS64:
		return kpp_put_data(field, 8, val);
	case R_AARCH64_PREL64:
		return kpp_put_data(field, 8, (u64)prel);
	case R_AARCH64_ABS32:
		/* The ABI allows -2^31 <= X < 2^32. */
		if ((s64)val < -((s64)1 << 31) || (s64)val >= ((s64)1 << 32))
			return -ERANGE;
		return kpp_put_data(field, 4, val);
	case R_AARCH64_PREL32:
		if (prel < -((s64)1 << 31) || prel >= ((s64)1 << 32))
			return -ERANGE;
		return kpp_put_data(field, 4, (u64)prel);
	case R_AARCH64_ADR_PREL_LO21:
		return kpp_put_adr(field, prel);
	case R_AARCH64_ADR_PREL_PG_HI21:
		return kpp_put_adr(field, (s64)(KPP_PAGE(val) - KPP_PAGE(loc)) >> 12);
	case R_AARCH64_ADR_PREL_PG_HI21_NC:
		/* No check: the low 21 bits of the page delta, sign-extended. */
		return kpp_put_adr(field, (s64)((KPP_PAGE(val) - KPP_PAGE(loc)) << 31) >> 43);
	case R_AARCH64_ADD_ABS_LO12_NC:
	case R_AARCH64_LDST8_ABS_LO12_NC:
		return kpp_put_lo12(field, val, 0);
	case R_AARCH64_LDST16_ABS_LO12_NC:
		return kpp_put_lo12(field, val, 1);
	case R_AARCH64_LDST32_ABS_LO12_NC:
		return kpp_put_lo12(field, val, 2);
	case R_AARCH64_LDST64_ABS_LO12_NC:
		return kpp_put_lo12(field, val, 3);
	case R_AARCH64_LDST128_ABS_LO12_NC:
		return kpp_put_lo12(field, val, 4);
	case R_AARCH64_JUMP26:
	case R_AARCH64_CALL26:
		return kpp_put_branch(field, prel);
	default:
		return -EINVAL;
	}
}

void kpp_aarch64_veneer(u8 veneer[KPP_AARCH64_VENEER_SIZE], u64 target)
{
	/* ldr x16, .+8 (LDR literal, imm19 = 2 words); br x16 */
	kpp_put32(veneer, 0x58000000u | 2u << 5 | 16u);
	kpp_put32(veneer + 4, 0xd61f0000u | 16u << 5);
	kpp_put64(veneer + 8, target);
}
