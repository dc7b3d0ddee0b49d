/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatchpp-core.h - registration API of kpatch.ko (kmod/core), the kpatch++
 * ftrace patch engine for kernels without CONFIG_LIVEPATCH.
 *
 * A patch module fills a struct kpp_core_patch with an array of
 * struct kpp_core_func and calls kpp_core_register() from its init
 * function; the patch is enabled at once (under stop_machine, after the
 * activeness safety check). kpp_core_unregister() in its exit function
 * removes it; the core holds a reference on the patch module while the
 * patch is enabled, so rmmod is refused until it is disabled
 * (echo 0 > /sys/kernel/kpatch/<name>/enabled).
 */
#ifndef _KPATCHPP_CORE_H
#define _KPATCHPP_CORE_H

#include <linux/completion.h>
#include <linux/ftrace.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/types.h>

/* One replaced function. Fields above "core private" are the patch's. */
struct kpp_core_func {
	/* Name of the function to replace (in vmlinux or a loaded module). */
	const char *old_name;
	/*
	 * Address of the old function: 0 to resolve old_name by kallsyms
	 * (the sympos-th symbol of that name, 0 or 1 meaning the first), else
	 * an address checked against kallsyms (name, offset 0, old_size).
	 * With kpp_core_patch.vmlinux_text set it is a link-time vmlinux
	 * address and the KASLR offset is added first.
	 */
	unsigned long old_addr;
	unsigned long old_size;		/* 0: not checked */
	unsigned long sympos;
	void *new_func;
	unsigned long new_size;		/* 0: taken from kallsyms */
	/* Skip the activeness safety check for this function only. */
	bool force;

	/* core private */
	struct list_head stack_node;	/* on kpp_ops.funcs, newest first */
	struct kpp_ops *ops;
	unsigned long new_addr;
	bool active;
};

struct kpp_core_patch {
	struct module *mod;		/* THIS_MODULE */
	const char *name;		/* NULL: mod->name */
	struct kpp_core_func *funcs;
	unsigned int nr_funcs;
	/* Link-time address of _text in the vmlinux the addresses are from. */
	unsigned long vmlinux_text;

	/* core private */
	struct list_head node;
	struct kobject kobj;
	struct completion kobj_released;
	bool enabled;
	bool registered;
};

int kpp_core_register(struct kpp_core_patch *patch);
void kpp_core_unregister(struct kpp_core_patch *patch);
int kpp_core_set_enabled(struct kpp_core_patch *patch, bool enable);

#endif /* _KPATCHPP_CORE_H */
