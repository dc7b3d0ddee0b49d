// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: misbehaves on request so that run-guest.sh can
 * be shown to notice kernel warnings and oopses.
 *   insmod kpp_selftest.ko action=warn   -> WARN_ON() splat, load succeeds
 *   insmod kpp_selftest.ko action=oops   -> NULL pointer dereference
 */
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/string.h>

static char *action = "none";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "none, warn or oops");

static int __init kpp_selftest_init(void)
{
	if (!strcmp(action, "warn")) {
		WARN_ON(1);
	} else if (!strcmp(action, "oops")) {
		/* volatile: keep the compiler from proving the store undefined */
		int *volatile p = NULL;
		*p = 1;
	}
	return 0;
}

static void __exit kpp_selftest_exit(void)
{
}

module_init(kpp_selftest_init);
module_exit(kpp_selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ integration harness self-test");
