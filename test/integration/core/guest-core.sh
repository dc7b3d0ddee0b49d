# Guest side of integration.core (run-core-test.sh): kpatch.ko and its
# test patches on /proc/cmdline and hrtimer_nanosleep().
# shellcheck shell=dash disable=SC3043
. /test/lib.sh

S=/sys/kernel/kpatch
MSG1="kpatchpp-core: patched cmdline"
MSG2="kpatchpp-core: second patch"
CYCLES=${KPP_CORE_CYCLES:-100}
READERS=3

cmdline() { cat /proc/cmdline; }

# kpp_core_rmmod MODULE: retry briefly (the reference drops right after
# the disable returns, but be tolerant).
kpp_core_rmmod() {
	local i=0
	while ! rmmod "$1" 2>/dev/null; do
		[ $i -ge 20 ] && { kpp_run "$1-rmmod" rmmod "$1"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	kpp_pass "$1-rmmod" "unloaded"
}

basic() {
	kpp_run core-insmod insmod /test/kpatch.ko || return 1
	kpp_assert_eq core-sysfs-root yes "$([ -d $S ] && echo yes)"
	ORIG=$(cmdline)
	kpp_info "original /proc/cmdline: $ORIG"

	kpp_run test-insmod insmod /test/kpp_core_test.ko || return 1
	kpp_assert_eq test-patched "$MSG1" "$(cmdline)"
	kpp_assert_eq test-enabled 1 "$(cat $S/kpp_core_test/enabled)"
	kpp_assert_contains test-functions "cmdline_proc_show 0x" \
		"$(cat $S/kpp_core_test/functions)"
	kpp_assert_contains test-functions-active " active" \
		"$(cat $S/kpp_core_test/functions)"
	kpp_info "functions: $(cat $S/kpp_core_test/functions)"
	if rmmod kpp_core_test 2>/dev/null; then
		kpp_fail test-rmmod-refused "rmmod succeeded while enabled"
		return 1
	fi
	kpp_pass test-rmmod-refused "rmmod refused while enabled"

	kpp_run test-disable sh -c "echo 0 > $S/kpp_core_test/enabled"
	kpp_assert_eq test-disabled-output "$ORIG" "$(cmdline)"
	kpp_assert_eq test-disabled 0 "$(cat $S/kpp_core_test/enabled)"
	kpp_run test-reenable sh -c "echo 1 > $S/kpp_core_test/enabled"
	kpp_assert_eq test-reenabled-output "$MSG1" "$(cmdline)"
}

stacking() {
	kpp_run test2-insmod insmod /test/kpp_core_test2.ko || return 1
	kpp_assert_eq stack-newest-wins "$MSG2" "$(cmdline)"
	kpp_run test2-disable sh -c "echo 0 > $S/kpp_core_test2/enabled"
	kpp_assert_eq stack-previous-restored "$MSG1" "$(cmdline)"
	kpp_core_rmmod kpp_core_test2
	kpp_assert_eq stack-after-rmmod "$MSG1" "$(cmdline)"
	kpp_assert_eq stack-sysfs-gone no "$([ -d $S/kpp_core_test2 ] && echo yes || echo no)"
	# Re-stack, then disable the older one underneath: the newest stays.
	kpp_run test2-reinsmod insmod /test/kpp_core_test2.ko || return 1
	kpp_run test-disable-under sh -c "echo 0 > $S/kpp_core_test/enabled"
	kpp_assert_eq stack-older-off "$MSG2" "$(cmdline)"
	kpp_run test2-disable-again sh -c "echo 0 > $S/kpp_core_test2/enabled"
	kpp_assert_eq stack-all-off "$ORIG" "$(cmdline)"
	kpp_core_rmmod kpp_core_test2
	kpp_run test-reenable2 sh -c "echo 1 > $S/kpp_core_test/enabled"
	kpp_assert_eq stack-back-to-one "$MSG1" "$(cmdline)"
}

# First-bytes check: /test/cmdline-bytes holds the first 16 bytes of
# cmdline_proc_show in the kernel's vmlinux (hex), /test/site-bytes how many
# of them ftrace rewrites (x86_64: the 5-byte __fentry__ call; arm64: two
# nops): masked out, the bytes match; compared, or with the byte after the
# site altered, the load is refused.
bytes_check() {
	local b m= bad n alt i=0 P=/sys/kernel/kpatch/kpp_core_bytes
	b=$(cat /test/cmdline-bytes)
	n=$(cat /test/site-bytes)
	alt=$((n + 1))
	while [ $i -lt 16 ]; do
		if [ $i -lt "$n" ]; then m=${m}00; else m=${m}ff; fi
		i=$((i + 1))
	done
	kpp_run bytes-match insmod /test/kpp_core_bytes.ko bytes="$b" mask="$m" || return 1
	kpp_assert_eq bytes-patched "kpatchpp-core: bytes checked" "$(cmdline)"
	kpp_run bytes-disable sh -c "echo 0 > $P/enabled"
	kpp_core_rmmod kpp_core_bytes
	kpp_assert_eq bytes-restored "$MSG1" "$(cmdline)"

	bad=$(echo "$b" | cut -c1-$((2 * alt)))$(printf '%02x' $(((0x$(echo "$b" | cut -c$((2 * alt + 1))-$((2 * alt + 2))) + 1) % 256)))$(echo "$b" | cut -c$((2 * alt + 3))-)
	if insmod /test/kpp_core_bytes.ko bytes="$bad" mask="$m" 2>/dev/null; then
		kpp_fail bytes-mismatch-refused "loaded with byte $alt altered ($bad)"
		return 1
	fi
	kpp_pass bytes-mismatch-refused "refused with byte $alt altered"
	kpp_assert_contains bytes-mismatch-log \
		"kpp_core_bytes: cmdline_proc_show does not start with the bytes the patch was built against (byte $alt)" \
		"$(dmesg | grep 'kpp_core_bytes: cmdline_proc_show' | tail -1)"
	if insmod /test/kpp_core_bytes.ko bytes="$b" mask=ffffffffffffffffffffffffffffffff 2>/dev/null; then
		kpp_fail bytes-site-unmasked "loaded comparing the rewritten ftrace call site"
		return 1
	fi
	# kpp_core_test is enabled: the site calls the ftrace trampoline, so a
	# byte inside it differs (x86_64: e8 like vmlinux's call __fentry__,
	# another target, so byte 1..4; arm64: "mov x9, x30" for a nop, byte 0).
	kpp_assert_eq bytes-site-unmasked yes \
		"$(dmesg | grep 'kpp_core_bytes: cmdline_proc_show' | tail -1 |
			grep -qE "built against \(byte [0-$((n - 1))]\)" && echo yes)"
	kpp_assert_eq bytes-no-sysfs no "$([ -d $P ] && echo yes || echo no)"
	kpp_assert_eq bytes-still-first "$MSG1" "$(cmdline)"
}

