# meminfo_proc_show calls vm_commit_limit through a function pointer and
# relabels its line. On the ibt-sig kernel, vmlinux seals vm_commit_limit's
# ENDBR (nothing takes its address), so kpatch-build must refuse there
# (expect-refusal-ibt-sig); elsewhere the patch loads and works.
kpp_functions="meminfo_proc_show"
commit_limit() { grep '^CommitLimit' /proc/meminfo; }
check_original() { kpp_assert_contains "$1-label" "CommitLimit:    " "$(commit_limit)"; }
check_patched() { kpp_assert_contains "$1-label" "CommitLimit(kpp):" "$(commit_limit)"; }
