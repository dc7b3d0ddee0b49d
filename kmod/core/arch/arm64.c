// SPDX-License-Identifier: GPL-2.0
/*
 * kpatch.ko on arm64 (Linux 6.1). What differs from x86_64:
 *
 * - ftrace: DYNAMIC_FTRACE_WITH_REGS without WITH_ARGS, where the generic
 *   ftrace_instruction_pointer_set() does nothing; the handler sets the
 *   saved PC in the pt_regs ftrace_regs_caller restores from.
 * - No reliable unwinder (HAVE_RELIABLE_STACKTRACE came to arm64 later):
 *   stack_trace_save_tsk() follows the frame records (FRAME_POINTER is
 *   always on). A frame record misses exactly one frame, the caller of a
 *   function interrupted by an exception before it saved its link
 *   register; an exception taken from the kernel shows on the stack as a
 *   return address in the exception entry text with more frames beyond,
 *   and such a stack is reported as unreliable (the switch is retried).
 * - No text_poke_copy(): fields are written one 32-bit word at a time with
 *   aarch64_insn_patch_text_nosync(), which maps the page writable through
 *   the fixmap and cleans the caches to the point of unification.
 * - kallsyms starts at _stext, after the image header at _text, so the
 *   KASLR offset is the kernel's own kaslr_offset() (the exported
 *   kimage_vaddr against KIMAGE_VADDR, where every arm64 kernel links
 *   _text); the vmlinux a patch was built against must have _text there.
 * - Relocations are AArch64's (aarch64_reloc.c); a CALL26/JUMP26 to a
 *   target beyond the +-128 MiB a branch reaches (module text is usually
 *   far from the kernel's with RANDOMIZE_MODULE_REGION_FULL) goes through
 *   a veneer kpatch-build reserved in the patch module
 *   (kpp_core_reloc.veneer). The veneer branches with x16, which the
 *   procedure call standard leaves to veneers and which a BTI "c" landing
 *   pad accepts.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <asm/memory.h>
#include "../arch.h"
#include "../core.h"
#include "aarch64_reloc.h"

static unsigned int (*kpp_save_tsk)(struct task_struct *tsk,
				    unsigned long *store, unsigned int size,
				    unsigned int skipnr);
static int (*kpp_patch_insn)(void *addr, u32 insn);
static unsigned long kpp_entry_text_start, kpp_entry_text_end;

int kpp_arch_init(void)
{
	kpp_save_tsk = (void *)kpp_lookup_name("stack_trace_save_tsk");
	kpp_patch_insn = (void *)kpp_lookup_name("aarch64_insn_patch_text_nosync");
	kpp_entry_text_start = kpp_lookup_name("__entry_text_start");
	kpp_entry_text_end = kpp_lookup_name("__entry_text_end");
	if (!kpp_save_tsk || !kpp_patch_insn || !kpp_entry_text_start ||
	    !kpp_entry_text_end) {
		pr_err("no stack_trace_save_tsk, aarch64_insn_patch_text_nosync or __entry_text_start/end in this kernel\n");
		return -ENOENT;
	}
	return 0;
}

int kpp_arch_kaslr_offset(unsigned long vmlinux_text, long *offset)
{
	if (vmlinux_text != KIMAGE_VADDR) {
		pr_err("the patch's vmlinux has _text at %#lx, this kernel links it at %#lx (another VA_BITS or page size?)\n",
		       vmlinux_text, (unsigned long)KIMAGE_VADDR);
		return -EINVAL;
	}
	*offset = kaslr_offset();
	return 0;
}

void notrace kpp_arch_redirect(struct ftrace_regs *fregs, unsigned long addr)
{
	instruction_pointer_set(ftrace_get_regs(fregs), addr);
}

int kpp_arch_save_stack(struct task_struct *tsk, unsigned long *store,
			unsigned int size)
{
	unsigned int nr, i;

	nr = kpp_save_tsk(tsk, store, size, 0);
	if (nr >= size)
		return -E2BIG;	/* maybe cut short: the rest is unseen */
	for (i = 0; i + 1 < nr; i++)
		if (store[i] >= kpp_entry_text_start &&
		    store[i] < kpp_entry_text_end)
			return -EAGAIN;	/* kernel code interrupted */
	return nr;
}

size_t kpp_arch_reloc_len(unsigned int type)
{
	return kpp_aarch64_reloc_len(type);
}

/* Point a branch out of reach at a veneer in @mod that jumps to @target. */
static int kpp_reloc_via_veneer(struct module *mod,
				const struct kpp_core_reloc *r, u64 target,
				u8 *field)
{
	u8 veneer[KPP_AARCH64_VENEER_SIZE];
	int ret;

	if (!r->veneer) {
		pr_err("%s: branch at %pS to %s is out of reach and the patch module has no veneer for it (rebuild it with kpatch-build)\n",
		       mod->name, (void *)r->loc, r->name);
		return -ERANGE;
	}
	if (!within_module(r->veneer, mod) ||
	    !within_module(r->veneer + sizeof(veneer) - 1, mod) ||
	    (r->veneer & 3) ||
	    memchr_inv((void *)r->veneer, 0, sizeof(veneer))) {
		pr_err("%s: the veneer at %#lx for %s is not 16 free bytes of the module\n",
		       mod->name, r->veneer, r->name);
		return -EINVAL;
	}
	ret = kpp_aarch64_reloc(r->type, r->loc, r->veneer, field);
	if (ret)
		return ret;
	kpp_aarch64_veneer(veneer, target);
	return kpp_arch_write((void *)r->veneer, veneer, sizeof(veneer));
}

int kpp_arch_reloc_field(struct module *mod, const struct kpp_core_reloc *r,
			 unsigned long sym, u8 *field, size_t len)
{
	u8 before[8];
	u64 val = sym + r->addend;
	int ret;

	memcpy(before, field, len);
	ret = kpp_aarch64_reloc(r->type, r->loc, val, field);
	if (ret != -ERANGE || !kpp_aarch64_is_branch(r->type))
		return ret;
	memcpy(field, before, len);
	return kpp_reloc_via_veneer(mod, r, val, field);
}

int kpp_arch_write(void *addr, const void *bytes, size_t len)
{
	size_t i;
	u32 word;
	int ret;

	if (((unsigned long)addr | len) & 3)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		memcpy(&word, bytes + i, 4);
		/* Takes the instruction in CPU order and stores it little-endian. */
		ret = kpp_patch_insn(addr + i, le32_to_cpu((__force __le32)word));
		if (ret)
			return ret;
	}
	return 0;
}
