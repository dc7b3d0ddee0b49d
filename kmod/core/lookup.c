// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol lookup without an exported kallsyms_lookup_name().
 *
 * Linux 6.1 does not export kallsyms_lookup_name(), and the usual kprobe
 * trick needs CONFIG_KPROBES. sprint_symbol() is exported and prints
 * "name+offset/size" for any kernel address; kallsyms sizes run up to the
 * next symbol, so stepping by them visits every symbol in address order.
 * kallsyms_lookup_name() is defined in kernel/kallsyms.c, next to
 * sprint_symbol(), so a short walk in both directions from sprint_symbol()
 * finds it. Everything else (stack_trace_save_tsk_reliable(), the functions
 * to patch) is then looked up through it.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "core.h"

/* How many symbols to visit on each side of sprint_symbol(). */
#define KPP_WALK_LIMIT 4096

static unsigned long (*kpp_kallsyms_lookup_name)(const char *name);
int (*kpp_save_tsk_reliable)(struct task_struct *tsk, unsigned long *store,
			     unsigned int size);

/*
 * kpp_symbol_at - the symbol containing @addr
 * Fills @name (without a " [module]" suffix), the offset of @addr in the
 * symbol and the symbol's kallsyms size. Returns -ENOENT for an address
 * kallsyms does not know.
 */
int kpp_symbol_at(unsigned long addr, char *name, size_t len,
		  unsigned long *offset, unsigned long *size)
{
	char *buf, *plus, *space;
	int ret = 0;

	buf = kmalloc(KSYM_SYMBOL_LEN, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	sprint_symbol(buf, addr);
	space = strchr(buf, ' ');
	if (space)
		*space = '\0';
	plus = strrchr(buf, '+');
	if (!plus) {
		ret = -ENOENT;
		goto out;
	}
	*plus = '\0';
	if (sscanf(plus + 1, "%lx/%lx", offset, size) != 2) {
		ret = -EINVAL;
		goto out;
	}
	strscpy(name, buf, len);
out:
	kfree(buf);
	return ret;
}

static unsigned long kpp_walk_for(const char *want, unsigned long anchor)
{
	char name[KSYM_NAME_LEN];
	unsigned long addr, off, size, start;
	int i;

	/* Forward: from the anchor's start to each next symbol. */
	addr = anchor;
	for (i = 0; i < KPP_WALK_LIMIT; i++) {
		if (kpp_symbol_at(addr, name, sizeof(name), &off, &size))
			break;
		start = addr - off;
		if (!strcmp(name, want))
			return start;
		if (!size)
			break;
		addr = start + size;
	}
	/* Backward: the byte before a symbol's start is in the previous one. */
	if (kpp_symbol_at(anchor, name, sizeof(name), &off, &size))
		return 0;
	addr = anchor - off;
	for (i = 0; i < KPP_WALK_LIMIT; i++) {
		if (kpp_symbol_at(addr - 1, name, sizeof(name), &off, &size))
			break;
		start = addr - 1 - off;
		if (!strcmp(name, want))
			return start;
		addr = start;
	}
	return 0;
}

unsigned long kpp_lookup_name(const char *name)
{
	return kpp_kallsyms_lookup_name(name);
}

int kpp_lookup_init(void)
{
	unsigned long addr;

	addr = kpp_walk_for("kallsyms_lookup_name", (unsigned long)sprint_symbol);
	if (!addr) {
		pr_err("cannot find kallsyms_lookup_name near sprint_symbol\n");
		return -ENOENT;
	}
	kpp_kallsyms_lookup_name = (void *)addr;

	addr = kpp_lookup_name("stack_trace_save_tsk_reliable");
	if (!addr) {
		pr_err("no stack_trace_save_tsk_reliable (kernel lacks HAVE_RELIABLE_STACKTRACE?)\n");
		return -ENOENT;
	}
	kpp_save_tsk_reliable = (void *)addr;
	return 0;
}
