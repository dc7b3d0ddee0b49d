// SPDX-License-Identifier: GPL-2.0
/*
 * The using half of kpatch++'s module-export test pair: reading
 * /proc/kpp_consumer prints kpp_consumer_compute(6), which asks
 * kpp_provider for its value.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

int kpp_provider_value(int input);

static noinline int kpp_consumer_compute(int input)
{
	return kpp_provider_value(input);
}

static int kpp_consumer_show(struct seq_file *m, void *v)
{
	seq_printf(m, "kpp_consumer: %d\n", kpp_consumer_compute(6));
	return 0;
}

static int __init kpp_consumer_init(void)
{
	if (!proc_create_single("kpp_consumer", 0444, NULL, kpp_consumer_show))
		return -ENOMEM;
	return 0;
}

static void __exit kpp_consumer_exit(void)
{
	remove_proc_entry("kpp_consumer", NULL);
}

module_init(kpp_consumer_init);
module_exit(kpp_consumer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ test module using another module's export");
