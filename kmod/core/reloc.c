// SPDX-License-Identifier: GPL-2.0
/*
 * Relocations of a patch module against symbols the module loader cannot
 * resolve (static or not exported). kpatch-build turns each of them into a
 * struct kpp_core_reloc; the patch module hands the table to
 * kpp_core_apply_relocs() before it registers its patch. By then the
 * module's text and rodata are read-only, so the fields are written with
 * the architecture's text poking (arch/<arch>.c). No CPU runs the new code
 * yet (the patch is enabled later, under stop_machine(), which serialises
 * every CPU), so no cross-CPU instruction sync is needed.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/string.h>
#include "arch.h"
#include "core.h"

/* The widest field a relocation fills. */
#define KPP_RELOC_MAX_LEN 8

static const char *kpp_reloc_obj(const struct kpp_core_reloc *r)
{
	return r->objname ? r->objname : "vmlinux";
}

/*
 * A vmlinux symbol at its link-time address moved by @kaslr: kallsyms must
 * agree wherever it knows the name or the address.
 */
static int kpp_reloc_by_addr(struct module *mod, const struct kpp_core_reloc *r,
			     long kaslr, unsigned long *sym)
{
	char name[KSYM_NAME_LEN];
	unsigned long want = r->addr + kaslr, found, off, size;
	int ret;

	ret = kpp_lookup_sym(NULL, r->name, r->sympos, &found);
	if (!ret && found != want) {
		pr_err("%s: %s is at %#lx in kallsyms, not at %#lx as the patch's vmlinux says (another kernel build?)\n",
		       mod->name, r->name, found, want);
		return -EINVAL;
	}
	if (!kpp_symbol_at(want, name, sizeof(name), &off, &size) && !off &&
	    strcmp(name, r->name)) {
		pr_err("%s: %#lx is %s in kallsyms, not %s as the patch's vmlinux says (another kernel build?)\n",
		       mod->name, want, name, r->name);
		return -EINVAL;
	}
	*sym = want;
	return 0;
}

static int kpp_reloc_symbol(struct module *mod, const struct kpp_core_reloc *r,
			    long kaslr, unsigned long *sym)
{
	bool in_vmlinux = !r->objname || !strcmp(r->objname, "vmlinux");
	int ret;

	if (r->addr && in_vmlinux)
		return kpp_reloc_by_addr(mod, r, kaslr, sym);
	ret = kpp_lookup_sym(r->objname, r->name, r->sympos, sym);
	if (ret)
		pr_err("%s: cannot resolve %s:%s,%lu: %s\n", mod->name,
		       kpp_reloc_obj(r), r->name, r->sympos,
		       ret == -EINVAL ? "the name is not unique (needs a sympos)" :
		       in_vmlinux ? "no such symbol in the running kernel's kallsyms (data is listed only with CONFIG_KALLSYMS_ALL; kpatch-build records such a symbol's vmlinux address)" :
				    "no such symbol in the running kernel");
	return ret;
}

static int kpp_apply_reloc(struct module *mod, const struct kpp_core_reloc *r,
			   long kaslr)
{
	u8 field[KPP_RELOC_MAX_LEN];
	unsigned long sym;
	size_t len;
	int ret;

	if (!r->name || !within_module(r->loc, mod)) {
		pr_err("%s: relocation at %#lx is outside the module or unnamed\n",
		       mod->name, r->loc);
		return -EINVAL;
	}
	len = kpp_arch_reloc_len(r->type);
	if (!len || len > sizeof(field)) {
		pr_err("%s: relocation type %u against %s:%s at %pS is not supported on this architecture\n",
		       mod->name, r->type, kpp_reloc_obj(r), r->name, (void *)r->loc);
		return -EINVAL;
	}
	if (!within_module(r->loc + len - 1, mod)) {
		pr_err("%s: relocation at %#lx runs past the module\n",
		       mod->name, r->loc);
		return -EINVAL;
	}
	ret = kpp_reloc_symbol(mod, r, kaslr, &sym);
	if (ret)
		return ret;
	memcpy(field, (void *)r->loc, len);
	ret = kpp_arch_reloc_field(mod, r, sym, field, len);
	if (ret) {
		pr_err("%s: relocation type %u against %s:%s at %pS %s\n",
		       mod->name, r->type, kpp_reloc_obj(r), r->name, (void *)r->loc,
		       ret == -ERANGE ? "does not fit its field (out of range or misaligned)" :
		       ret == -ENOTEMPTY ? "finds its field not empty (applied twice, or a malformed table)" :
					   "is malformed");
		return ret;
	}
	ret = kpp_arch_write((void *)r->loc, field, len);
	if (ret)
		pr_err("%s: cannot write the relocation at %pS: %d\n", mod->name,
		       (void *)r->loc, ret);
	return ret;
}

/**
 * kpp_core_apply_relocs - resolve and write a patch module's relocations
 * @mod: the patch module (THIS_MODULE); every location must lie inside it
 * @vmlinux_text: link-time address of _text in the vmlinux the entries'
 *                addr fields come from (0 when none has one)
 * @relocs: the table kpatch-build made
 * @nr: its length
 *
 * Call once, from the patch module's init, before kpp_core_register().
 * Returns 0 or the first error, which is logged with the symbol at fault.
 */
int kpp_core_apply_relocs(struct module *mod, unsigned long vmlinux_text,
			  const struct kpp_core_reloc *relocs, unsigned int nr)
{
	long kaslr = 0;
	unsigned int i;
	int ret;

	if (vmlinux_text) {
		ret = kpp_arch_kaslr_offset(vmlinux_text, &kaslr);
		if (ret)
			return ret;
	}
	for (i = 0; i < nr; i++) {
		ret = kpp_apply_reloc(mod, &relocs[i], kaslr);
		if (ret)
			return ret;
	}
	pr_debug("%s: %u relocations applied\n", mod->name, nr);
	return 0;
}
EXPORT_SYMBOL_GPL(kpp_core_apply_relocs);
