/* SPDX-License-Identifier: GPL-2.0 */
/* Internal declarations shared by the kpatch.ko source files. */
#ifndef _KPP_CORE_INTERNAL_H
#define _KPP_CORE_INTERNAL_H

#include <linux/mutex.h>
#include "kpatchpp-core.h"

/* One ftrace_ops per patched old function, shared by stacked patches. */
struct kpp_ops {
	struct ftrace_ops fops;
	unsigned long old_addr;
	unsigned long old_size;
	struct list_head funcs;		/* kpp_core_func.stack_node, newest first */
	struct list_head node;		/* on kpp_ops_list */
};

extern struct mutex kpp_mutex;

/* lookup.c */
int kpp_lookup_init(void);
unsigned long kpp_lookup_name(const char *name);
int kpp_symbol_at(unsigned long addr, char *name, size_t len,
		  unsigned long *offset, unsigned long *size);
int kpp_lookup_sym(const char *objname, const char *name,
		   unsigned long sympos, unsigned long *addr);

/* core.c */
int kpp_enable_patch(struct kpp_core_patch *patch);
int kpp_disable_patch(struct kpp_core_patch *patch);

/* shadow.c */
void kpp_shadow_exit(void);

/* sysfs.c */
int kpp_sysfs_init(void);
void kpp_sysfs_exit(void);
int kpp_sysfs_add_patch(struct kpp_core_patch *patch);
void kpp_sysfs_del_patch(struct kpp_core_patch *patch);

#endif /* _KPP_CORE_INTERNAL_H */
