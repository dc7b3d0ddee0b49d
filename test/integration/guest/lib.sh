# Guest-side helpers for kpatch++ integration tests (busybox sh).
# shellcheck shell=dash disable=SC3043  # busybox ash: has local
# Copied into every initramfs as /test/lib.sh; guest scripts start with
#   . /test/lib.sh
#
# Protocol (parsed by run-guest.sh on the host): one line per check,
#   KPP-CHECK <name> PASS|FAIL <detail>
# The host fails the run if any check FAILs, if none ran, or if the guest
# did not reach the end marker printed by /init.

KPP_TRANSITION_TIMEOUT=${KPP_TRANSITION_TIMEOUT:-30}
KPP_FAILED=0

kpp_pass() { echo "KPP-CHECK $1 PASS ${2:-}"; }

kpp_fail() {
	KPP_FAILED=$((KPP_FAILED + 1))
	echo "KPP-CHECK $1 FAIL ${2:-}"
}

# Print a line of context without affecting the verdict.
kpp_info() { echo "KPP-INFO $*"; }

# kpp_assert_eq NAME EXPECTED ACTUAL
kpp_assert_eq() {
	if [ "$2" = "$3" ]; then
		kpp_pass "$1" "'$3'"
	else
		kpp_fail "$1" "expected '$2', got '$3'"
	fi
}

# kpp_assert_ne NAME UNEXPECTED ACTUAL
kpp_assert_ne() {
	if [ "$2" != "$3" ]; then
		kpp_pass "$1" "'$3'"
	else
		kpp_fail "$1" "did not expect '$3'"
	fi
}

# kpp_assert_contains NAME NEEDLE HAYSTACK
kpp_assert_contains() {
	case "$3" in
	*"$2"*) kpp_pass "$1" "contains '$2'" ;;
	*) kpp_fail "$1" "'$3' does not contain '$2'" ;;
	esac
}

# kpp_run NAME CMD [ARGS...]: PASS when the command exits 0.
kpp_run() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then
		kpp_pass "$name" "$*"
	else
		kpp_fail "$name" "'$*' exited $rc: $(echo "$out" | tr '\n' ' ')"
	fi
	return "$rc"
}

# Tasks whose patch_state differs from the target explain a stuck transition.
kpp_dump_unpatched() {
	local f state pid
	for f in /proc/[0-9]*/patch_state; do
		state=$(cat "$f" 2>/dev/null) || continue
		[ "$state" = "-1" ] && continue
		pid=${f#/proc/}
		pid=${pid%/patch_state}
		kpp_info "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) patch_state=$state"
		sed 's/^/KPP-INFO   /' "/proc/$pid/stack" 2>/dev/null
	done
}

# kpp_wait_transition PATCH [TIMEOUT]: wait until
# /sys/kernel/livepatch/PATCH/transition is 0 (or the patch is gone).
kpp_wait_transition() {
	local patch=$1 timeout=${2:-$KPP_TRANSITION_TIMEOUT} f i=0
	f=/sys/kernel/livepatch/$patch/transition
	while [ -e "$f" ] && [ "$(cat "$f" 2>/dev/null)" != 0 ]; do
		if [ $i -ge $((timeout * 10)) ]; then
			kpp_fail "$patch-transition" "still in transition after ${timeout}s"
			kpp_dump_unpatched
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kpp_pass "$patch-transition" "settled after ~$((i / 10)).$((i % 10))s"
}

# kpp_lp_load PATCH MODULE.ko: insmod, then check the patch is enabled
# and its transition finished.
kpp_lp_load() {
	local patch=$1 ko=$2
	kpp_run "$patch-insmod" insmod "$ko" || return 1
	if [ ! -d "/sys/kernel/livepatch/$patch" ]; then
		kpp_fail "$patch-sysfs" "/sys/kernel/livepatch/$patch missing after insmod"
		return 1
	fi
	kpp_wait_transition "$patch" || return 1
	kpp_assert_eq "$patch-enabled" 1 "$(cat "/sys/kernel/livepatch/$patch/enabled")"
}

# kpp_lp_disable PATCH: write 0 to enabled, wait for the transition, then
# for the kernel to free the patch (its sysfs directory goes away).
kpp_lp_disable() {
	local patch=$1 d i=0
	d=/sys/kernel/livepatch/$patch
	kpp_run "$patch-disable" sh -c "echo 0 > $d/enabled" || return 1
	kpp_wait_transition "$patch" || return 1
	while [ -d "$d" ]; do
		if [ $i -ge $((KPP_TRANSITION_TIMEOUT * 10)) ]; then
			kpp_fail "$patch-freed" "$d still present after disable"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kpp_pass "$patch-freed" "$d removed"
}

# kpp_lp_unload MODULE: rmmod; the module reference is dropped
# asynchronously after the patch is freed, so retry briefly.
kpp_lp_unload() {
	local mod=$1 i=0
	while ! rmmod "$mod" 2>/dev/null; do
		if [ $i -ge 50 ]; then
			kpp_run "$mod-rmmod" rmmod "$mod"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kpp_pass "$mod-rmmod" "unloaded"
}

# kpp_patched_functions PATCH: " OBJECT/FUNCTION" for each function the
# enabled patch replaces, sorted, from whichever engine holds it: the
# livepatch core (/sys/kernel/livepatch/PATCH/OBJECT/FUNCTION,SYMPOS) or
# kpatch.ko (/sys/kernel/kpatch/PATCH/functions; vmlinux only).
kpp_patched_functions() {
	local patch=$1 d
	if [ -d "/sys/kernel/kpatch/$patch" ]; then
		awk '{ print "vmlinux/" $1 }' "/sys/kernel/kpatch/$patch/functions"
	else
		for d in /sys/kernel/livepatch/"$patch"/*/*/; do
			[ -d "$d" ] || continue
			d=${d%/}
			echo "$(basename "$(dirname "$d")")/${d##*/}" | sed 's/,[0-9]*$//'
		done
	fi | sort | while read -r f; do printf ' %s' "$f"; done
}

# Exit status for the end of a guest script.
kpp_done() { [ "$KPP_FAILED" -eq 0 ]; }