busy() {
	local sp sp2 P=/sys/module/kpp_core_busy/parameters
	echo 2 >/sys/module/kpatch/parameters/retries
	echo 10 >/sys/module/kpatch/parameters/backoff_ms
	sleep 1000 &
	sp=$!
	sleep 0.3
	if insmod /test/kpp_core_busy.ko 2>/dev/null; then
		kpp_fail busy-enable-refused "insmod succeeded while pid $sp sleeps in hrtimer_nanosleep"
		return 1
	fi
	kpp_pass busy-enable-refused "insmod failed while pid $sp sleeps"
	kpp_assert_contains busy-enable-log \
		"kpp_core_busy: cannot enable: task sleep (pid $sp) is inside hrtimer_nanosleep" \
		"$(dmesg | grep 'kpp_core_busy: cannot' | tail -1)"
	kpp_assert_eq busy-no-sysfs no "$([ -d $S/kpp_core_busy ] && echo yes || echo no)"

	kpp_run busy-force-insmod insmod /test/kpp_core_busy.ko force=1 || return 1
	sleep 0.1
	kpp_assert_ne busy-calls-redirected 0 "$(cat $P/calls)"

	# A task now sleeps in the replacement: disabling must be refused.
	echo 0 >$P/force
	sleep 1000 &
	sp2=$!
	sleep 0.3
	if echo 0 2>/dev/null >$S/kpp_core_busy/enabled; then
		kpp_fail busy-disable-refused "disable succeeded while pid $sp2 sleeps in the replacement"
	else
		kpp_pass busy-disable-refused "disable refused"
	fi
	kpp_assert_contains busy-disable-log \
		"task sleep (pid $sp2) is inside hrtimer_nanosleep (kpp_busy_hrtimer_nanosleep" \
		"$(dmesg | grep 'kpp_core_busy: cannot disable' | tail -1)"
	kill "$sp2"
	wait "$sp2" 2>/dev/null
	kpp_run busy-disable sh -c "echo 0 > $S/kpp_core_busy/enabled"
	kpp_core_rmmod kpp_core_busy
	kill "$sp"
	wait "$sp" 2>/dev/null
	echo 8 >/sys/module/kpatch/parameters/retries
	echo 20 >/sys/module/kpatch/parameters/backoff_ms
}

# reader N: read /proc/cmdline until /tmp/stop exists; count old and new
# outputs, keep anything else in /tmp/bad.N. Odd readers fork cat, even
# ones use the shell's read builtin (a tighter loop).
reader() {
	local n=$1 o=0 p=0 line
	: >/tmp/bad.$n
	while [ ! -e /tmp/stop ]; do
		if [ $((n % 2)) = 1 ]; then
			line=$(cat /proc/cmdline)
		else
			read -r line </proc/cmdline
		fi
		case "$line" in
		"$ORIG") o=$((o + 1)) ;;
		"$MSG1") p=$((p + 1)) ;;
		*) echo "$line" >>/tmp/bad.$n ;;
		esac
	done
	echo "$o $p" >/tmp/count.$n
}

