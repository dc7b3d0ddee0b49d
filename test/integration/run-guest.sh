#!/usr/bin/env bash
# Boot a kernel + initramfs (from make-initramfs.sh) under QEMU TCG and judge
# the run from the serial console.
#
# Usage: run-guest.sh --kernel IMAGE --initrd INITRD --log LOG [--arch x86_64|arm64]
#                     [--timeout SECONDS] [--append "EXTRA CMDLINE"] [--verbose]
# --arch arm64 boots an arm64 Image (Debian's vmlinuz) on qemu-system-aarch64's
# "virt" machine; the default is x86_64 (a bzImage).
# Exit 0 only if the guest printed "KPP-GUEST-END rc=0", at least one
# "KPP-CHECK <name> PASS" line, no "KPP-CHECK ... FAIL" line, and the console
# shows no oops, BUG:, WARNING:, Call Trace or panic.
# KVM does not work on these machines (see kernel-test-facts.md): TCG only.
set -euo pipefail

kernel='' initrd='' log='' arch=x86_64 timeout=180 append='' verbose=${KPP_VERBOSE:-0}
# Kernel messages that mean the run is not clean, whatever the checks said.
# "Missing ENDBR": an indirect branch to code without ENDBR on an IBT kernel.
bad_patterns='Oops|BUG:|WARNING:|Call Trace|Kernel panic|general protection fault|kernel BUG|RIP: |Unable to handle|Internal error|Missing ENDBR'

die() { echo "run-guest: error: $*" >&2; exit 2; }

usage() { sed -n '2,12p' "$0" >&2; exit 2; }

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) kernel=$2; shift ;;
		--initrd) initrd=$2; shift ;;
		--log) log=$2; shift ;;
		--arch) arch=$2; shift ;;
		--timeout) timeout=$2; shift ;;
		--append) append=$2; shift ;;
		--verbose) verbose=1 ;;
		-h | --help) usage ;;
		*) die "unknown argument: $1" ;;
		esac
		shift
	done
	if [ -z "$kernel" ] || [ -z "$initrd" ] || [ -z "$log" ]; then usage; fi
	[ -f "$kernel" ] || die "no kernel image: $kernel"
	[ -f "$initrd" ] || die "no initrd: $initrd"
	case "$arch" in
	x86_64) command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found; install qemu-system-x86" ;;
	arm64) command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 not found; install qemu-system-arm" ;;
	*) die "unknown --arch $arch (x86_64 or arm64)" ;;
	esac
	command -v timeout >/dev/null || die "timeout (coreutils) not found"
}

# qemu_x86_64 OPTIONS: QEMU's command line (in qemu) for an x86_64 guest
# whose kernel gets the common OPTIONS, its own and then --append's.
qemu_x86_64() {
	# no_timer_check: under TCG on a loaded host the IO-APIC timer check at
	# boot can miss its ticks and panic ("IO-APIC + timer doesn't work!");
	# seen when patch tests ran beside a kernel build.
	# One CPU per socket: without ACPI the kernel learns the CPUs from
	# SeaBIOS's MP table, which lists only the first logical CPU of each
	# package, and plain "-smp 2" is one socket with two cores (one CPU).
	# thread=single: one host thread runs every vCPU. With multi-threaded
	# TCG (QEMU 7.2) a vCPU can still execute the int3 of a text_poke_bp()
	# that another vCPU has finished (ftrace turning a function's hook on or
	# off, as every livepatch load and unload does): toggling the function
	# tracer on meminfo_proc_show while another CPU runs it oopses with
	# "int3: 0000 [#1]" within ~60 toggles; with thread=single 400 are clean.
	qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu max
		-smp 2,sockets=2,cores=1,threads=1 -m 1024
		-nographic -no-reboot -kernel "$kernel" -initrd "$initrd"
		-append "console=ttyS0 $1 no_timer_check${append:+ $append}")
}

# qemu_arm64 OPTIONS: the same for an arm64 guest on the "virt" board
# (PL011 serial console ttyAMA0, PSCI for the second CPU and poweroff).
qemu_arm64() {
	# pauth-impdef: the kernel signs return addresses (PTR_AUTH_KERNEL);
	# QEMU's implementation-defined algorithm is much cheaper under TCG than
	# the architected QARMA and is what real CPUs may use as well.
	# thread=single for the reason given for x86_64 above.
	qemu=(qemu-system-aarch64 -M virt -accel tcg,thread=single
		-cpu max,pauth-impdef=on -smp 2 -m 1024
		-nographic -no-reboot -kernel "$kernel" -initrd "$initrd"
		-append "console=ttyAMA0 $1${append:+ $append}")
}

# `timeout` sends TERM at the limit and KILL 5 s later, so QEMU never
# outlives the test; stdin is /dev/null so QEMU cannot grab the terminal.
boot() {
	local -a qemu
	"qemu_$arch" "panic=-1 oops=panic loglevel=7"
	mkdir -p "$(dirname "$log")"
	if [ "$verbose" = 1 ]; then
		timeout --kill-after=5 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log" >&2 || true
	else
		timeout --kill-after=5 "$timeout" "${qemu[@]}" </dev/null >"$log" 2>&1 || true
	fi
}

# Serial output has CRLF line ends; strip CRs before matching.
judge() {
	local clean pass fail problems=()
	clean=$(tr -d '\r' <"$log")
	pass=$(grep -c '^KPP-CHECK [^ ]* PASS' <<<"$clean" || true)
	fail=$(grep -c '^KPP-CHECK [^ ]* FAIL' <<<"$clean" || true)
	grep -q '^KPP-GUEST-END ' <<<"$clean" ||
		problems+=("guest never reached the end marker (timeout ${timeout}s, hang or panic)")
	if grep -q '^KPP-GUEST-END ' <<<"$clean" && ! grep -q '^KPP-GUEST-END rc=0$' <<<"$clean"; then
		problems+=("guest script exited non-zero: $(grep '^KPP-GUEST-END' <<<"$clean")")
	fi
	[ "$fail" -eq 0 ] || problems+=("$fail check(s) failed")
	[ "$pass" -gt 0 ] || problems+=("no check passed (did the guest script run any?)")
	if grep -qE "$bad_patterns" <<<"$clean"; then
		problems+=("kernel reported a problem: $(grep -m1 -E "$bad_patterns" <<<"$clean")")
	fi
	grep '^KPP-CHECK [^ ]* FAIL' <<<"$clean" >&2 || true
	if [ ${#problems[@]} -gt 0 ]; then
		printf 'run-guest: FAIL: %s\n' "${problems[@]}" >&2
		echo "run-guest: console log: $log" >&2
		return 1
	fi
	echo "run-guest: PASS ($pass checks, ${SECONDS}s wall) log: $log" >&2
}

main() {
	parse_args "$@"
	SECONDS=0
	boot
	judge
}

main "$@"
