# devkmsg_write (kernel/printk/printk.c, what a write to /dev/kmsg runs)
# tags each message with two static variables of its object: devkmsg_log
# (__read_mostly, set through /proc/sys/kernel/printk_devkmsg) and
# __printk_percpu_data_ready (__ro_after_init, set true during boot). Both
# must be the running kernel's variables, not copies in the patch module:
# the tag follows a sysctl change made while the patch is enabled, and the
# boot-time flag reads 1 (a copy would read 0). The changed format string
# also changes gcc's devkmsg_emit.constprop.0 clone, which is replaced too.
kpp_functions="devkmsg_emit.constprop.0 devkmsg_write"
sysctl=/proc/sys/kernel/printk_devkmsg

# logged PHASE-TAG: the kernel log line of a message written to /dev/kmsg,
# without the timestamp and the level prefix.
logged() {
	echo "kpp-devkmsg-$1" >/dev/kmsg
	dmesg | grep "kpp-devkmsg-$1\$" | sed 's/^\[[^]]*\] //'
}

check_original() {
	kpp_assert_eq "$1-sysctl" ratelimit "$(cat $sysctl)"
	kpp_assert_eq "$1-plain" "kpp-devkmsg-$1" "$(logged "$1")"
}

check_patched() {
	kpp_assert_eq "$1-tagged" "kpp(devkmsg_log=0 percpu_ready=1): kpp-devkmsg-$1-a" \
		"$(logged "$1-a")"
	echo on >$sysctl
	kpp_assert_eq "$1-follows-sysctl" "kpp(devkmsg_log=1 percpu_ready=1): kpp-devkmsg-$1-b" \
		"$(logged "$1-b")"
	echo ratelimit >$sysctl
	kpp_assert_eq "$1-restored-sysctl" "kpp(devkmsg_log=0 percpu_ready=1): kpp-devkmsg-$1-c" \
		"$(logged "$1-c")"
}