stress() {
	local i n ok=0 bad=0 t0 t1 pids='' total_o=0 total_p=0 o p
	rm -f /tmp/stop
	for n in $(seq 1 $READERS); do
		reader "$n" &
		pids="$pids $!"
	done
	t0=$(date +%s)
	i=0
	while [ $i -lt "$CYCLES" ]; do
		if echo 0 >$S/kpp_core_test/enabled && echo 1 >$S/kpp_core_test/enabled; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
		fi
		i=$((i + 1))
	done
	t1=$(date +%s)
	touch /tmp/stop
	for n in $pids; do wait "$n"; done
	kpp_assert_eq stress-cycles "$CYCLES/0" "$ok/$bad"
	kpp_info "stress: $CYCLES disable+enable cycles in $((t1 - t0))s"
	for n in $(seq 1 $READERS); do
		read -r o p </tmp/count.$n
		total_o=$((total_o + o))
		total_p=$((total_p + p))
		if [ -s /tmp/bad.$n ]; then
			kpp_fail stress-reader-$n "unexpected output: $(head -3 /tmp/bad.$n | tr '\n' '|')"
		else
			kpp_pass stress-reader-$n "old=$o new=$p"
		fi
	done
	kpp_assert_ne stress-saw-old 0 "$total_o"
	kpp_assert_ne stress-saw-new 0 "$total_p"
}

# kpatch.ko's shadow variables: kpp_core_shadow.ko checks the klp_shadow_*
# rules and two racing threads from its init (the load fails on any failed
# check), and leaves 3 variables for kpatch.ko to free at unload (teardown).
shadow() {
	kpp_run shadow-insmod insmod /test/kpp_core_shadow.ko || return 1
	kpp_assert_contains shadow-checks "checks passed; 3 variables left" \
		"$(dmesg | grep 'kpp_core_shadow: all')"
	kpp_core_rmmod kpp_core_shadow
}

# AArch64 relocations applied by kpatch.ko (kpp_core_relocs.ko, arm64 only:
# x86_64's are exercised by integration.core.patch.*), checked from its
# init; /test/relocs-args holds the -dbg vmlinux's addresses.
relocs() {
	if [ "$(cat /test/arch)" != arm64 ]; then
		kpp_info "relocs: kpp_core_relocs.ko is arm64 code; not on $(cat /test/arch)"
		return 0
	fi
	# shellcheck disable=SC2046 # the parameters are words
	kpp_run relocs-insmod insmod /test/kpp_core_relocs.ko $(cat /test/relocs-args) || return 1
	kpp_assert_contains relocs-checks "all relocation checks passed" \
		"$(dmesg | grep 'kpp_core_relocs: all')"
	kpp_info "relocs: veneer used: $(cat /sys/module/kpp_core_relocs/parameters/veneer_used)"
	kpp_core_rmmod kpp_core_relocs
}

# In-guest microbenchmark (kpp_core_bench.ko): per-call overhead of a
# redirected call and the enable/disable latency, printed as KPP-INFO.
bench() {
	local P=/sys/module/kpp_core_bench/parameters
	kpp_run bench-insmod insmod /test/kpp_core_bench.ko || return 1
	kpp_info "bench: plain $(cat $P/plain_ps) ps/call, replacement direct $(cat $P/direct_ps) ps/call, redirected $(cat $P/redirected_ps) ps/call"
	kpp_info "bench: register+enable $(cat $P/enable_ns) ns, disable $(cat $P/disable_ns) ns, mean enable/disable switch $(cat $P/switch_ns) ns"
	kpp_core_rmmod kpp_core_bench
}

teardown() {
	kpp_run test-final-disable sh -c "echo 0 > $S/kpp_core_test/enabled"
	kpp_assert_eq test-final-output "$ORIG" "$(cmdline)"
	kpp_core_rmmod kpp_core_test
	kpp_assert_eq test-sysfs-gone no "$([ -d $S/kpp_core_test ] && echo yes || echo no)"
	kpp_core_rmmod kpatch
	kpp_assert_contains core-shadow-leftovers \
		"freed 3 shadow variable(s) that patches left behind" "$(dmesg | grep 'kpatch: freed')"
	kpp_assert_eq core-final-output "$ORIG" "$(cmdline)"
}

check_dmesg() {
	local bad
	bad=$(dmesg | grep -E 'WARNING:|Oops|BUG:|Call Trace|RCU stall|soft lockup' | head -3)
	if [ -n "$bad" ]; then
		kpp_fail dmesg-clean "$bad"
	else
		kpp_pass dmesg-clean "no oops or warning"
	fi
}

basic && stacking && bytes_check && busy && shadow && relocs && stress && bench
teardown
check_dmesg
kpp_done
