# KPATCH_FORCE_UNSAFE and KPATCH_IGNORE_FUNCTION (docs/patch-authors-guide.md):
# version_proc_show changes and is marked force-unsafe (the livepatch
# template logs the mark); loadavg_proc_show changes too but is marked
# ignored, so the patch leaves /proc/loadavg alone.
kpp_functions="version_proc_show"
check_original() {
	kpp_assert_eq "$1-version" 1 "$(wc -l < /proc/version | tr -d ' ')"
	kpp_assert_eq "$1-loadavg" 1 "$(wc -l < /proc/loadavg | tr -d ' ')"
}
check_patched() {
	kpp_assert_eq "$1-version" "kpatch++ markers" "$(sed -n 2p /proc/version)"
	kpp_assert_eq "$1-loadavg-ignored" 1 "$(wc -l < /proc/loadavg | tr -d ' ')"
	kpp_assert_eq "$1-only-version-listed" " vmlinux/version_proc_show" \
		"$(kpp_patched_functions "$patch")"
	# %ps names the module's copy: "version_proc_show [livepatch_markers] is ..."
	kpp_assert_contains "$1-force-logged" "is marked force-unsafe" "$(dmesg | grep version_proc_show)"
}
