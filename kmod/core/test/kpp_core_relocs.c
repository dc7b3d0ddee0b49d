// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 test of kpp_core_apply_relocs(): a hand-made relocation table of
 * the kinds kpatch-build writes, against code and data of this module left
 * empty for them (raw instructions with a zero immediate, a zero .rodata
 * quad), checked from the module's init (the load fails on any failed
 * check):
 * - CALL26 to kallsyms_lookup_name (a text symbol, not exported), through
 *   the veneer when the module is out of a branch's reach of the kernel;
 * - ADRP + ADD of linux_banner, data that kallsyms does not list without
 *   CONFIG_KALLSYMS_ALL: its -dbg vmlinux address plus the KASLR offset;
 * - ABS64 of cmdline_proc_show in read-only data;
 * and the refusals: a field already filled, data without an address, and a
 * text symbol whose vmlinux address disagrees with kallsyms.
 * The host passes the -dbg vmlinux's addresses as module parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/string.h>
#include <asm/memory.h>
#include "../kpatchpp-core.h"

static unsigned long vmlinux_text;
module_param(vmlinux_text, ulong, 0400);
MODULE_PARM_DESC(vmlinux_text, "_text in the -dbg vmlinux");
static unsigned long banner;
module_param(banner, ulong, 0400);
MODULE_PARM_DESC(banner, "linux_banner in the -dbg vmlinux");
static unsigned long cmdline;
module_param(cmdline, ulong, 0400);
MODULE_PARM_DESC(cmdline, "cmdline_proc_show in the -dbg vmlinux");
static char *veneer_used = "unknown";
module_param(veneer_used, charp, 0400);
MODULE_PARM_DESC(veneer_used, "out: whether the branch went through the veneer");

/* Fields with a zero immediate, as the assembler leaves them for RELA. */
asm(	".pushsection .text, \"ax\"\n"
	".balign 4\n"
	".globl kpp_relocs_lookup\n"
	"kpp_relocs_lookup:\n"		/* unsigned long (const char *name) */
	"	stp x29, x30, [sp, #-16]!\n"
	"	mov x29, sp\n"
	".globl kpp_relocs_call_site\n"
	"kpp_relocs_call_site:\n"
	"	.inst 0x94000000\n"		/* bl (CALL26) */
	"	ldp x29, x30, [sp], #16\n"
	"	ret\n"
	".globl kpp_relocs_banner\n"
	"kpp_relocs_banner:\n"		/* const char *(void) */
	"	.inst 0x90000000\n"		/* adrp x0 (ADR_PREL_PG_HI21) */
	"	.inst 0x91000000\n"		/* add x0, x0 (ADD_ABS_LO12_NC) */
	"	ret\n"
	".globl kpp_relocs_veneer\n"
	"kpp_relocs_veneer:\n"
	"	.fill 4, 4, 0\n"
	".popsection\n"
	".pushsection .rodata, \"a\"\n"
	".balign 8\n"
	".globl kpp_relocs_abs64\n"
	"kpp_relocs_abs64:\n"
	"	.quad 0\n"
	".popsection\n");

unsigned long kpp_relocs_lookup(const char *name);
const char *kpp_relocs_banner(void);
extern u32 kpp_relocs_call_site[], kpp_relocs_veneer[];
extern const unsigned long kpp_relocs_abs64;

static int failed;

static void check(bool ok, const char *what)
{
	if (!ok) {
		failed++;
		pr_err("FAIL: %s\n", what);
	}
}

static int apply(const struct kpp_core_reloc *r)
{
	return kpp_core_apply_relocs(THIS_MODULE, vmlinux_text, r, 1);
}

/* Where the filled bl at kpp_relocs_call_site branches to. */
static unsigned long branch_target(void)
{
	s64 imm = (s64)((u64)(kpp_relocs_call_site[0] & 0x3ffffff) << 38) >> 36;

	return (unsigned long)kpp_relocs_call_site + imm;
}

static int __init kpp_relocs_init(void)
{
	const struct kpp_core_reloc table[] = {
		{ .loc = (unsigned long)kpp_relocs_call_site,
		  .name = "kallsyms_lookup_name", .type = R_AARCH64_CALL26,
		  .veneer = (unsigned long)kpp_relocs_veneer },
		{ .loc = (unsigned long)kpp_relocs_banner, .name = "linux_banner",
		  .type = R_AARCH64_ADR_PREL_PG_HI21, .addr = banner },
		{ .loc = (unsigned long)kpp_relocs_banner + 4,
		  .name = "linux_banner", .type = R_AARCH64_ADD_ABS_LO12_NC,
		  .addr = banner },
		{ .loc = (unsigned long)&kpp_relocs_abs64,
		  .name = "cmdline_proc_show", .type = R_AARCH64_ABS64 },
	};
	struct kpp_core_reloc no_addr = table[1], wrong_addr = table[3];
	unsigned long cmdline_now;
	int ret;

	if (!vmlinux_text || !banner || !cmdline) {
		pr_err("needs vmlinux_text=, banner= and cmdline= (from the -dbg vmlinux)\n");
		return -EINVAL;
	}
	/* Refused before anything is written. */
	no_addr.addr = 0;
	check(apply(&no_addr) == -ENOENT, "data without a vmlinux address is refused");
	wrong_addr.addr = cmdline + 4;
	check(apply(&wrong_addr) == -EINVAL,
	      "a text symbol at another address than kallsyms says is refused");

	ret = kpp_core_apply_relocs(THIS_MODULE, vmlinux_text, table,
				    ARRAY_SIZE(table));
	check(!ret, "the table applies");
	if (ret)
		return ret;
	veneer_used = branch_target() == (unsigned long)kpp_relocs_veneer ? "yes" : "no";

	check(kpp_relocs_lookup("sprint_symbol") == (unsigned long)sprint_symbol,
	      "the call reaches kallsyms_lookup_name");
	cmdline_now = kpp_relocs_lookup("cmdline_proc_show");
	check(cmdline_now && kpp_relocs_abs64 == cmdline_now,
	      "the quad in .rodata holds cmdline_proc_show");
	check(cmdline_now - cmdline == kaslr_offset(),
	      "kallsyms has cmdline_proc_show at its vmlinux address + KASLR");
	check(!strncmp(kpp_relocs_banner(), "Linux version ", 14),
	      "adrp/add reach linux_banner");
	check(apply(&table[0]) == -ENOTEMPTY, "a filled branch is not filled again");
	check(apply(&table[2]) == -ENOTEMPTY, "a filled add is not filled again");
	check(apply(&table[3]) == -ENOTEMPTY, "a filled quad is not filled again");
	if (failed)
		return -EINVAL;
	pr_info("all relocation checks passed; veneer used: %s; banner: %.40s\n",
		veneer_used, kpp_relocs_banner());
	return 0;
}

static void __exit kpp_relocs_exit(void)
{
}

module_init(kpp_relocs_init);
module_exit(kpp_relocs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core test of AArch64 relocations at load");
