# /proc/meminfo's first label changes while the patch is enabled.
kpp_functions="meminfo_proc_show"
check_original() { kpp_assert_contains "$1-label" "MemTotal:       " "$(head -1 /proc/meminfo)"; }
check_patched() { kpp_assert_contains "$1-label" "MemTotal(kpatch++): " "$(head -1 /proc/meminfo)"; }
