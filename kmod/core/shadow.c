// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow variables for patches run by kpatch.ko.
 *
 * A live patch cannot grow a structure the running kernel already laid
 * out, so it attaches the extra fields to the object instead: a block of
 * data keyed by (object pointer, id). Kernels without CONFIG_LIVEPATCH have
 * no klp_shadow_*(), so kpatch.ko keeps its own store with the same
 * interface and rules; linux/kpatchpp-macros.h maps the klp_ names onto
 * these when a patch is built for the core. The two stores are separate:
 * a variable attached through one is invisible to the other.
 *
 * Lookups run from patched code in any context (under RCU, lock-free);
 * additions and removals take one spinlock with interrupts off, because
 * the same patched function may run in process and interrupt context.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "core.h"

struct kpp_shadow {
	struct hlist_node node;
	struct rcu_head rcu;
	void *obj;
	unsigned long id;
	/* what the patch sees; kmalloc alignment, like any allocation */
	char data[] __aligned(ARCH_KMALLOC_MINALIGN);
};

/*
 * Keyed by the object alone, so that every variable of one object shares a
 * bucket; free_all() by id has to walk the whole table either way.
 */
#define KPP_SHADOW_BITS 12
static DEFINE_HASHTABLE(kpp_shadow_table, KPP_SHADOW_BITS);
static DEFINE_SPINLOCK(kpp_shadow_lock);

static struct kpp_shadow *kpp_shadow_find(void *obj, unsigned long id)
{
	struct kpp_shadow *s;

	hash_for_each_possible_rcu(kpp_shadow_table, s, node,
				   (unsigned long)obj,
				   lockdep_is_held(&kpp_shadow_lock))
		if (s->obj == obj && s->id == id)
			return s;
	return NULL;
}

/**
 * kpp_shadow_get() - the data of the shadow variable <@obj, @id>
 * @obj: the object the variable is attached to
 * @id: which of its variables
 *
 * Return: the data, or NULL if there is none. Like klp_shadow_get(), the
 * pointer stays valid only as long as the caller keeps anyone from freeing
 * the variable.
 */
void *kpp_shadow_get(void *obj, unsigned long id)
{
	struct kpp_shadow *s;
	void *data = NULL;

	rcu_read_lock();
	s = kpp_shadow_find(obj, id);
	if (s)
		data = s->data;
	rcu_read_unlock();
	return data;
}
EXPORT_SYMBOL_GPL(kpp_shadow_get);

static void *kpp_shadow_attach(void *obj, unsigned long id, size_t size,
			       gfp_t gfp_flags, kpp_shadow_ctor_t ctor,
			       void *ctor_data, bool existing_ok)
{
	struct kpp_shadow *fresh, *s;
	unsigned long flags;
	void *data;

	/* Most calls of get_or_alloc find the variable: no allocation then. */
	data = kpp_shadow_get(obj, id);
	if (data)
		return existing_ok ? data : NULL;

	/*
	 * Allocated before taking the lock, so GFP_KERNEL callers may sleep
	 * here; zeroed, as the klp store does, for ctor-less callers.
	 */
	fresh = kzalloc(struct_size(fresh, data, size), gfp_flags);
	if (!fresh)
		return NULL;

	spin_lock_irqsave(&kpp_shadow_lock, flags);
	s = kpp_shadow_find(obj, id);
	if (s) {
		/* Someone else attached it between our lookup and the lock. */
		spin_unlock_irqrestore(&kpp_shadow_lock, flags);
		kfree(fresh);
		return existing_ok ? s->data : NULL;
	}
	fresh->obj = obj;
	fresh->id = id;
	/*
	 * The constructor runs under the lock so that nobody can see the
	 * variable before it is initialised, nor create it twice; it must
	 * not sleep (the same rule as for klp_shadow_alloc()).
	 */
	if (ctor) {
		int ret = ctor(obj, fresh->data, ctor_data);

		if (ret) {
			spin_unlock_irqrestore(&kpp_shadow_lock, flags);
			kfree(fresh);
			pr_err("shadow variable <%p, %#lx>: constructor failed (%d)\n",
			       obj, id, ret);
			return NULL;
		}
	}
	hash_add_rcu(kpp_shadow_table, &fresh->node, (unsigned long)obj);
	spin_unlock_irqrestore(&kpp_shadow_lock, flags);
	return fresh->data;
}

