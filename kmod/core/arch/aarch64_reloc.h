/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AArch64 relocations as kpatch.ko applies them at load: pure functions of
 * the field's bytes and addresses, built into kpatch.ko on arm64 and into
 * the unit tests on any host (test/unit/aarch64_reloc_test.cpp compares
 * them with the linker's output for the same objects).
 */
#ifndef _KPP_AARCH64_RELOC_H
#define _KPP_AARCH64_RELOC_H

#include <linux/types.h>

/* ldr x16, <literal>; br x16; .quad target */
#define KPP_AARCH64_VENEER_SIZE 16

/* Bytes of the field relocation @type fills; 0: not supported. */
size_t kpp_aarch64_reloc_len(unsigned int type);

/*
 * kpp_aarch64_reloc - fill the field of relocation @type at address @loc
 * (P) with the value for @val (S + A). @field holds the field's current
 * bytes (little-endian) and gets the new ones. Instructions keep their
 * opcode and registers; their immediate must be zero, as the assembler
 * leaves it for a RELA relocation, and data fields must be all zero.
 * Returns 0, -ERANGE (does not fit, or misaligned for the instruction),
 * -ENOTEMPTY (the field was not empty) or -EINVAL (unsupported type).
 */
int kpp_aarch64_reloc(unsigned int type, u64 loc, u64 val, u8 *field);

/* Is @type a branch (CALL26/JUMP26) that a veneer can extend? */
bool kpp_aarch64_is_branch(unsigned int type);

/* A veneer at any address that jumps to @target, clobbering x16 only. */
void kpp_aarch64_veneer(u8 veneer[KPP_AARCH64_VENEER_SIZE], u64 target);

#endif /* _KPP_AARCH64_RELOC_H */
