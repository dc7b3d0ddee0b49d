// SPDX-License-Identifier: GPL-2.0
/*
 * Microbenchmark for kpatch.ko, run at insmod: the per-call cost of a
 * function redirected by the core against the same call unpatched, and the
 * enable and disable latency. The patched function is this module's own
 * kpp_bench_target(), given to the core by address. Results go to the
 * kernel log and to read-only parameters (nanoseconds, *_ps picoseconds
 * per call). Loops are long because the guest clock may be jiffies.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include "../kpatchpp-core.h"

static unsigned int iterations = 2000000;
module_param(iterations, uint, 0400);
MODULE_PARM_DESC(iterations, "calls per measurement");

static unsigned int cycles = 20;
module_param(cycles, uint, 0400);
MODULE_PARM_DESC(cycles, "disable+enable cycles timed for the switch latency");

static unsigned long plain_ps, direct_ps, redirected_ps;
static unsigned long enable_ns, disable_ns, switch_ns;
module_param(plain_ps, ulong, 0444);
module_param(direct_ps, ulong, 0444);
module_param(redirected_ps, ulong, 0444);
module_param(enable_ns, ulong, 0444);
module_param(disable_ns, ulong, 0444);
module_param(switch_ns, ulong, 0444);

static noinline int kpp_bench_target(int x)
{
	return x * 3 + 1;
}

/* Different body: keeps GCC's identical-code folding away. */
static noinline int kpp_bench_new(int x)
{
	return x * 3 + 2;
}

static struct kpp_core_func kpp_bench_funcs[] = {
	{
		.old_name = "kpp_bench_target",
		.new_func = kpp_bench_new,
	},
};

static struct kpp_core_patch kpp_bench_patch = {
	.mod = THIS_MODULE,
	.funcs = kpp_bench_funcs,
	.nr_funcs = ARRAY_SIZE(kpp_bench_funcs),
};

static bool kpp_bench_wrong;

/* Best of 3 runs, in picoseconds per call; @want is the expected x=0 result. */
static unsigned long kpp_bench_run(int (*fn)(int), int want)
{
	int (*call)(int) = fn;
	unsigned long best = ULONG_MAX;
	unsigned int round, i;
	u64 t0, t1;
	int sum = 0;

	OPTIMIZER_HIDE_VAR(call);
	if (call(0) != want) {
		pr_err("unexpected result %d from %ps, want %d\n", call(0), fn, want);
		kpp_bench_wrong = true;
	}
	for (round = 0; round < 3; round++) {
		t0 = ktime_get_ns();
		for (i = 0; i < iterations; i++)
			sum += call(i);
		t1 = ktime_get_ns();
		best = min_t(unsigned long, best,
			     div_u64((t1 - t0) * 1000, iterations));
	}
	return sum == 42 ? best + 1 : best;	/* keeps the loop */
}

static int __init kpp_bench_init(void)
{
	unsigned int i;
	u64 t0;
	int ret;

	if (!iterations)
		return -EINVAL;
	kpp_bench_funcs[0].old_addr = (unsigned long)kpp_bench_target;

	plain_ps = kpp_bench_run(kpp_bench_target, 1);
	direct_ps = kpp_bench_run(kpp_bench_new, 2);

	t0 = ktime_get_ns();
	ret = kpp_core_register(&kpp_bench_patch);
	enable_ns = ktime_get_ns() - t0;
	if (ret)
		return ret;
	redirected_ps = kpp_bench_run(kpp_bench_target, 2);

	/* Average over cycles: the guest clock may tick at HZ. */
	t0 = ktime_get_ns();
	for (i = 0; i < cycles; i++) {
		ret = kpp_core_set_enabled(&kpp_bench_patch, false);
		if (!ret)
			ret = kpp_core_set_enabled(&kpp_bench_patch, true);
		if (ret)
			goto err_unregister;
	}
	switch_ns = cycles ? div_u64(ktime_get_ns() - t0, 2 * cycles) : 0;

	t0 = ktime_get_ns();
	ret = kpp_core_set_enabled(&kpp_bench_patch, false);
	disable_ns = ktime_get_ns() - t0;
	if (ret)
		goto err_unregister;
	kpp_bench_run(kpp_bench_target, 1);	/* restored? */
	if (kpp_bench_wrong) {
		ret = -EINVAL;
		goto err_unregister;
	}
	pr_info("per call: plain %lu.%03lu ns, replacement direct %lu.%03lu ns, redirected %lu.%03lu ns; register %llu us, disable %llu us, mean switch %llu us\n",
		plain_ps / 1000, plain_ps % 1000, direct_ps / 1000,
		direct_ps % 1000, redirected_ps / 1000, redirected_ps % 1000,
		div_u64(enable_ns, 1000), div_u64(disable_ns, 1000),
		div_u64(switch_ns, 1000));
	return 0;

err_unregister:
	kpp_core_unregister(&kpp_bench_patch);
	return ret;
}

static void __exit kpp_bench_exit(void)
{
	kpp_core_unregister(&kpp_bench_patch);
}

module_init(kpp_bench_init);
module_exit(kpp_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core microbenchmark");
