# __set_oom_adj (fs/proc/base.c, inlined into oom_score_adj_write) contains
# the oom_score_adj_update tracepoint: a static branch on the non-exported
# vmlinux key __tracepoint_oom_score_adj_update (__jump_table) and a static
# call (.static_call_sites). The patched version caps oom_score_adj at 500.
# The patch module's __jump_table entries must follow the key: the event is
# toggled while the patch is enabled, and the patched function's trace
# records (with the capped value) appear only while the event is on.
kpp_functions="__set_oom_adj.isra.0"
tr=/sys/kernel/tracing
ev=$tr/events/oom/oom_score_adj_update

tracing_ready() {
	[ -d "$tr/events" ] || mount -t tracefs nodev "$tr" 2>/dev/null
	[ -f "$ev/enable" ]
}

# set_adj PHASE VALUE EVENT(0|1): write VALUE to the shell's oom_score_adj
# with the event off or on; prints the value read back, then the trace lines.
set_adj() {
	echo "$3" >"$ev/enable"
	echo >"$tr/trace"
	echo "$2" >/proc/$$/oom_score_adj
	cat /proc/$$/oom_score_adj
	grep -o "oom_score_adj_update: pid=$$ .*" "$tr/trace" | tr '\n' ' '
	echo 0 >"$ev/enable"
}

# check_adj PHASE VALUE EXPECTED
check_adj() {
	local out
	out=$(set_adj "$1" "$2" 1)
	kpp_info "$1: wrote $2, event on: $out"
	kpp_assert_eq "$1-value-$2" "$3" "$(echo "$out" | head -1)"
	kpp_assert_contains "$1-event-$2" "oom_score_adj=$3" "$(echo "$out" | tail -1)"
	out=$(set_adj "$1" "$(($2 - 1))" 0)
	kpp_info "$1: wrote $(($2 - 1)), event off: $out"
	kpp_assert_eq "$1-no-event-$2" "" "$(echo "$out" | sed 1d)"
}

check_original() {
	tracing_ready || { kpp_fail "$1-tracefs" "no $ev"; return; }
	check_adj "$1" 700 700
	check_adj "$1" 300 300
	echo 0 >/proc/$$/oom_score_adj
}
check_patched() {
	tracing_ready || { kpp_fail "$1-tracefs" "no $ev"; return; }
	check_adj "$1" 700 500
	check_adj "$1" 300 300
	# The key is toggled again; the module's entries follow each time.
	check_adj "$1-again" 900 500
	echo 0 >/proc/$$/oom_score_adj
}
