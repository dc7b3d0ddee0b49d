# A header change: fs/proc/internal.h gains the MemTotal label that
# meminfo.c now uses. kpatch-build rebuilds every object that reads the
# header (all of fs/proc/ but a few) and finds only meminfo_proc_show
# changed: the patch must replace exactly that function.
kpp_functions="meminfo_proc_show"
check_original() { kpp_assert_contains "$1-label" "MemTotal:       " "$(head -1 /proc/meminfo)"; }
check_patched() {
	kpp_assert_contains "$1-label" "MemTotal(kpatch++ header): " "$(head -1 /proc/meminfo)"
	kpp_assert_eq "$1-only-meminfo" " vmlinux/meminfo_proc_show" "$(kpp_patched_functions "$patch")"
}
