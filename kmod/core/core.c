// SPDX-License-Identifier: GPL-2.0
/*
 * kpatch.ko - the kpatch++ ftrace patch engine for kernels without
 * CONFIG_LIVEPATCH.
 *
 * Every replaced function gets an ftrace_ops (shared by the patches that
 * replace the same function) whose handler moves the saved instruction
 * pointer to the newest active replacement. Patches are switched on and
 * off inside stop_machine(), after an activeness safety check: no task may
 * be sleeping inside code that is about to stop being used.
 */
#define pr_fmt(fmt) "kpatch: " fmt

#include <linux/delay.h>
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/stop_machine.h>
#include <linux/trace_recursion.h>
#include "arch.h"
#include "core.h"

#define KPP_MAX_STACK_ENTRIES 128

static unsigned int retries = 8;
module_param(retries, uint, 0644);
MODULE_PARM_DESC(retries, "safety-check attempts before -EBUSY (default 8)");

static unsigned int backoff_ms = 20;
module_param(backoff_ms, uint, 0644);
MODULE_PARM_DESC(backoff_ms, "first wait between attempts, doubled each time");

DEFINE_MUTEX(kpp_mutex);
static LIST_HEAD(kpp_ops_list);
static LIST_HEAD(kpp_patches);

/* Used only inside stop_machine(), serialised by kpp_mutex. */
static unsigned long kpp_entries[KPP_MAX_STACK_ENTRIES];

/* What one stop_machine() call does and, on -EBUSY, why it refused. */
struct kpp_switch {
	struct kpp_core_patch *patch;
	bool enable;
	/* refusal, reported after stop_machine() returns */
	char comm[TASK_COMM_LEN];
	pid_t pid;
	const char *func;
	unsigned long addr;
	int stack_err;
};

static void notrace kpp_ftrace_handler(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *fops,
				       struct ftrace_regs *fregs)
{
	struct kpp_ops *ops = container_of(fops, struct kpp_ops, fops);
	struct kpp_core_func *func;
	int bit;

	/* Also disables preemption: stop_machine() never lands in here. */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (WARN_ON_ONCE(bit < 0))
		return;

	list_for_each_entry_rcu(func, &ops->funcs, stack_node) {
		if (!READ_ONCE(func->active))
			continue;
		/*
		 * A replacement that calls the function it replaces gets the
		 * original: redirecting would recurse into itself.
		 */
		if (parent_ip - func->new_addr >= func->new_size)
			kpp_arch_redirect(fregs, func->new_addr);
		break;
	}

	ftrace_test_recursion_unlock(bit);
}

static struct kpp_ops *kpp_find_ops(unsigned long old_addr)
{
	struct kpp_ops *ops;

	list_for_each_entry(ops, &kpp_ops_list, node)
		if (ops->old_addr == old_addr)
			return ops;
	return NULL;
}

/* The newest active function on @ops, or NULL (the original runs). */
static struct kpp_core_func *kpp_top_func(struct kpp_ops *ops)
{
	struct kpp_core_func *func;

	list_for_each_entry(func, &ops->funcs, stack_node)
		if (func->active)
			return func;
	return NULL;
}

/* Remove an inactive @func from its ops; drop the ops when it empties. */
static void kpp_detach_func(struct kpp_core_func *func)
{
	struct kpp_ops *ops = func->ops;
	int ret;

	if (!ops)
		return;
	list_del_rcu(&func->stack_node);
	func->ops = NULL;
	if (!list_empty(&ops->funcs)) {
		/* A handler may still be walking past @func. */
		synchronize_rcu();
		return;
	}
	/* Waits for every running handler before returning. */
	ret = unregister_ftrace_function(&ops->fops);
	if (ret)
		pr_warn("unregistering the ftrace ops of %pS failed: %d\n",
			(void *)ops->old_addr, ret);
	ftrace_free_filter(&ops->fops);
	list_del(&ops->node);
	kfree(ops);
}

