# free_pid() hands delayed_put_pid(), which the patch also replaces, to
# call_rcu(): the pointer must be the running kernel's delayed_put_pid
# (ftrace sends it to the new version while the patch is on), never the
# module's copy, or a callback still queued when the module goes would jump
# into freed memory (expect-relocs pins the relocation on the host). Each
# check forks and reaps processes, so RCU callbacks are queued around the
# patch's load, disable and unload; the guest fails on any oops. The
# meminfo label shows which version runs.
kpp_functions="delayed_put_pid free_pid meminfo_proc_show"
churn() {
	i=0
	while [ $i -lt 200 ]; do
		sh -c : || return 1
		i=$((i + 1))
	done
}
check_original() {
	kpp_run "$1-churn" churn
	kpp_assert_contains "$1-label" "MemTotal:       " "$(head -1 /proc/meminfo)"
}
check_patched() {
	kpp_run "$1-churn" churn
	kpp_assert_contains "$1-label" "MemTotal(kpp-rcu):  " "$(head -1 /proc/meminfo)"
}
