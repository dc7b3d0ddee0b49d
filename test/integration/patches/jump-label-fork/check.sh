# copy_process() (kernel/fork.c), the function the klp_convert refusal
# "__jump_table+0x18 refers to livepatch symbol
# '.klp.sym.vmlinux.__tracepoint_task_newtask,0'" was about: its task_newtask
# tracepoint is a static branch on a non-exported vmlinux key (__jump_table)
# and a static call (.static_call_sites). The patched version counts every
# fork twice in /proc/stat's "processes". The tracepoint is toggled while
# the patch is enabled: the patched copy_process must emit task_newtask
# records exactly while the event is on.
kpp_functions="copy_process"
tr=/sys/kernel/tracing
ev=$tr/events/task/task_newtask

forks() { sed -n 's/^processes //p' /proc/stat; }

# fork_delta: how much "processes" grows over 20 forked subshells.
fork_delta() {
	local a b i=0
	a=$(forks)
	while [ $i -lt 20 ]; do
		(exit 0)
		i=$((i + 1))
	done
	b=$(forks)
	echo $((b - a))
}

# newtask_records ON: task_newtask records of one forked subshell.
newtask_records() {
	echo "$1" >"$ev/enable"
	echo >"$tr/trace"
	(exit 0)
	echo 0 >"$ev/enable"
	grep -c "task_newtask: pid=" "$tr/trace"
}

check_events() {
	[ -d "$tr/events" ] || mount -t tracefs nodev "$tr" 2>/dev/null
	[ -f "$ev/enable" ] || { kpp_fail "$1-tracefs" "no $ev"; return; }
	kpp_assert_eq "$1-newtask-on" 1 "$(newtask_records 1)"
	kpp_assert_eq "$1-newtask-off" 0 "$(newtask_records 0)"
	kpp_assert_eq "$1-newtask-on-again" 1 "$(newtask_records 1)"
}

check_original() {
	local d
	d=$(fork_delta)
	kpp_info "$1: 20 subshells: processes +$d"
	[ -n "${delta_before:-}" ] || delta_before=$d
	if [ "$d" -ge 20 ] && [ "$d" -le $((delta_before + 3)) ]; then
		kpp_pass "$1-forks" "+$d"
	else
		kpp_fail "$1-forks" "+$d, expected 20..$((delta_before + 3))"
	fi
	check_events "$1"
}

check_patched() {
	local d
	d=$(fork_delta)
	kpp_info "$1: 20 subshells: processes +$d (+$delta_before before)"
	if [ "$d" -ge $((2 * delta_before)) ] && [ "$d" -le $((2 * delta_before + 6)) ] &&
		[ $((d % 2)) -eq 0 ]; then
		kpp_pass "$1-forks-twice" "+$d"
	else
		kpp_fail "$1-forks-twice" "+$d, expected an even number in $((2 * delta_before))..$((2 * delta_before + 6))"
	fi
	check_events "$1"
}
