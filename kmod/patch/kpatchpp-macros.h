/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Annotations for kpatch++ patch authors
 *
 * Include this header from a patched kernel source file as
 *
 *	#include <linux/kpatchpp-macros.h>
 *
 * kpatch-build copies it into the kernel tree as
 * include/linux/kpatchpp-macros.h while it builds the original and patched
 * objects, and removes it afterwards (the tree's build flags stay as they
 * are). The patch module's own kpatchpp-template.c includes it from this
 * directory as "kpatchpp-macros.h". Each macro emits a small static entry
 * into a ".kpatchpp.*" section of the patched object; create-diff-object
 * copies those sections (and the functions they point to) into the patch
 * module, whose template (kpatchpp-template.c) reads them at load time.
 *
 * Callbacks (see Documentation/livepatch/callbacks.rst for when they run):
 *
 *	static int my_pre_patch(struct klp_object *obj) { return 0; }
 *	KPATCH_PRE_PATCH_CALLBACK(my_pre_patch);
 *
 *	pre_patch returns 0 or a negative errno (which aborts the patching);
 *	post_patch, pre_unpatch and post_unpatch return void. The callback
 *	belongs to the object (vmlinux or a module) the annotated file is part
 *	of. At most one callback of each kind per object.
 *
 * Other annotations:
 *
 *	KPATCH_FORCE_UNSAFE(fn)      fn's activeness check may be skipped
 *	KPATCH_IGNORE_FUNCTION(fn)   changes to fn are not patched
 *	KPATCH_IGNORE_SECTION(".s")  changes to section ".s" are not patched
 *	KPATCH_IGNORE_STATIC("var")  static local variable var may start from a
 *	                             fresh copy (its initial value) when the
 *	                             patch moves it where the diff cannot pair
 *	                             it with the running kernel's copy; without
 *	                             this, that is refused
 *	KPATCH_PRINTK(fmt, ...)      printk() that leaves the code around it
 *	                             where it was (KPATCH_PRINTK_DEFERRED:
 *	                             printk_deferred())
 *	KPATCH_STATIC_CALL(name)     where the kernel's code says
 *	                             static_call(name)(args), call
 *	                             KPATCH_STATIC_CALL(name)(args): through the
 *	                             key's current function pointer, with no
 *	                             call site for the module loader to patch
 *
 * Shadow variables: call the kernel's klp_shadow_*() API (declared in
 * <linux/livepatch.h>, included below) from a file that includes this
 * header, for example:
 *
 *	#define MY_SHADOW_ID 1
 *	struct my_extra { int counter; };
 *
 *	struct my_extra *ex = klp_shadow_get_or_alloc(obj_ptr, MY_SHADOW_ID,
 *						      sizeof(*ex), GFP_ATOMIC,
 *						      NULL, NULL);
 *	...
 *	klp_shadow_free(obj_ptr, MY_SHADOW_ID, NULL);
 *
 * When kpatch-build builds for kpatch.ko (kmod/core: --core, or a kernel
 * without CONFIG_LIVEPATCH) the copy it puts in the kernel tree defines
 * KPP_CORE first, and the klp_shadow_*() names below turn into kpatch.ko's
 * kpp_shadow_*(): the same interface and rules, but kpatch.ko's own store
 * (there may be no livepatch core at all). So one patch source serves both
 * engines, as long as every file using shadow variables includes this
 * header.
 *
 * The layouts below are an ABI shared with create-diff-object and the
 * template; docs/patch-module.md describes them.
 */
#ifndef _KPATCHPP_MACROS_H
#define _KPATCHPP_MACROS_H

#include <linux/compiler.h>
#include <linux/jiffies.h>
#include <linux/livepatch.h>
#include <linux/types.h>

/* Declared here too: without CONFIG_LIVEPATCH, livepatch.h does not. */
struct klp_object;

/* One entry of .kpatchpp.funcs (48 bytes), written by create-diff-object. */
struct kpp_patch_func {
	unsigned long new_addr;
	unsigned long old_size;
	unsigned long new_size;
	unsigned long sympos;
	const char *old_name;
	const char *objname;
};

/*
 * One entry of a .kpatchpp.callbacks.* section (16 bytes). The template
 * reads every kind through this generic view; the typed variants below let
 * the compiler check the callback's signature.
 */
struct kpp_callback {
	void *fn;
	const char *objname;
};

struct kpp_pre_patch_callback {
	int (*fn)(struct klp_object *obj);
	const char *objname;
};

struct kpp_void_callback {
	void (*fn)(struct klp_object *obj);
	const char *objname;
};

/*
 * The object an annotated file belongs to: a module's objects are built
 * with -DMODULE and KBUILD_MODNAME names the module; anything else is part
 * of vmlinux (where KBUILD_MODNAME names only the file), which is NULL.
 */
#ifdef MODULE
#define __KPP_OBJNAME_DECL(id)						\
	static const char id[] __used					\
		__section(".kpatchpp.strings") = KBUILD_MODNAME
#define __KPP_OBJNAME_REF(id) id
#else
/* Unreferenced, so the compiler drops it. */
#define __KPP_OBJNAME_DECL(id) static const char id[] __maybe_unused = ""
#define __KPP_OBJNAME_REF(id) NULL
#endif

