// SPDX-License-Identifier: GPL-2.0
/*
 * An out-of-tree module with a tracepoint of its own, for kpatch++'s
 * integration tests: reading /proc/kpp_trace prints kpp_trace_compute(41),
 * which fires the module's kpp_trace_compute event.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#define CREATE_TRACE_POINTS
#include "kpp_trace_events.h"

static int kpp_trace_offset = 1;

static noinline int kpp_trace_compute(int input)
{
	trace_kpp_trace_compute(input);
	return input + kpp_trace_offset;
}

static int kpp_trace_show(struct seq_file *m, void *v)
{
	seq_printf(m, "kpp_trace: %d\n", kpp_trace_compute(41));
	return 0;
}

static int __init kpp_trace_init(void)
{
	if (!proc_create_single("kpp_trace", 0444, NULL, kpp_trace_show))
		return -ENOMEM;
	return 0;
}

static void __exit kpp_trace_exit(void)
{
	remove_proc_entry("kpp_trace", NULL);
}

module_init(kpp_trace_init);
module_exit(kpp_trace_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ test module with its own tracepoint");
