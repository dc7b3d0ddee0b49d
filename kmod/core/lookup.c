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
 * finds it. Everything else (the functions to patch,
 * kallsyms_on_each_symbol() for lookups by position, what arch/<arch>.c
 * needs) is then looked up through it.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "core.h"

/* How many symbols to visit on each side of sprint_symbol(). */
#define KPP_WALK_LIMIT 4096

typedef int (*kpp_each_symbol_fn)(void *data, const char *name,
				  struct module *mod, unsigned long addr);

static unsigned long (*kpp_kallsyms_lookup_name)(const char *name);
static int (*kpp_vmlinux_each_symbol)(kpp_each_symbol_fn fn, void *data);
static int (*kpp_modules_each_symbol)(kpp_each_symbol_fn fn, void *data);

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

/* What kpp_lookup_sym() looks for, and what it found so far. */
struct kpp_sym_query {
	const char *name;
	const char *objname;	/* NULL: vmlinux */
	unsigned long sympos;
	unsigned long count;	/* matches seen */
	unsigned long addr;	/* the sympos-th match, or the first */
};

static int kpp_sym_match(void *data, const char *name, struct module *mod,
			 unsigned long addr)
{
	struct kpp_sym_query *q = data;

	if (strcmp(name, q->name))
		return 0;
	if (q->objname && (!mod || strcmp(mod->name, q->objname)))
		return 0;
	q->count++;
	if (q->count == max(q->sympos, 1UL))
		q->addr = addr;
	/* The whole table is walked only to prove sympos 0 unique. */
	return q->sympos && q->count == q->sympos;
}

/*
 * kpp_lookup_sym - address of the @sympos-th symbol @name of @objname
 * @objname: NULL or "vmlinux" for the kernel, else a loaded module's name
 * @sympos: 0 when the name must be unique in @objname, else 1, 2, ... in
 *          kallsyms order (the livepatch convention)
 * Returns 0 with *@addr set, -ENOENT when there is no such symbol, or
 * -EINVAL when @sympos is 0 and the name is not unique.
 */
int kpp_lookup_sym(const char *objname, const char *name,
		   unsigned long sympos, unsigned long *addr)
{
	struct kpp_sym_query q = { .name = name, .sympos = sympos };

	if (objname && strcmp(objname, "vmlinux")) {
		q.objname = objname;
		kpp_modules_each_symbol(kpp_sym_match, &q);
	} else {
		kpp_vmlinux_each_symbol(kpp_sym_match, &q);
	}
	if (!q.addr)
		return -ENOENT;
	if (!sympos && q.count > 1)
		return -EINVAL;
	*addr = q.addr;
	return 0;
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

	kpp_vmlinux_each_symbol = (void *)kpp_lookup_name("kallsyms_on_each_symbol");
	kpp_modules_each_symbol =
		(void *)kpp_lookup_name("module_kallsyms_on_each_symbol");
	if (!kpp_vmlinux_each_symbol || !kpp_modules_each_symbol) {
		pr_err("no kallsyms_on_each_symbol or module_kallsyms_on_each_symbol in this kernel\n");
		return -ENOENT;
	}
	return 0;
}