#define __KPP_CALLBACK(kind, type, _fn, id)				\
	__KPP_OBJNAME_DECL(__PASTE(id, _objname));			\
	static struct type id __used					\
		__section(".kpatchpp.callbacks." #kind) __aligned(8) = { \
		.fn = _fn,						\
		.objname = __KPP_OBJNAME_REF(__PASTE(id, _objname)),	\
	}

#define KPP_PRE_PATCH_CALLBACK(fn)					\
	__KPP_CALLBACK(pre_patch, kpp_pre_patch_callback, fn,		\
		       __UNIQUE_ID(kpp_pre_patch_))
#define KPP_POST_PATCH_CALLBACK(fn)					\
	__KPP_CALLBACK(post_patch, kpp_void_callback, fn,		\
		       __UNIQUE_ID(kpp_post_patch_))
#define KPP_PRE_UNPATCH_CALLBACK(fn)					\
	__KPP_CALLBACK(pre_unpatch, kpp_void_callback, fn,		\
		       __UNIQUE_ID(kpp_pre_unpatch_))
#define KPP_POST_UNPATCH_CALLBACK(fn)					\
	__KPP_CALLBACK(post_unpatch, kpp_void_callback, fn,		\
		       __UNIQUE_ID(kpp_post_unpatch_))

/* Pointers to functions, one 8-byte entry per annotation. */
#define __KPP_FUNC_LIST(secname, fn, id)				\
	static void *id __used __section(secname) __aligned(8) = (void *)(fn)

#define KPP_FORCE_UNSAFE(fn)						\
	__KPP_FUNC_LIST(".kpatchpp.force", fn, __UNIQUE_ID(kpp_force_))
#define KPP_IGNORE_FUNCTION(fn)						\
	__KPP_FUNC_LIST(".kpatchpp.ignore.functions", fn,		\
			__UNIQUE_ID(kpp_ignore_func_))
#define KPP_IGNORE_SECTION(name)					\
	static const char *__UNIQUE_ID(kpp_ignore_sec_) __used		\
		__section(".kpatchpp.ignore.sections") __aligned(8) = (name)
#define KPP_IGNORE_STATIC(name)						\
	static const char *__UNIQUE_ID(kpp_ignore_static_) __used	\
		__section(".kpatchpp.ignore.statics") __aligned(8) = (name)

/*
 * printk() is __cold, so gcc takes any path that calls it for an unlikely
 * one: a debugging printk added by a patch can move the code around it to
 * .text.unlikely or keep callees from being inlined, and the patch then
 * replaces much more than the line it adds. The test of jiffies, unknown to
 * the compiler (and practically never 0), puts only the call on a path of
 * its own.
 */
#define KPP_PRINTK(fmt, ...)						\
	({ if (jiffies) printk(fmt, ##__VA_ARGS__); })
#define KPP_PRINTK_DEFERRED(fmt, ...)					\
	({ if (jiffies) printk_deferred(fmt, ##__VA_ARGS__); })

/*
 * A static call of key `name` that needs no entry in .static_call_sites:
 * the call reads the key's current target, typed as the key's trampoline.
 * Needs <linux/static_call.h>, as static_call() itself does.
 */
#define KPP_STATIC_CALL(name)						\
	((typeof(&STATIC_CALL_TRAMP(name)))static_call_query(name))

/*
 * kpatch.ko's shadow variables (kmod/core/shadow.c). These declarations
 * repeat kmod/core/kpatchpp-core.h's, which cannot be included from the
 * kernel tree; the core template includes both headers, so the compiler
 * checks that they agree. The renames come after <linux/livepatch.h>, so
 * its own klp_shadow_*() declarations (with CONFIG_LIVEPATCH) keep their
 * names, and a later #include of it is a no-op.
 */
#ifdef KPP_CORE
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

#define klp_shadow_ctor_t		kpp_shadow_ctor_t
#define klp_shadow_dtor_t		kpp_shadow_dtor_t
#define klp_shadow_get			kpp_shadow_get
#define klp_shadow_alloc		kpp_shadow_alloc
#define klp_shadow_get_or_alloc		kpp_shadow_get_or_alloc
#define klp_shadow_free			kpp_shadow_free
#define klp_shadow_free_all		kpp_shadow_free_all
#endif /* KPP_CORE */

/* The names kpatch users know. */
#define KPATCH_PRE_PATCH_CALLBACK(fn)	KPP_PRE_PATCH_CALLBACK(fn)
#define KPATCH_POST_PATCH_CALLBACK(fn)	KPP_POST_PATCH_CALLBACK(fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(fn)	KPP_PRE_UNPATCH_CALLBACK(fn)
#define KPATCH_POST_UNPATCH_CALLBACK(fn) KPP_POST_UNPATCH_CALLBACK(fn)
#define KPATCH_FORCE_UNSAFE(fn)		KPP_FORCE_UNSAFE(fn)
#define KPATCH_IGNORE_FUNCTION(fn)	KPP_IGNORE_FUNCTION(fn)
#define KPATCH_IGNORE_SECTION(name)	KPP_IGNORE_SECTION(name)
#define KPATCH_IGNORE_STATIC(name)	KPP_IGNORE_STATIC(name)
#define KPATCH_STATIC_CALL(name)	KPP_STATIC_CALL(name)
#define KPATCH_PRINTK(fmt, ...)		KPP_PRINTK(fmt, ##__VA_ARGS__)
#define KPATCH_PRINTK_DEFERRED(fmt, ...) KPP_PRINTK_DEFERRED(fmt, ##__VA_ARGS__)

#endif /* _KPATCHPP_MACROS_H */
