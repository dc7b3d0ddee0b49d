# A patch to an out-of-tree module (test/integration/oot/kpp_trace) whose
# patched function fires a tracepoint of that module: /proc/kpp_trace says
# 142 instead of 42 while the patch is enabled, and the module's own
# tracepoint stays off in the patched function (kpatch-build warns; the
# jump label of a module's own tracepoint cannot be kept in a patch), while
# the original function fires it again once the patch is gone.
kpp_functions="kpp_trace_compute.constprop.0"
T=/sys/kernel/tracing
kpp_run oot-insmod insmod /test/kpp_trace.ko
kpp_run tracefs-mount mount -t tracefs nodev $T
kpp_run event-enable sh -c "echo 1 > $T/events/kpp_trace/kpp_trace_compute/enable"
# The events one read of /proc/kpp_trace fires.
events_of_one_read() {
	echo >$T/trace
	cat /proc/kpp_trace >/dev/null
	grep -c 'kpp_trace_compute: input=41' $T/trace
}
check_original() {
	kpp_assert_eq "$1-value" "kpp_trace: 42" "$(cat /proc/kpp_trace)"
	kpp_assert_eq "$1-events" 1 "$(events_of_one_read)"
}
check_patched() {
	kpp_assert_eq "$1-value" "kpp_trace: 142" "$(cat /proc/kpp_trace)"
	kpp_assert_eq "$1-events" 0 "$(events_of_one_read)"
}
