/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kpatch.ko does differently on each architecture, implemented by
 * arch/<arch>.c (one of them is built, see Kbuild).
 */
#ifndef _KPP_CORE_ARCH_H
#define _KPP_CORE_ARCH_H

#include <linux/ftrace.h>
#include <linux/sched.h>
#include "kpatchpp-core.h"

/* Look up the kernel functions below need (kallsyms works by then). */
int kpp_arch_init(void);

/*
 * How far the running kernel moved from its link-time addresses (KASLR),
 * given @vmlinux_text, _text's address in the vmlinux a patch was built
 * against; an error when that vmlinux cannot be this kernel's.
 */
int kpp_arch_kaslr_offset(unsigned long vmlinux_text, long *offset);

/*
 * From the ftrace handler: resume at @addr instead of the traced function,
 * with the arguments and return address the caller set up.
 */
void kpp_arch_redirect(struct ftrace_regs *fregs, unsigned long addr);

/*
 * Return addresses on @tsk's stack (not running), innermost first, at most
 * @size; the count, or a negative error when the stack cannot be trusted.
 */
int kpp_arch_save_stack(struct task_struct *tsk, unsigned long *store,
			unsigned int size);

/*
 * How many bytes at r->loc relocation type @type fills, 0 when kpatch.ko
 * does not support the type here.
 */
size_t kpp_arch_reloc_len(unsigned int type);

/*
 * The @len bytes to store at r->loc for @r against a symbol at @sym, from
 * the @len bytes there now (@field): -ERANGE when the value does not fit,
 * -ENOTEMPTY when the field was not left empty for it (applied twice, or a
 * malformed table), -EINVAL for anything else wrong with @r. May write
 * other parts of @mod that @r names (an AArch64 branch veneer).
 */
int kpp_arch_reloc_field(struct module *mod, const struct kpp_core_reloc *r,
			 unsigned long sym, u8 *field, size_t len);

/*
 * Store @len bytes at @addr in the patch module's read-only text or data,
 * which no CPU executes yet (the patch is enabled later, in stop_machine()).
 */
int kpp_arch_write(void *addr, const void *bytes, size_t len);

#endif /* _KPP_CORE_ARCH_H */
