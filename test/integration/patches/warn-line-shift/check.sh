# The patch adds four lines to proc_notify_change() near the top of
# fs/proc/generic.c, above a dozen WARN()/WARN_ON_ONCE() sites
# (__xlate_proc_name, proc_register, __proc_create, proc_create_reg,
# remove_proc_entry, remove_proc_subtree) whose __LINE__ (in their
# __bug_table entries) moves by four. Only the edited function may be
# patched: the patch's vmlinux object must list exactly proc_notify_change.
# The patched proc_notify_change drops the world-write bit of a chmod on a
# /proc entry (chmod 0606 /proc/meminfo gives 0604).
kpp_functions="proc_notify_change"
entry=/proc/meminfo

# mode_after_chmod MODE: the mode /proc/meminfo has after chmod MODE.
mode_after_chmod() {
	chmod "$1" "$entry" || echo "chmod-failed"
	stat -c %a "$entry"
	chmod 0444 "$entry"
}

check_original() {
	kpp_assert_eq "$1-chmod-606" 606 "$(mode_after_chmod 0606)"
	kpp_assert_eq "$1-chmod-640" 640 "$(mode_after_chmod 0640)"
	kpp_assert_eq "$1-restored" 444 "$(stat -c %a "$entry")"
}

check_patched() {
	kpp_assert_eq "$1-chmod-606" 604 "$(mode_after_chmod 0606)"
	kpp_assert_eq "$1-chmod-640" 640 "$(mode_after_chmod 0640)"
	kpp_assert_eq "$1-restored" 444 "$(stat -c %a "$entry")"
	kpp_assert_eq "$1-only-edited-function" " vmlinux/proc_notify_change" \
		"$(kpp_patched_functions "$patch")"
}
