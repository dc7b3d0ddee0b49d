# uname -r gains a "-kpp" suffix while the patch is enabled (override_release; the syscall body __do_sys_newuname is notrace).
kpp_functions="override_release"
check_original() {
	local r
	r=$(uname -r)
	[ -n "${uname_orig:-}" ] || uname_orig=$r
	kpp_assert_eq "$1-release" "$uname_orig" "$r"
	case "$r" in *-kpp) kpp_fail "$1-nosuffix" "'$r' ends in -kpp" ;; *) kpp_pass "$1-nosuffix" "'$r'" ;; esac
}
check_patched() { kpp_assert_eq "$1-release" "$uname_orig-kpp" "$(uname -r)"; }
