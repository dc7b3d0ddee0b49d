# The patch adds five lines to nr_processes() near the top of kernel/fork.c,
# above its BUG_ON(), WARN_ON(), WARN_ON_ONCE() and might_sleep() sites and
# the tracepoints and static branches of copy_process() and kernel_clone():
# their __LINE__ moves by five. Only the edited function may be patched: the
# patch's vmlinux object must list exactly nr_processes.
# The patched nr_processes() counts 1000 more processes, which /proc's link
# count shows (proc_root_getattr(): proc_root.nlink + nr_processes()).
kpp_functions="nr_processes"

proc_nlink() { stat -c %h /proc; }

# near NAME EXPECTED ACTUAL: ACTUAL within 5 of EXPECTED (a kernel thread
# may come or go between two reads).
near() {
	if [ "$3" -ge $(($2 - 5)) ] && [ "$3" -le $(($2 + 5)) ]; then
		kpp_pass "$1" "$3 (expected $2 +- 5)"
	else
		kpp_fail "$1" "expected $2 +- 5, got $3"
	fi
}

check_original() {
	local n
	n=$(proc_nlink)
	kpp_info "$1: /proc nlink $n"
	[ -n "${nlink_before:-}" ] || nlink_before=$n
	near "$1-nlink" "$nlink_before" "$n"
}

check_patched() {
	near "$1-nlink" $((nlink_before + 1000)) "$(proc_nlink)"
	kpp_assert_eq "$1-only-edited-function" " vmlinux/nr_processes" \
		"$(kpp_patched_functions "$patch")"
}