/* Put an inactive @func on the ftrace ops of its old function. */
static int kpp_attach_func(struct kpp_core_func *func)
{
	struct kpp_ops *ops;
	int ret;

	ops = kpp_find_ops(func->old_addr);
	if (ops) {
		list_add_rcu(&func->stack_node, &ops->funcs);
		func->ops = ops;
		return 0;
	}

	ops = kzalloc(sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	ops->old_addr = func->old_addr;
	ops->old_size = func->old_size;
	INIT_LIST_HEAD(&ops->funcs);
	ops->fops.func = kpp_ftrace_handler;
	ops->fops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_DYNAMIC |
			  FTRACE_OPS_FL_IPMODIFY;
	list_add_rcu(&func->stack_node, &ops->funcs);
	func->ops = ops;

	ret = ftrace_set_filter_ip(&ops->fops, func->old_addr, 0, 0);
	if (ret) {
		pr_err("cannot trace %s at %pS: %d\n", func->old_name,
		       (void *)func->old_addr, ret);
		goto err_free;
	}
	ret = register_ftrace_function(&ops->fops);
	if (ret) {
		pr_err("cannot register the ftrace ops of %s: %d\n",
		       func->old_name, ret);
		goto err_filter;
	}
	list_add(&ops->node, &kpp_ops_list);
	return 0;

err_filter:
	ftrace_free_filter(&ops->fops);
err_free:
	func->ops = NULL;
	kfree(ops);
	return ret;
}

static bool kpp_in(unsigned long addr, unsigned long start, unsigned long size)
{
	return addr - start < size;
}

/*
 * Does @addr lie in code that stops being used by this switch? Enabling
 * @func leaves the code that runs today (the old function, or the newest
 * replacement already active); disabling leaves @func's new version.
 */
static bool kpp_addr_busy(struct kpp_core_func *func, bool enable,
			  unsigned long addr)
{
	struct kpp_core_func *top;

	if (!enable)
		return kpp_in(addr, func->new_addr, func->new_size);
	if (kpp_in(addr, func->old_addr, func->old_size))
		return true;
	top = kpp_top_func(func->ops);
	return top && kpp_in(addr, top->new_addr, top->new_size);
}

static bool kpp_stack_busy(struct kpp_switch *sw, unsigned int nr)
{
	struct kpp_core_patch *patch = sw->patch;
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		for (j = 0; j < patch->nr_funcs; j++) {
			struct kpp_core_func *func = &patch->funcs[j];

			if (func->force)
				continue;
			if (kpp_addr_busy(func, sw->enable, kpp_entries[i])) {
				sw->func = func->old_name;
				sw->addr = kpp_entries[i];
				return true;
			}
		}
	}
	return false;
}

static bool kpp_needs_check(struct kpp_core_patch *patch)
{
	unsigned int i;

	for (i = 0; i < patch->nr_funcs; i++)
		if (!patch->funcs[i].force)
			return true;
	return false;
}

/*
 * Runs with every CPU in stop_machine(): tasks other than the stopper
 * threads are off CPU, so their stacks are stable. The stoppers (current,
 * and the one running on each other CPU) sit in stop_machine code.
 */
static int kpp_check_tasks(struct kpp_switch *sw)
{
	struct task_struct *g, *t;
	int nr, ret = 0;

	if (!kpp_needs_check(sw->patch))
		return 0;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (t == current)
			continue;
#ifdef CONFIG_SMP
		if (READ_ONCE(t->on_cpu))
			continue;
#endif
		nr = kpp_arch_save_stack(t, kpp_entries,
					 ARRAY_SIZE(kpp_entries));
		if (nr < 0 || kpp_stack_busy(sw, nr)) {
			get_task_comm(sw->comm, t);
			sw->pid = task_pid_nr(t);
			sw->stack_err = nr < 0 ? nr : 0;
			ret = -EBUSY;
			goto out;
		}
	}
out:
	rcu_read_unlock();
	return ret;
}

static int kpp_switch_fn(void *data)
{
	struct kpp_switch *sw = data;
	struct kpp_core_patch *patch = sw->patch;
	unsigned int i;
	int ret;

	ret = kpp_check_tasks(sw);
	if (ret)
		return ret;
	for (i = 0; i < patch->nr_funcs; i++)
		WRITE_ONCE(patch->funcs[i].active, sw->enable);
	return 0;
}

/* stop_machine() with the safety check, retried with backoff. */
static int kpp_switch(struct kpp_core_patch *patch, bool enable)
{
	struct kpp_switch sw = { .patch = patch, .enable = enable };
	unsigned int attempt, wait = backoff_ms;
	int ret;

	for (attempt = 0; ; attempt++) {
		ret = stop_machine(kpp_switch_fn, &sw, NULL);
		if (ret != -EBUSY || attempt + 1 >= max(retries, 1U))
			break;
		msleep(wait);
		wait = min(wait * 2, 1000U);
	}
	if (ret == -EBUSY) {
		if (sw.stack_err)
			pr_err("%s: cannot %s %s: no reliable stack for task %s (pid %d): %d\n",
			       patch->name, enable ? "enable" : "disable",
			       patch->name, sw.comm, sw.pid, sw.stack_err);
		else
			pr_err("%s: cannot %s: task %s (pid %d) is inside %s (%pS) after %u attempts\n",
			       patch->name, enable ? "enable" : "disable",
			       sw.comm, sw.pid, sw.func, (void *)sw.addr,
			       attempt + 1);
	}
	return ret;
}