/**
 * kpp_shadow_alloc() - attach a new shadow variable <@obj, @id>
 * @obj: the object to attach it to
 * @id: which of its variables
 * @size: bytes of data
 * @gfp_flags: for the allocation, which happens outside any lock
 * @ctor: NULL, or fills the (zeroed) data; runs under a spinlock with
 *	interrupts off, so it must not sleep; non-zero refuses
 * @ctor_data: passed to @ctor
 *
 * Return: the new data, or NULL if the variable exists already (unlike
 * klp_shadow_alloc(), without a WARN: the caller sees NULL and decides),
 * the allocation failed or @ctor refused.
 */
void *kpp_shadow_alloc(void *obj, unsigned long id, size_t size,
		       gfp_t gfp_flags, kpp_shadow_ctor_t ctor, void *ctor_data)
{
	return kpp_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data,
				 false);
}
EXPORT_SYMBOL_GPL(kpp_shadow_alloc);

/**
 * kpp_shadow_get_or_alloc() - the shadow variable <@obj, @id>, attached
 *	first if there is none
 * @obj: as for kpp_shadow_alloc()
 * @id: as for kpp_shadow_alloc()
 * @size: as for kpp_shadow_alloc()
 * @gfp_flags: as for kpp_shadow_alloc()
 * @ctor: as for kpp_shadow_alloc(), but run only for a new variable
 * @ctor_data: passed to @ctor
 *
 * Return: the data, or NULL if it had to be made and could not be.
 */
void *kpp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
			      gfp_t gfp_flags, kpp_shadow_ctor_t ctor,
			      void *ctor_data)
{
	return kpp_shadow_attach(obj, id, size, gfp_flags, ctor, ctor_data,
				 true);
}
EXPORT_SYMBOL_GPL(kpp_shadow_get_or_alloc);

/* Called with kpp_shadow_lock held. */
static void kpp_shadow_drop(struct kpp_shadow *s, kpp_shadow_dtor_t dtor)
{
	hash_del_rcu(&s->node);
	if (dtor)
		dtor(s->obj, s->data);
	/* kpp_shadow_get() callers may still be walking past it. */
	kfree_rcu(s, rcu);
}

/**
 * kpp_shadow_free() - detach and free the shadow variable <@obj, @id>
 * @obj: the object it is attached to
 * @id: which of its variables
 * @dtor: NULL, or releases what the data points to; runs under a spinlock
 *	with interrupts off, so it must not sleep
 *
 * Nothing happens if there is no such variable.
 */
void kpp_shadow_free(void *obj, unsigned long id, kpp_shadow_dtor_t dtor)
{
	struct kpp_shadow *s;
	unsigned long flags;

	spin_lock_irqsave(&kpp_shadow_lock, flags);
	s = kpp_shadow_find(obj, id);
	if (s)
		kpp_shadow_drop(s, dtor);
	spin_unlock_irqrestore(&kpp_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(kpp_shadow_free);

/**
 * kpp_shadow_free_all() - detach and free every shadow variable with @id
 * @id: which variables, on whatever object
 * @dtor: as for kpp_shadow_free(), called once per variable
 *
 * Typically called when the patch that attached them is disabled (a
 * post_unpatch callback), since nothing will free them later.
 */
void kpp_shadow_free_all(unsigned long id, kpp_shadow_dtor_t dtor)
{
	struct kpp_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&kpp_shadow_lock, flags);
	hash_for_each_safe(kpp_shadow_table, bkt, tmp, s, node)
		if (s->id == id)
			kpp_shadow_drop(s, dtor);
	spin_unlock_irqrestore(&kpp_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(kpp_shadow_free_all);

/*
 * At kpatch.ko unload no patch module is left (each one uses our symbols),
 * so no patched code can reach these variables any more, but patches that
 * did not free theirs leave them behind. Their destructors may have gone
 * with those modules, so the memory is freed without them.
 */
void kpp_shadow_exit(void)
{
	struct kpp_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags, n = 0;
	int bkt;

	spin_lock_irqsave(&kpp_shadow_lock, flags);
	hash_for_each_safe(kpp_shadow_table, bkt, tmp, s, node) {
		kpp_shadow_drop(s, NULL);
		n++;
	}
	spin_unlock_irqrestore(&kpp_shadow_lock, flags);
	if (n)
		pr_info("freed %lu shadow variable(s) that patches left behind\n",
			n);
}
