/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch compatibility: the header name patches written for kpatch include.
 *
 *	#include "kpatch-macros.h"
 *
 * kpatch-build puts this file into the kernel tree as include/kpatch-macros.h
 * for the original and the patched build only (the kernel's own
 * -I$(srctree)/include finds it from any source file, and from out-of-tree
 * modules), as it does with <linux/kpatchpp-macros.h>, which defines the
 * annotations under both names (KPP_* and KPATCH_*).
 *
 * kpatch's callbacks take a `patch_object *`: with the livepatch core that
 * is the klp_object the callback belongs to; for a kpatch.ko (kmod/core)
 * patch module it is what the core passes (docs/core.md). As kpatch's
 * header did, this one also brings the syscall macros (kpatch-syscall.h).
 */
#ifndef _KPATCHPP_KPATCH_MACROS_H
#define _KPATCHPP_KPATCH_MACROS_H

#include <linux/kpatchpp-macros.h>
#include "kpatch-syscall.h"

typedef struct klp_object patch_object;

#endif /* _KPATCHPP_KPATCH_MACROS_H */