int kpp_enable_patch(struct kpp_core_patch *patch)
{
	unsigned int i = 0;
	int ret;

	lockdep_assert_held(&kpp_mutex);
	if (patch->pre_enable) {
		ret = patch->pre_enable(patch);
		if (ret) {
			pr_err("%s: pre-enable hook refused: %d\n", patch->name, ret);
			return ret;
		}
	}
	for (; i < patch->nr_funcs; i++) {
		ret = kpp_attach_func(&patch->funcs[i]);
		if (ret)
			goto err_detach;
	}
	ret = kpp_switch(patch, true);
	if (ret)
		goto err_detach;
	patch->enabled = true;
	if (patch->post_enable)
		patch->post_enable(patch);
	pr_debug("%s: enabled\n", patch->name);
	return 0;

err_detach:
	while (i--)
		kpp_detach_func(&patch->funcs[i]);
	if (patch->post_disable)
		patch->post_disable(patch);
	return ret;
}

int kpp_disable_patch(struct kpp_core_patch *patch)
{
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpp_mutex);
	if (patch->pre_disable)
		patch->pre_disable(patch);
	ret = kpp_switch(patch, false);
	if (ret) {
		if (patch->post_enable)
			patch->post_enable(patch);
		return ret;
	}
	for (i = patch->nr_funcs; i--; )
		kpp_detach_func(&patch->funcs[i]);
	patch->enabled = false;
	if (patch->post_disable)
		patch->post_disable(patch);
	pr_debug("%s: disabled\n", patch->name);
	return 0;
}

/*
 * The old function must start with the bytes the patch was built against,
 * where its mask says they are stable (kpp_core_func.old_bytes).
 */
static int kpp_check_old_bytes(struct kpp_core_patch *patch,
			       struct kpp_core_func *func)
{
	u8 have[KPP_CORE_OLD_BYTES];
	size_t i, n = min_t(size_t, KPP_CORE_OLD_BYTES, func->old_size);

	if (!memchr_inv(func->old_mask, 0, sizeof(func->old_mask)))
		return 0;
	if (copy_from_kernel_nofault(have, (void *)func->old_addr, n)) {
		pr_err("%s: cannot read %s at %#lx\n", patch->name,
		       func->old_name, func->old_addr);
		return -EFAULT;
	}
	for (i = 0; i < KPP_CORE_OLD_BYTES; i++) {
		if (!func->old_mask[i])
			continue;
		if (i >= n || ((have[i] ^ func->old_bytes[i]) & func->old_mask[i])) {
			pr_err("%s: %s does not start with the bytes the patch was built against (byte %zu): running %*ph, expected %*ph, mask %*ph\n",
			       patch->name, func->old_name, i, (int)n, have,
			       KPP_CORE_OLD_BYTES, func->old_bytes,
			       KPP_CORE_OLD_BYTES, func->old_mask);
			return -EINVAL;
		}
	}
	return 0;
}

/* Find the old function and check what the patch module claims about it. */
static int kpp_resolve_func(struct kpp_core_patch *patch,
			    struct kpp_core_func *func, long kaslr)
{
	char name[KSYM_NAME_LEN];
	unsigned long off, size;
	int ret;

	if (!func->old_name || !func->new_func) {
		pr_err("%s: a function lacks old_name or new_func\n", patch->name);
		return -EINVAL;
	}
	if (func->old_addr) {
		func->old_addr += kaslr;
	} else {
		ret = kpp_lookup_sym(NULL, func->old_name, func->sympos,
				     &func->old_addr);
		if (ret) {
			pr_err("%s: %s %s in the running kernel\n", patch->name,
			       ret == -EINVAL ? "more than one symbol named (needs a sympos)"
					      : "no symbol",
			       func->old_name);
			return ret;
		}
	}

	ret = kpp_symbol_at(func->old_addr, name, sizeof(name), &off, &size);
	if (ret || off || strcmp(name, func->old_name)) {
		pr_err("%s: address %#lx is not %s in the running kernel\n",
		       patch->name, func->old_addr, func->old_name);
		return -EINVAL;
	}
	/* kallsyms sizes include the alignment padding up to the next symbol. */
	if (func->old_size && (func->old_size > size || size - func->old_size >= 64)) {
		pr_err("%s: %s is %lu bytes in the running kernel, the patch expects %lu\n",
		       patch->name, func->old_name, size, func->old_size);
		return -EINVAL;
	}
	if (!func->old_size)
		func->old_size = size;
	ret = kpp_check_old_bytes(patch, func);
	if (ret)
		return ret;

