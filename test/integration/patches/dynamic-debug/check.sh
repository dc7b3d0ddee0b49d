# start_creating() (fs/tracefs/inode.c), which every new tracefs file and
# directory goes through, gets a new pr_debug() message. Its dynamic-debug
# descriptor lives in the patch module's __dyndbg section (module
# livepatch_dynamic_debug). Enabled through the dynamic_debug control file
# (debugfs when the kernel has it, else /proc/dynamic_debug/control), the
# patched message must reach the kernel log while the patch is enabled, and
# only then; disabled again, neither message appears. Creating a tracing
# instance (mkdir instances/NAME) makes tracefs create its files.
kpp_functions="start_creating"
tr=/sys/kernel/tracing
new_msg="tracefs (kpatch++ dynamic-debug): creating file 'tracing_on'"
old_msg="tracefs: creating file 'tracing_on'"

control() {
	local c=/sys/kernel/debug/dynamic_debug/control
	if [ ! -f "$c" ] && grep -qw debugfs /proc/filesystems; then
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	fi
	[ -f "$c" ] || c=/proc/dynamic_debug/control
	echo "$c"
}

# instance_log PHASE: the tracefs pr_debug lines for tracing_on while a
# tracing instance is created (and removed again).
instance_log() {
	[ -d "$tr/instances" ] || mount -t tracefs nodev "$tr" 2>/dev/null
	dmesg -c >/dev/null
	if mkdir "$tr/instances/kpp-$1"; then
		rmdir "$tr/instances/kpp-$1" || kpp_fail "$1-rmdir" "instance kpp-$1 stays"
	else
		kpp_fail "$1-mkdir" "cannot create tracing instance kpp-$1"
	fi
	dmesg | grep -o "tracefs.*creating file 'tracing_on'" | tr '\n' ' ' | sed 's/ $//'
}

# dyndbg PHASE FLAGS: apply "func start_creating FLAGS".
dyndbg() {
	kpp_run "$1-dyndbg$2" sh -c "echo 'func start_creating $2' >$(control)"
}

check_original() {
	local out
	kpp_assert_eq "$1-off" "" "$(instance_log "$1-off")"
	dyndbg "$1" +p
	out=$(instance_log "$1-on")
	kpp_assert_eq "$1-original-message" "$old_msg" "$out"
	dyndbg "$1" -p
	kpp_assert_eq "$1-off-again" "" "$(instance_log "$1-off-again")"
}

check_patched() {
	local out site
	kpp_assert_eq "$1-off" "" "$(instance_log "$1-off")"
	dyndbg "$1" +p
	site=$(grep -F "kpatch++ dynamic-debug" "$(control)")
	kpp_info "$1: control: $site"
	kpp_assert_contains "$1-site-module" "[$patch]start_creating =p" "$site"
	out=$(instance_log "$1-on")
	kpp_assert_eq "$1-patched-message" "$new_msg" "$out"
	dyndbg "$1" -p
	kpp_assert_contains "$1-site-disabled" "[$patch]start_creating =_" \
		"$(grep -F "kpatch++ dynamic-debug" "$(control)")"
	kpp_assert_eq "$1-off-again" "" "$(instance_log "$1-off-again")"
}
