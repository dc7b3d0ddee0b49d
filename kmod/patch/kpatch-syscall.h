/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch compatibility: KPATCH_SYSCALL_DEFINE1..6 for patches to system calls.
 *
 *	#include "kpatch-syscall.h"
 *
 *	-SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)
 *	+KPATCH_SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)
 *
 * Why: SYSCALL_DEFINEn puts the body of a system call into
 * __do_sys_NAME, which is `static inline`, and the kernel's `inline` means
 * notrace. When the compiler keeps that body out of line it has no ftrace
 * hook, so a change to it cannot be redirected and the patch is refused.
 * KPATCH_SYSCALL_DEFINEn builds the same entry stubs (__x64_sys_NAME and,
 * with IA32 emulation, __ia32_sys_NAME; __arm64_sys_NAME on arm64) around a
 * body named __kpatch_do_sys_NAME that is an ordinary static function: in
 * the patched object it is a new function (copied into the patch module)
 * and the stubs, which have ftrace hooks, are the functions replaced.
 * The syscall's metadata (SYSCALL_METADATA, error-injection entries) stays
 * the running kernel's.
 *
 * kpatch-build puts this file into the kernel tree as include/kpatch-syscall.h
 * for the two builds only, like kpatch-macros.h.
 */
#ifndef _KPATCHPP_KPATCH_SYSCALL_H
#define _KPATCHPP_KPATCH_SYSCALL_H

#include <linux/syscalls.h>

/* What every architecture's __se_sys_NAME does: sign-extend, call, check. */
#define __KPP_SYSCALL_SE_DEFINEx(x, name, ...)				\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__))	\
	{								\
		long ret = __kpatch_do_sys##name(			\
				__MAP(x, __SC_CAST, __VA_ARGS__));	\
		__MAP(x, __SC_TEST, __VA_ARGS__);			\
		__PROTECT(x, ret, __MAP(x, __SC_ARGS, __VA_ARGS__));	\
		return ret;						\
	}

#define __KPP_SYSCALL_DECLAREx(x, name, ...)				\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__));	\
	static long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))

#if defined(CONFIG_X86_64)
/* arch/x86/include/asm/syscall_wrapper.h's stubs, unchanged. */
#define __KPP_SYSCALL_DEFINEx(x, name, ...)				\
	__KPP_SYSCALL_DECLAREx(x, name, __VA_ARGS__);			\
	__X64_SYS_STUBx(x, name, __VA_ARGS__)				\
	__IA32_SYS_STUBx(x, name, __VA_ARGS__)				\
	__KPP_SYSCALL_SE_DEFINEx(x, name, __VA_ARGS__)			\
	static long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))
#elif defined(CONFIG_ARM64)
/* arch/arm64/include/asm/syscall_wrapper.h's stub. */
#define __KPP_SYSCALL_DEFINEx(x, name, ...)				\
	asmlinkage long __arm64_sys##name(const struct pt_regs *regs);	\
	__KPP_SYSCALL_DECLAREx(x, name, __VA_ARGS__);			\
	asmlinkage long __arm64_sys##name(const struct pt_regs *regs)	\
	{								\
		return __se_sys##name(					\
			SC_ARM64_REGS_TO_ARGS(x, __VA_ARGS__));		\
	}								\
	__KPP_SYSCALL_SE_DEFINEx(x, name, __VA_ARGS__)			\
	static long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))
#else
/* An error where it is used: kpatch-macros.h includes this header too. */
#define __KPP_SYSCALL_DEFINEx(x, name, ...)				\
	_Static_assert(0, "kpatch-syscall.h: KPATCH_SYSCALL_DEFINEn "	\
		       "supports x86_64 and arm64; use SYSCALL_DEFINEn "	\
		       "and patch the functions the system call calls");	\
	static long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))
#endif

#define KPATCH_SYSCALL_DEFINE1(name, ...) __KPP_SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) __KPP_SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) __KPP_SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) __KPP_SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) __KPP_SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) __KPP_SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

#endif /* _KPATCHPP_KPATCH_SYSCALL_H */
