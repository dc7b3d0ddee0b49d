// SPDX-License-Identifier: GPL-2.0
/*
 * kpatch.ko on x86_64: ftrace passes the registers with
 * HAVE_DYNAMIC_FTRACE_WITH_ARGS, the ORC unwinder gives reliable stacks,
 * and text_poke_copy() writes read-only module memory.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/elf.h>
#include <linux/kernel.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include "../arch.h"
#include "../core.h"

static int (*kpp_save_tsk_reliable)(struct task_struct *tsk,
				    unsigned long *store, unsigned int size);
static void *(*kpp_text_poke_copy)(void *addr, const void *opcode, size_t len);

int kpp_arch_init(void)
{
	kpp_save_tsk_reliable =
		(void *)kpp_lookup_name("stack_trace_save_tsk_reliable");
	if (!kpp_save_tsk_reliable) {
		pr_err("no stack_trace_save_tsk_reliable (kernel lacks HAVE_RELIABLE_STACKTRACE?)\n");
		return -ENOENT;
	}
	kpp_text_poke_copy = (void *)kpp_lookup_name("text_poke_copy");
	if (!kpp_text_poke_copy) {
		pr_err("no text_poke_copy in this kernel\n");
		return -ENOENT;
	}
	return 0;
}

/* _text is a text symbol: kallsyms lists it on every kernel. */
int kpp_arch_kaslr_offset(unsigned long vmlinux_text, long *offset)
{
	unsigned long text = kpp_lookup_name("_text");

	if (!text) {
		pr_err("no _text in kallsyms\n");
		return -ENOENT;
	}
	*offset = text - vmlinux_text;
	return 0;
}

void notrace kpp_arch_redirect(struct ftrace_regs *fregs, unsigned long addr)
{
	ftrace_instruction_pointer_set(fregs, addr);
}

int kpp_arch_save_stack(struct task_struct *tsk, unsigned long *store,
			unsigned int size)
{
	return kpp_save_tsk_reliable(tsk, store, size);
}

size_t kpp_arch_reloc_len(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

int kpp_arch_reloc_field(struct module *mod, const struct kpp_core_reloc *r,
			 unsigned long sym, u8 *field, size_t len)
{
	s64 v = (s64)(sym + r->addend);

	if (memchr_inv(field, 0, len))
		return -ENOTEMPTY;
	switch (r->type) {
	case R_X86_64_32:
		if ((u64)v != (u32)v)
			return -ERANGE;
		break;
	case R_X86_64_32S:
		if (v != (s32)v)
			return -ERANGE;
		break;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		v -= (s64)r->loc;
		if (v != (s32)v)
			return -ERANGE;
		break;
	}
	/* Little-endian: the low @len bytes of @v. */
	memcpy(field, &v, len);
	return 0;
}

int kpp_arch_write(void *addr, const void *bytes, size_t len)
{
	kpp_text_poke_copy(addr, bytes, len);
	return 0;
}
