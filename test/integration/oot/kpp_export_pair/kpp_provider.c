// SPDX-License-Identifier: GPL-2.0
/*
 * The exporting half of kpatch++'s module-export test pair: kpp_consumer
 * calls kpp_provider_value(). A patch to kpp_consumer reaches it through a
 * livepatch relocation, so it neither depends on nor needs this module.
 */
#include <linux/module.h>

static int kpp_provider_base = 7;

int kpp_provider_value(int input)
{
	return input * kpp_provider_base;
}
EXPORT_SYMBOL_GPL(kpp_provider_value);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch++ test module exporting a function");
