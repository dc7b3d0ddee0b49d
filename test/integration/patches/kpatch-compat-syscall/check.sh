# A patch written for kpatch, unchanged: `#include "kpatch-macros.h"` with a
# callback taking kpatch's patch_object, and `#include "kpatch-syscall.h"`
# with KPATCH_SYSCALL_DEFINE1 for a change in the body of the newuname
# system call (SYSCALL_DEFINE1 would put it in the notrace __do_sys_newuname).
# uname -r gains "-kpatch" while the patch is enabled; the syscall's entry
# stub is the one function replaced (its new body is a new function).
kpp_functions="__x64_sys_newuname"
check_original() {
	local r
	r=$(uname -r)
	[ -n "${uname_orig:-}" ] || uname_orig=$r
	kpp_assert_eq "$1-release" "$uname_orig" "$r"
	if [ "$1" = before ]; then
		kpp_assert_eq "$1-no-callback" 0 "$(dmesg | grep -c kpp-kpatch-compat)"
	fi
}
check_patched() {
	kpp_assert_eq "$1-release" "$uname_orig-kpatch" "$(uname -r)"
	kpp_assert_eq "$1-pre_patch" 1 "$(dmesg | grep -c 'kpp-kpatch-compat: pre_patch vmlinux')"
}
