// SPDX-License-Identifier: GPL-2.0
/*
 * Test patch for the first-bytes check of kpatch.ko: replaces
 * cmdline_proc_show() like kpp_core_test.c, with the expected first bytes
 * and their mask given as hex strings (insmod kpp_core_bytes.ko
 * bytes=<32 hex digits> mask=<32 hex digits>), so the test can hand it the
 * bytes of the test kernel's vmlinux, correct or altered.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include "../kpatchpp-core.h"

static char *bytes = "";
module_param(bytes, charp, 0400);
MODULE_PARM_DESC(bytes, "expected first bytes of cmdline_proc_show, hex");

static char *mask = "";
module_param(mask, charp, 0400);
MODULE_PARM_DESC(mask, "which bits of those bytes are compared, hex");

static int kpp_bytes_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "kpatchpp-core: bytes checked\n");
	return 0;
}

static struct kpp_core_func kpp_bytes_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = kpp_bytes_cmdline_proc_show,
	},
};

static struct kpp_core_patch kpp_bytes_patch = {
	.mod = THIS_MODULE,
	.funcs = kpp_bytes_funcs,
	.nr_funcs = ARRAY_SIZE(kpp_bytes_funcs),
};

static int kpp_bytes_parse(const char *hex, u8 *out, const char *what)
{
	if (strlen(hex) != 2 * KPP_CORE_OLD_BYTES ||
	    hex2bin(out, hex, KPP_CORE_OLD_BYTES)) {
		pr_err("%s= wants %d hex digits\n", what, 2 * KPP_CORE_OLD_BYTES);
		return -EINVAL;
	}
	return 0;
}

static int __init kpp_bytes_init(void)
{
	struct kpp_core_func *f = &kpp_bytes_funcs[0];
	int ret;

	ret = kpp_bytes_parse(bytes, f->old_bytes, "bytes");
	if (!ret)
		ret = kpp_bytes_parse(mask, f->old_mask, "mask");
	if (!ret)
		ret = kpp_core_register(&kpp_bytes_patch);
	return ret;
}

static void __exit kpp_bytes_exit(void)
{
	kpp_core_unregister(&kpp_bytes_patch);
}

module_init(kpp_bytes_init);
module_exit(kpp_bytes_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ core test patch for the first-bytes check");
