// SPDX-License-Identifier: GPL-2.0
/*
 * Test patch for the activeness safety check: replaces hrtimer_nanosleep(),
 * where every task in nanosleep() sleeps, with a wrapper that counts calls
 * and calls the original (which the core must run unredirected: the call
 * comes from the replacement itself). Loading it while a task sleeps must
 * fail with -EBUSY unless force=1, and so must disabling it while a task
 * sleeps in the replacement.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include "../kpatchpp-core.h"

static atomic_t calls = ATOMIC_INIT(0);
module_param_named(calls, calls.counter, int, 0444);
MODULE_PARM_DESC(calls, "calls of the replacement");

static struct kpp_core_func kpp_busy_funcs[];

/* Read at every enable and disable: writable to test both directions. */
module_param_named(force, kpp_busy_funcs[0].force, bool, 0600);
MODULE_PARM_DESC(force, "skip the activeness safety check");

static long kpp_busy_hrtimer_nanosleep(ktime_t rqtp,
				       const enum hrtimer_mode mode,
				       const clockid_t clockid)
{
	long (*orig)(ktime_t rqtp, const enum hrtimer_mode mode,
		     const clockid_t clockid);

	long ret;

	/*
	 * Not a tail call: the core recognises the call to the original by
	 * its return address inside this function.
	 */
	orig = (void *)kpp_busy_funcs[0].old_addr;
	ret = orig(rqtp, mode, clockid);
	atomic_inc(&calls);
	return ret;
}

static struct kpp_core_func kpp_busy_funcs[] = {
	{
		.old_name = "hrtimer_nanosleep",
		.new_func = kpp_busy_hrtimer_nanosleep,
	},
};

static struct kpp_core_patch kpp_busy_patch = {
	.mod = THIS_MODULE,
	.funcs = kpp_busy_funcs,
	.nr_funcs = ARRAY_SIZE(kpp_busy_funcs),
};

static int __init kpp_busy_init(void)
{
	return kpp_core_register(&kpp_busy_patch);
}

static void __exit kpp_busy_exit(void)
{
	kpp_core_unregister(&kpp_busy_patch);
}

module_init(kpp_busy_init);
module_exit(kpp_busy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core test patch for the activeness safety check");
