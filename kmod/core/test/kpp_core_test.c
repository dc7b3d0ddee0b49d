// SPDX-License-Identifier: GPL-2.0
/*
 * Test patch for kpatch.ko: replaces cmdline_proc_show() (/proc/cmdline)
 * with a version that prints KPP_TEST_MSG. kpp_core_test2.c builds the same
 * patch with another message, for the stacking test.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/seq_file.h>
#include "../kpatchpp-core.h"

#ifndef KPP_TEST_MSG
#define KPP_TEST_MSG "kpatchpp-core: patched cmdline"
#endif

static int kpp_test_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, KPP_TEST_MSG "\n");
	return 0;
}

static struct kpp_core_func kpp_test_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = kpp_test_cmdline_proc_show,
	},
};

static struct kpp_core_patch kpp_test_patch = {
	.mod = THIS_MODULE,
	.funcs = kpp_test_funcs,
	.nr_funcs = ARRAY_SIZE(kpp_test_funcs),
};

static int __init kpp_test_init(void)
{
	return kpp_core_register(&kpp_test_patch);
}

static void __exit kpp_test_exit(void)
{
	kpp_core_unregister(&kpp_test_patch);
}

module_init(kpp_test_init);
module_exit(kpp_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core test patch for /proc/cmdline");
