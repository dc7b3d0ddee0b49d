// SPDX-License-Identifier: GPL-2.0
/*
 * Relocations of a patch module against symbols the module loader cannot
 * resolve (static or not exported). kpatch-build turns each of them into a
 * struct kpp_core_reloc; the patch module hands the table to
 * kpp_core_apply_relocs() before it registers its patch. By then the
 * module's text and rodata are read-only, so the fields are written with
 * text_poke_copy(). No CPU runs the new code yet (the patch is enabled
 * later, under stop_machine(), which serialises every CPU), so no
 * cross-CPU instruction sync is needed.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/elf.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/string.h>
#include "core.h"

/* The value to store for @r at @val, and its width; -ERANGE on overflow. */
static int kpp_reloc_value(const struct kpp_core_reloc *r, unsigned long sym,
			   u64 *val, size_t *len)
{
	s64 v = (s64)(sym + r->addend);

	switch (r->type) {
	case R_X86_64_64:
		*len = 8;
		break;
	case R_X86_64_32:
		*len = 4;
		if ((u64)v != (u32)v)
			return -ERANGE;
		break;
	case R_X86_64_32S:
		*len = 4;
		if (v != (s32)v)
			return -ERANGE;
		break;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		*len = 4;
		v -= (s64)r->loc;
		if (v != (s32)v)
			return -ERANGE;
		break;
	default:
		return -EINVAL;
	}
	*val = (u64)v;
	return 0;
}

static int kpp_apply_reloc(struct module *mod, const struct kpp_core_reloc *r)
{
	static const u8 zero[8];
	const char *obj = r->objname ? r->objname : "vmlinux";
	unsigned long sym;
	size_t len = 0;
	u64 val;
	int ret;

	if (!r->name || !within_module(r->loc, mod)) {
		pr_err("%s: relocation at %#lx is outside the module or unnamed\n",
		       mod->name, r->loc);
		return -EINVAL;
	}
	ret = kpp_lookup_sym(r->objname, r->name, r->sympos, &sym);
	if (ret) {
		pr_err("%s: cannot resolve %s:%s,%lu: %s\n", mod->name, obj,
		       r->name, r->sympos,
		       ret == -EINVAL ? "the name is not unique (needs a sympos)"
				      : "no such symbol in the running kernel");
		return ret;
	}
	ret = kpp_reloc_value(r, sym, &val, &len);
	if (ret) {
		pr_err("%s: relocation type %u against %s:%s at %pS %s\n",
		       mod->name, r->type, obj, r->name, (void *)r->loc,
		       ret == -ERANGE ? "overflows" : "is not supported");
		return ret;
	}
	if (!within_module(r->loc + len - 1, mod)) {
		pr_err("%s: relocation at %#lx runs past the module\n",
		       mod->name, r->loc);
		return -EINVAL;
	}
	/* Applying twice, or over a value, means a malformed table. */
	if (memcmp((void *)r->loc, zero, len)) {
		pr_err("%s: relocation target %pS against %s:%s is not zero\n",
		       mod->name, (void *)r->loc, obj, r->name);
		return -EINVAL;
	}
	/* Little-endian: the low @len bytes of @val. */
	kpp_text_poke_copy((void *)r->loc, &val, len);
	return 0;
}

/**
 * kpp_core_apply_relocs - resolve and write a patch module's relocations
 * @mod: the patch module (THIS_MODULE); every location must lie inside it
 * @relocs: the table kpatch-build made
 * @nr: its length
 *
 * Call once, from the patch module's init, before kpp_core_register().
 * Returns 0 or the first error, which is logged with the symbol at fault.
 */
int kpp_core_apply_relocs(struct module *mod,
			  const struct kpp_core_reloc *relocs, unsigned int nr)
{
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = kpp_apply_reloc(mod, &relocs[i]);
		if (ret)
			return ret;
	}
	pr_debug("%s: %u relocations applied\n", mod->name, nr);
	return 0;
}
EXPORT_SYMBOL_GPL(kpp_core_apply_relocs);
