/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Clearing a patch module's livepatch relocation targets for a module
 * (kpatchpp-module-relocs.c), used by kpatchpp-template.c.
 */
#ifndef _KPATCHPP_MODULE_RELOCS_H
#define _KPATCHPP_MODULE_RELOCS_H

#include <linux/livepatch.h>

void kpp_module_relocs_gone(struct klp_object *obj);

#endif /* _KPATCHPP_MODULE_RELOCS_H */
