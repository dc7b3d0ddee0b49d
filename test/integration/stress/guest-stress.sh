# Guest half of run-stress-test.sh (busybox sh): CYCLES load/unload cycles
# of two stacked livepatches through the real kpatch CLI, under readers that
# keep calling the patched functions (meminfo_proc_show, override_release).
. /test/lib.sh

K=/test/kpatch
A=livepatch_stress_a
B=livepatch_stress_b
CYCLES=$(cat /test/cycles)
REL=$(uname -r)
ORIG_LABEL="MemTotal:       "
A_LABEL="MemTotal(kpatch++): "
B_LABEL="MemTotal(stress-b): "
bad_kernel='Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic|RIP: '
errors=0

# Only warnings and worse on the console: 400 transitions' notices over a
# TCG serial port would slow the cycles down; run-guest.sh still sees every
# oops, BUG and WARNING, and dmesg keeps everything.
echo 5 >/proc/sys/kernel/printk

# What the deterministic checks between the steps found wrong; a few are
# shown, all are counted.
problem() {
	errors=$((errors + 1))
	[ "$errors" -le 5 ] && kpp_info "stress problem (cycle $i): $*"
}

# Hundredths of a second since boot.
now_cs() {
	local up
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//;s/^$/0/'
}

# kp VERB ARGS...: run kpatch; a non-zero exit is a problem. The time each
# verb takes adds up in cs_VERB.
kp() {
	local out t0 t1
	t0=$(now_cs)
	out=$("$K" "$@" 2>&1) || problem "kpatch $* failed: $(echo "$out" | tr '\n' '|')"
	t1=$(now_cs)
	eval "cs_$1=\$((\${cs_$1:-0} + t1 - t0))"
}

# expect LABEL_PREFIX UNAME: what a reader must see right now.
expect() {
	local label release
	read -r label </proc/meminfo
	release=$(uname -r)
	case "$label" in "$1"*) ;; *) problem "meminfo '$label', expected '$1...'" ;; esac
	[ "$release" = "$2" ] || problem "uname -r '$release', expected '$2'"
}

# Each reader rests PAUSE_US between calls. The livepatch core cannot check
# the stack of a task running on another CPU, so a reader that never rested
# made every transition wait for the core's next try a second later, and
# kept both vCPUs of the single-threaded TCG guest (one host core) busy for
# the whole run. Resting readers still call the patched functions hundreds
# of times a cycle (measured, 5 cycles: 1,419 meminfo and 1,397 uname calls;
# 6.4 s a cycle), also while transitions run.
PAUSE_US=20000

# meminfo_reader N: first line of /proc/meminfo until /tmp/stop exists,
# counted by label; anything else goes to /tmp/bad.N. Reads alternate
# between a forked head and the shell's read builtin (a tighter loop).
meminfo_reader() {
	local n=$1 o=0 a=0 b=0 k=0 line
	: >/tmp/bad.$n
	while [ ! -e /tmp/stop ]; do
		k=$((k + 1))
		if [ $((k % 2)) = 1 ]; then
			line=$(head -n1 /proc/meminfo)
		else
			read -r line </proc/meminfo
		fi
		case "$line" in
		"$ORIG_LABEL"*) o=$((o + 1)) ;;
		"$A_LABEL"*) a=$((a + 1)) ;;
		"$B_LABEL"*) b=$((b + 1)) ;;
		*) echo "meminfo: $line" >>/tmp/bad.$n ;;
		esac
		usleep $PAUSE_US
	done
	echo "$o $a $b" >/tmp/count.$n
}

# uname_reader N: uname -r (a fork and exec of busybox each time).
uname_reader() {
	local n=$1 o=0 p=0 r
	: >/tmp/bad.$n
	while [ ! -e /tmp/stop ]; do
		r=$(uname -r)
		case "$r" in
		"$REL") o=$((o + 1)) ;;
		"$REL-kpp") p=$((p + 1)) ;;
		*) echo "uname: $r" >>/tmp/bad.$n ;;
		esac
		usleep $PAUSE_US
	done
	echo "$o $p" >/tmp/count.$n
}

# One cycle: both loaded (B on top of A for meminfo_proc_show), then the
# patches are removed in alternating order, so that both the top and the
# bottom of the function's stack get removed while the other stays.
cycle() {
	kp load --timeout 60 /test/$A.ko
	expect "$A_LABEL" "$REL"
	kp load --timeout 60 /test/$B.ko
	expect "$B_LABEL" "$REL-kpp"
	if [ $((i % 2)) = 0 ]; then
		kp unload --timeout 60 $B
		expect "$A_LABEL" "$REL"
		kp unload --timeout 60 $A
	else
		kp unload --timeout 60 $A
		expect "$B_LABEL" "$REL-kpp"
		kp unload --timeout 60 $B
	fi
	expect "$ORIG_LABEL" "$REL"
}

expect "$ORIG_LABEL" "$REL"
kpp_assert_eq stress-precheck 0 "$errors"

rm -f /tmp/stop
pids=''
# One reader per patched function: more would only slow the guest's two
# CPUs down (each transition already waits a second for busy tasks).
meminfo_reader 1 &
pids="$pids $!"
uname_reader 2 &
pids="$pids $!"

t0=$(date +%s)
i=0
while [ "$i" -lt "$CYCLES" ]; do
	i=$((i + 1))
	cycle
	if [ $((i % 10)) = 0 ] || [ "$i" = "$CYCLES" ]; then
		kpp_info "stress progress: cycle $i/$CYCLES, $errors problem(s), $(($(date +%s) - t0))s"
	fi
	# A patch left behind would turn every later cycle into noise.
	if ls -d /sys/kernel/livepatch/livepatch_stress_* >/dev/null 2>&1; then
		problem "a patch is still loaded after the cycle: $(ls /sys/kernel/livepatch)"
		break
	fi
done
t1=$(date +%s)
touch /tmp/stop
for p in $pids; do wait "$p"; done

kpp_assert_eq stress-cycles "$CYCLES/0" "$i/$errors"
for n in 1 2; do
	if [ -s /tmp/bad.$n ]; then
		kpp_fail stress-reader-$n "unexpected output: $(head -n3 /tmp/bad.$n | tr '\n' '|')"
	else
		kpp_pass stress-reader-$n "$(cat /tmp/count.$n)"
	fi
done
read -r m_o m_a m_b </tmp/count.1
read -r u_o u_p </tmp/count.2
# The readers must have seen every behaviour, or they did not overlap the
# cycles and proved nothing.
for v in m_o m_a m_b u_o u_p; do
	eval "kpp_assert_ne stress-saw-$v 0 \"\$$v\""
done
dmesg_bad=$(dmesg | grep -E "$bad_kernel" | head -n3 | tr '\n' '|')
kpp_assert_eq stress-dmesg-clean "" "$dmesg_bad"
kpp_assert_eq stress-all-unloaded "" "$(ls /sys/kernel/livepatch)"

result=PASS
[ "$KPP_FAILED" -eq 0 ] || result=FAIL
kpp_info "stress timing: kpatch load $((cs_load * 10 / (2 * i))) ms, unload $((cs_unload * 10 / (2 * i))) ms on average"
kpp_info "stress: $i/$CYCLES cycles of 2 patches ($((i * 4)) kpatch load/unload transitions) in $((t1 - t0))s, $errors problem(s); readers saw meminfo old/A/B $m_o/$m_a/$m_b, uname old/new $u_o/$u_p; dmesg clean: $([ -z "$dmesg_bad" ] && echo yes || echo no); result $result"
kpp_done
