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

/* How many leading bytes of an old function a patch may have checked. */
#define KPP_CORE_OLD_BYTES 16

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
	/*
	 * The first bytes of the old function in the kernel the patch was
	 * built for, compared with the running kernel at registration:
	 * byte i must satisfy (running[i] ^ old_bytes[i]) & old_mask[i] == 0.
	 * The builder clears the mask of bytes the kernel rewrites at run
	 * time (ftrace call site, alternatives, ...; docs/core.md). An
	 * all-zero mask checks nothing.
	 */
	u8 old_bytes[KPP_CORE_OLD_BYTES];
	u8 old_mask[KPP_CORE_OLD_BYTES];

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
	/*
	 * Optional hooks around every enable and disable (registration and
	 * sysfs alike). A non-zero return of pre_enable refuses the enable;
	 * post_disable also runs when the enable fails after pre_enable, and
	 * post_enable when a disable is refused after pre_disable.
	 */
	int (*pre_enable)(struct kpp_core_patch *patch);
	void (*post_enable)(struct kpp_core_patch *patch);
	void (*pre_disable)(struct kpp_core_patch *patch);
	void (*post_disable)(struct kpp_core_patch *patch);

	/* core private */
	struct list_head node;
	struct kobject kobj;
	struct completion kobj_released;
	bool enabled;
	bool registered;
};

/*
 * A reference from the patch module to a symbol the module loader cannot
 * resolve (not exported), applied by kpp_core_apply_relocs().
 */
struct kpp_core_reloc {
	unsigned long loc;	/* the field to fill, inside the patch module */
	const char *name;
	const char *objname;	/* NULL or "vmlinux", else a loaded module */
	unsigned long sympos;	/* 0: the name must be unique; n: the n-th */
	long addend;
	/*
	 * x86_64: R_X86_64_64, _32, _32S, _PC32, _PLT32. arm64: R_AARCH64_ABS64,
	 * _ABS32, _PREL64, _PREL32, _ADR_PREL_LO21, _ADR_PREL_PG_HI21(_NC),
	 * _ADD_ABS_LO12_NC, _LDST{8,16,32,64,128}_ABS_LO12_NC, _CALL26, _JUMP26.
	 */
	unsigned int type;
	/*
	 * For a vmlinux symbol: its link-time address in the vmlinux the patch
	 * was built against (0: none), moved by the KASLR offset. Used when
	 * kallsyms does not list the name (data without CONFIG_KALLSYMS_ALL),
	 * and checked against kallsyms wherever it does.
	 */
	unsigned long addr;
	/*
	 * arm64 CALL26/JUMP26: 16 zero bytes of the module's text, 4-aligned,
	 * for a veneer when the target is out of the branch's reach; 0: none.
	 */
	unsigned long veneer;
};

/*
 * Shadow variables (shadow.c): extra data a patch attaches to an existing
 * object, keyed by (object pointer, id). The same interface and rules as
 * the kernel's klp_shadow_*(), which kernels without CONFIG_LIVEPATCH lack,
 * but a store of kpatch.ko's own. Patch sources keep calling klp_shadow_*():
 * linux/kpatchpp-macros.h, which repeats these declarations (the template
 * includes both, so the compiler checks that they agree), renames the calls
 * when kpatch-build builds for the core.
 */
typedef int (*kpp_shadow_ctor_t)(void *obj, void *shadow_data,
				 void *ctor_data);
typedef void (*kpp_shadow_dtor_t)(void *obj, void *shadow_data);

void *kpp_shadow_get(void *obj, unsigned long id);
void *kpp_shadow_alloc(void *obj, unsigned long id, size_t size,
		       gfp_t gfp_flags, kpp_shadow_ctor_t ctor, void *ctor_data);
void *kpp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
			      gfp_t gfp_flags, kpp_shadow_ctor_t ctor,
			      void *ctor_data);
void kpp_shadow_free(void *obj, unsigned long id, kpp_shadow_dtor_t dtor);
void kpp_shadow_free_all(unsigned long id, kpp_shadow_dtor_t dtor);

int kpp_core_apply_relocs(struct module *mod, unsigned long vmlinux_text,
			  const struct kpp_core_reloc *relocs,
			  unsigned int nr);
int kpp_core_register(struct kpp_core_patch *patch);
void kpp_core_unregister(struct kpp_core_patch *patch);
int kpp_core_set_enabled(struct kpp_core_patch *patch, bool enable);

#endif /* _KPATCHPP_CORE_H */
