// SPDX-License-Identifier: GPL-2.0
/*
 * The kpatch.ko (kmod/core) patch module around create-diff-object output
 *
 * Linked with output.o after kpatch-build's core conversion, which adds
 * kpp_core_desc: where the .kpatchpp.* tables are, the old functions'
 * addresses and first bytes from vmlinux, and the relocations the module
 * loader could not resolve. At load time this applies those relocations
 * through kpatch.ko, builds the kpp_core_func array, maps the patch's
 * callbacks onto the core's enable/disable hooks and registers the patch
 * (which enables it). Only vmlinux functions are patched this way.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

/*
 * Patched objects built for the core see kpatch.ko's shadow declarations
 * in kpatchpp-macros.h; with KPP_CORE here too, the compiler compares them
 * with kpatchpp-core.h's.
 */
#define KPP_CORE 1
#include "kpatchpp-macros.h"
#include "kpatchpp-core.h"

/* One entry per .kpatchpp.funcs entry, same index (core_convert.cpp). */
struct kpp_core_old {
	unsigned long addr;		/* in vmlinux, before KASLR */
	u8 bytes[KPP_CORE_OLD_BYTES];
	u8 mask[KPP_CORE_OLD_BYTES];
};

enum { KPP_CB_PRE_PATCH, KPP_CB_POST_PATCH, KPP_CB_PRE_UNPATCH,
       KPP_CB_POST_UNPATCH, KPP_CB_NR };

/* Written by kpatch-build (core_convert.cpp); 128 bytes. */
struct kpp_core_desc {
	const struct kpp_patch_func *funcs;
	unsigned long nr_funcs;
	const struct kpp_core_old *olds;
	const struct kpp_core_reloc *relocs;
	unsigned long nr_relocs;
	void * const *force;
	unsigned long nr_force;
	const struct kpp_callback *callbacks[KPP_CB_NR];
	unsigned long nr_callbacks[KPP_CB_NR];
	unsigned long vmlinux_text;
};

extern const struct kpp_core_desc kpp_core_desc;

static struct kpp_core_func *kpp_funcs;

/*
 * The object the callbacks are called for: only vmlinux is patched here,
 * and its klp_object has name NULL, as the livepatch core passes it, so a
 * callback written for livepatch that reads obj->name works unchanged.
 * Without CONFIG_LIVEPATCH the struct is kpatchpp-macros.h's stand-in.
 */
static struct klp_object kpp_vmlinux_object = { .name = NULL };
#define KPP_CALLBACK_OBJECT (&kpp_vmlinux_object)

static void kpp_run_void(unsigned int kind)
{
	const struct kpp_callback *cb = kpp_core_desc.callbacks[kind];
	unsigned long i;

	for (i = 0; i < kpp_core_desc.nr_callbacks[kind]; i++)
		((void (*)(struct klp_object *))cb[i].fn)(KPP_CALLBACK_OBJECT);
}

static int kpp_pre_enable(struct kpp_core_patch *patch)
{
	const struct kpp_callback *cb = kpp_core_desc.callbacks[KPP_CB_PRE_PATCH];
	unsigned long i;
	int ret;

	for (i = 0; i < kpp_core_desc.nr_callbacks[KPP_CB_PRE_PATCH]; i++) {
		ret = ((int (*)(struct klp_object *))cb[i].fn)(KPP_CALLBACK_OBJECT);
		if (ret)
			return ret;
	}
	return 0;
}

static void kpp_post_enable(struct kpp_core_patch *patch)
{
	kpp_run_void(KPP_CB_POST_PATCH);
}

static void kpp_pre_disable(struct kpp_core_patch *patch)
{
	kpp_run_void(KPP_CB_PRE_UNPATCH);
}

static void kpp_post_disable(struct kpp_core_patch *patch)
{
	kpp_run_void(KPP_CB_POST_UNPATCH);
}

static struct kpp_core_patch kpp_patch = {
	.mod = THIS_MODULE,
	.pre_enable = kpp_pre_enable,
	.post_enable = kpp_post_enable,
	.pre_disable = kpp_pre_disable,
	.post_disable = kpp_post_disable,
};

static bool kpp_is_forced(unsigned long new_addr)
{
	unsigned long i;

	for (i = 0; i < kpp_core_desc.nr_force; i++)
		if ((unsigned long)kpp_core_desc.force[i] == new_addr)
			return true;
	return false;
}

static int kpp_build_funcs(void)
{
	const struct kpp_core_desc *d = &kpp_core_desc;
	unsigned long i;

	if (!d->nr_funcs) {
		pr_err("nothing to patch: no .kpatchpp.funcs entries\n");
		return -EINVAL;
	}
	kpp_funcs = kcalloc(d->nr_funcs, sizeof(*kpp_funcs), GFP_KERNEL);
	if (!kpp_funcs)
		return -ENOMEM;
	for (i = 0; i < d->nr_funcs; i++) {
		const struct kpp_patch_func *pf = &d->funcs[i];
		struct kpp_core_func *f = &kpp_funcs[i];

		if (!pf->new_addr || !pf->old_name || !d->olds[i].addr) {
			pr_err("function entry %lu is incomplete\n", i);
			return -EINVAL;
		}
		f->old_name = pf->old_name;
		f->old_addr = d->olds[i].addr;
		f->old_size = pf->old_size;
		f->sympos = pf->sympos;
		f->new_func = (void *)pf->new_addr;
		f->new_size = pf->new_size;
		f->force = kpp_is_forced(pf->new_addr);
		memcpy(f->old_bytes, d->olds[i].bytes, KPP_CORE_OLD_BYTES);
		memcpy(f->old_mask, d->olds[i].mask, KPP_CORE_OLD_BYTES);
		if (f->force)
			pr_info("%s is marked force-unsafe: its activeness check is skipped\n",
				f->old_name);
	}
	kpp_patch.funcs = kpp_funcs;
	kpp_patch.nr_funcs = d->nr_funcs;
	kpp_patch.vmlinux_text = d->vmlinux_text;
	return 0;
}

static int __init kpp_init(void)
{
	int ret;

	ret = kpp_build_funcs();
	if (ret)
		goto err_free;
	ret = kpp_core_apply_relocs(THIS_MODULE, kpp_core_desc.vmlinux_text,
				    kpp_core_desc.relocs, kpp_core_desc.nr_relocs);
	if (ret)
		goto err_free;
	ret = kpp_core_register(&kpp_patch);
	if (ret)
		goto err_free;
	return 0;

err_free:
	kfree(kpp_funcs);
	return ret;
}

/* kpatch.ko holds this module while the patch is enabled. */
static void __exit kpp_exit(void)
{
	kpp_core_unregister(&kpp_patch);
	kfree(kpp_funcs);
}

module_init(kpp_init);
module_exit(kpp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ live patch for kpatch.ko");
