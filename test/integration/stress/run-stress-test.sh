#!/usr/bin/env bash
# integration.stress: load/unload cycles of two stacked livepatches with the
# real kpatch CLI while readers keep calling the patched functions.
#   A (-R): patches/meminfo-string       meminfo_proc_show -> "MemTotal(kpatch++): "
#   B (-R): patches/syscall-uname + stress/meminfo-b.patch
#           override_release -> uname -r ends in "-kpp", and meminfo_proc_show
#           again -> "MemTotal(stress-b): " (two patches on one function: the
#           livepatch core's per-function stack and its ftrace handler)
# The guest (guest-stress.sh) runs CYCLES cycles of load A, load B, unload in
# alternating order, with /proc/meminfo and uname readers running all along;
# every output must be one of the old or new ones. run-guest.sh fails the run
# on any oops, BUG or WARNING on the console; the guest also checks dmesg.
#
# Usage: run-stress-test.sh --kpatch-build FILE --kpatch FILE [--cycles N]
#                           [--workdir DIR] [--stage build|guest|all]
# --stage build builds the two modules and the initramfs in DIR (it needs the
# test kernel tree); --stage guest boots the kernel on what build left in DIR
# (it needs only the bzImage, so ctest runs it beside other tests that use
# the tree); all (the default) does both.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(dirname "$here")
KPP_PROG=run-stress-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"

kpatch_build='' kpatch='' workdir='' cycles=100 stage=all
while [ $# -gt 0 ]; do
	case "$1" in
	--kpatch-build) kpatch_build=$2; shift ;;
	--kpatch) kpatch=$2; shift ;;
	--cycles) cycles=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	--stage) stage=$2; shift ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
[[ "$stage" =~ ^(build|guest|all)$ ]] || die "--stage build|guest|all, not '$stage'"
[ -x "$kpatch_build" ] || die "--kpatch-build FILE required"
[ -x "$kpatch" ] || die "--kpatch FILE required"
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || die "--cycles N: a positive number, not '$cycles'"
if [ -z "$workdir" ]; then
	[ "$stage" = all ] || die "--stage $stage needs --workdir DIR"
	workdir=$(mktemp -d -t kpp-stress.XXXXXX)
fi
tree=$("$integ/build-test-kernel.sh" --print-dir | tail -n1)

build_stage() {
	rm -rf "$workdir"
	mkdir -p "$workdir"
	"$kpatch_build" -s "$tree" -R -n livepatch_stress_a -o "$workdir" \
		"$integ/patches/meminfo-string/fix.patch"
	"$kpatch_build" -s "$tree" -R -n livepatch_stress_b -o "$workdir" \
		"$integ/patches/syscall-uname/fix.patch" "$here/meminfo-b.patch"
	echo "$cycles" >"$workdir/cycles"
	"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-stress.sh" \
		"$kpatch" "$workdir/livepatch_stress_a.ko" "$workdir/livepatch_stress_b.ko" \
		"$workdir/cycles"
}

guest_stage() {
	local start=$SECONDS status=0 summary
	[ -f "$workdir/initramfs.cpio.gz" ] || die "$workdir/initramfs.cpio.gz missing: run --stage build first"
	cycles=$(cat "$workdir/cycles")
	# About 9 s a cycle under TCG on a quiet machine, 13 s on a busy one;
	# the limit leaves room for a slower one.
	"$integ/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout $((120 + cycles * 25)) || status=$?
	summary=$(tr -d '\r' <"$workdir/console.log" | sed -n 's/^KPP-INFO stress: //p' | tail -n1)
	if [ "$status" -ne 0 ]; then
		echo "FAIL integration.stress: ${summary:-no summary from the guest} (console: $workdir/console.log)"
		exit 1
	fi
	echo "PASS integration.stress: $summary; guest $((SECONDS - start))s"
}

case "$stage" in
build) build_stage ;;
guest) guest_stage ;;
all) build_stage && guest_stage ;;
esac