	func->new_addr = (unsigned long)func->new_func;
	if (!func->new_size) {
		ret = kpp_symbol_at(func->new_addr, name, sizeof(name), &off, &size);
		if (ret || off) {
			pr_err("%s: cannot size the new version of %s\n",
			       patch->name, func->old_name);
			return -EINVAL;
		}
		func->new_size = size;
	}
	if (!within_module(func->new_addr, patch->mod)) {
		pr_err("%s: new %s is not in the patch module\n",
		       patch->name, func->old_name);
		return -EINVAL;
	}
	return 0;
}

int kpp_core_register(struct kpp_core_patch *patch)
{
	long kaslr = 0;
	unsigned int i;
	int ret;

	if (!patch || !patch->mod || !patch->funcs || !patch->nr_funcs)
		return -EINVAL;
	if (!patch->name)
		patch->name = patch->mod->name;
	if (patch->vmlinux_text) {
		ret = kpp_arch_kaslr_offset(patch->vmlinux_text, &kaslr);
		if (ret)
			return ret;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpp_core_func *func = &patch->funcs[i];

		func->ops = NULL;
		func->active = false;
		INIT_LIST_HEAD(&func->stack_node);
		ret = kpp_resolve_func(patch, func, kaslr);
		if (ret)
			return ret;
	}

	ret = kpp_sysfs_add_patch(patch);
	if (ret)
		return ret;

	mutex_lock(&kpp_mutex);
	ret = kpp_enable_patch(patch);
	if (ret) {
		mutex_unlock(&kpp_mutex);
		kpp_sysfs_del_patch(patch);
		return ret;
	}
	/* Held while enabled: rmmod waits for "echo 0 > enabled". */
	__module_get(patch->mod);
	list_add(&patch->node, &kpp_patches);
	patch->registered = true;
	mutex_unlock(&kpp_mutex);
	pr_notice("%s: registered and enabled (%u functions)\n", patch->name,
		  patch->nr_funcs);
	return 0;
}
EXPORT_SYMBOL_GPL(kpp_core_register);

/*
 * kpp_core_set_enabled - what a write to /sys/kernel/kpatch/<patch>/enabled
 * does: enabling takes a reference on the patch module, disabling drops it.
 */
int kpp_core_set_enabled(struct kpp_core_patch *patch, bool enable)
{
	int ret = 0;

	mutex_lock(&kpp_mutex);
	if (!patch->registered || patch->enabled == enable)
		goto out;
	if (enable) {
		if (!try_module_get(patch->mod)) {
			ret = -ENODEV;
			goto out;
		}
		ret = kpp_enable_patch(patch);
		if (ret)
			module_put(patch->mod);
	} else {
		ret = kpp_disable_patch(patch);
		if (!ret)
			module_put(patch->mod);
	}
out:
	mutex_unlock(&kpp_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(kpp_core_set_enabled);

void kpp_core_unregister(struct kpp_core_patch *patch)
{
	if (!patch || !patch->registered)
		return;
	/* First: drains sysfs writers, which take kpp_mutex. */
	kpp_sysfs_del_patch(patch);

	mutex_lock(&kpp_mutex);
	/*
	 * Only from the patch module's init error path or a forced rmmod:
	 * the reference held while enabled normally prevents it.
	 */
	if (patch->enabled) {
		if (kpp_disable_patch(patch))
			pr_err("%s: unloaded while enabled and busy; its code stays in use\n",
			       patch->name);
		else
			module_put(patch->mod);
	}
	list_del(&patch->node);
	patch->registered = false;
	mutex_unlock(&kpp_mutex);
}
EXPORT_SYMBOL_GPL(kpp_core_unregister);

static int __init kpp_core_init(void)
{
	int ret;

	ret = kpp_lookup_init();
	if (ret)
		return ret;
	ret = kpp_arch_init();
	if (ret)
		return ret;
	ret = kpp_sysfs_init();
	if (ret)
		return ret;
	pr_info("core loaded\n");
	return 0;
}

static void __exit kpp_core_exit(void)
{
	WARN_ON(!list_empty(&kpp_patches));
	kpp_sysfs_exit();
	kpp_shadow_exit();
}

module_init(kpp_core_init);
module_exit(kpp_core_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core: ftrace patch engine with a stop_machine consistency check");
