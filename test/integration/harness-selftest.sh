#!/usr/bin/env bash
# Self-test of run-guest.sh's verdicts: each scenario boots the test kernel
# and must end with the expected verdict. A harness that passes broken runs
# would make every other integration test meaningless.
#
# Usage: harness-selftest.sh [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tree=
ko=
failures=0

KPP_PROG=harness-selftest
# shellcheck source=host-lib.sh
. "$here/host-lib.sh"

# Build selftest/kpp_selftest.c out of tree from a copy (keeps the source
# directory free of build output).
build_module() {
	local dir="$workdir/module"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$here/selftest/kpp_selftest.c" "$here/selftest/Kbuild" "$dir/"
	make -C "$tree" M="$dir" modules >"$workdir/module-build.log" 2>&1 ||
		{ cat "$workdir/module-build.log" >&2; die "building kpp_selftest.ko failed"; }
	ko="$dir/kpp_selftest.ko"
}

# scenario NAME EXPECT(pass|fail) TIMEOUT GUEST_SCRIPT_BODY REASON_REGEX
# A "fail" verdict only counts when the harness gives the expected reason.
scenario() {
	local name=$1 expect=$2 timeout=$3 body=$4 reason=$5 d="$workdir/$1" got t0
	mkdir -p "$d"
	printf '. /test/lib.sh\n%s\n' "$body" >"$d/guest.sh"
	"$here/make-initramfs.sh" "$d/initramfs.cpio.gz" "$d/guest.sh" "$ko"
	t0=$SECONDS
	if "$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$d/initramfs.cpio.gz" --log "$d/console.log" \
		--timeout "$timeout" 2>"$d/verdict.txt"; then
		got=pass
	else
		got=fail
	fi
	if [ "$got" = "$expect" ] && grep -qE "$reason" "$d/verdict.txt"; then
		echo "selftest $name: ok in $((SECONDS - t0))s: $(grep -m1 -E "$reason" "$d/verdict.txt")"
	else
		echo "selftest $name: WRONG VERDICT: expected $expect /$reason/, got $got; see $d" >&2
		cat "$d/verdict.txt" >&2
		failures=$((failures + 1))
	fi
}

main() {
	parse_workdir_args "$@"
	tree=$("$here/build-test-kernel.sh" --print-dir)
	build_module
	scenario pass pass 120 'kpp_run load insmod /test/kpp_selftest.ko; kpp_run unload rmmod kpp_selftest; kpp_done' \
		'run-guest: PASS'
	scenario failed-check fail 120 'kpp_pass a; kpp_fail b "deliberate"; true' \
		'1 check\(s\) failed'
	scenario no-checks fail 120 'echo nothing to check' \
		'no check passed'
	scenario script-status fail 120 'kpp_pass a; exit 3' \
		'exited non-zero: KPP-GUEST-END rc=3'
	scenario kernel-warning fail 120 'kpp_run warn insmod /test/kpp_selftest.ko action=warn; kpp_done' \
		'problem: .*WARNING: .*kpp_selftest'
	scenario kernel-oops fail 120 'kpp_pass before; insmod /test/kpp_selftest.ko action=oops; kpp_pass after' \
		'problem: .*BUG: kernel NULL pointer dereference'
	# The guest never finishes: the hard timeout must kill QEMU.
	scenario timeout fail 20 'kpp_pass before; sleep 600' \
		'never reached the end marker \(timeout 20s'
	[ "$failures" -eq 0 ] || die "$failures scenario(s) got the wrong verdict"
	echo "harness-selftest: all scenarios got the expected verdict"
}

main "$@"
