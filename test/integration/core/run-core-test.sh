#!/usr/bin/env bash
# integration.core: kmod/core (kpatch.ko, our ftrace patch engine) on the
# test kernel. The kernel has CONFIG_LIVEPATCH; the core does not use it
# (it is forced on this kernel, see docs/core.md).
# Builds kpatch.ko and the test patches of kmod/core/test/ in a copy of
# kmod/core (the source tree stays clean), boots the guest and runs
# guest-core.sh: patch/unpatch of /proc/cmdline, sysfs, stacking, the
# activeness safety check, and a stress of 100 enable/disable cycles
# under concurrent readers; then the kpp_core_bench.ko microbenchmark.
#
# Usage: run-core-test.sh [--workdir DIR]   (default: a fresh temp dir, kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/.." && pwd)
src=$(cd "$here/../../../kmod/core" && pwd)
KPP_PROG=run-core-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"

# make -C TREE M=DIR [ARGS...]; the log is printed on failure.
kbuild() {
	local tree=$1 dir=$2 log=$3
	shift 3
	make -C "$tree" M="$dir" "$@" modules >"$log" 2>&1 ||
		{ cat "$log" >&2; die "building in $dir failed"; }
}

build_modules() {
	local tree=$1 dir="$workdir/src"
	rm -rf "$dir"
	cp -r "$src" "$dir"
	kbuild "$tree" "$dir" "$workdir/core-build.log"
	kbuild "$tree" "$dir/test" "$workdir/test-build.log" \
		KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers"
	local m
	for m in kpatch.ko test/kpp_core_test.ko test/kpp_core_test2.ko test/kpp_core_busy.ko test/kpp_core_bench.ko; do
		[ -f "$dir/$m" ] || die "no $m produced"
	done
}

main() {
	parse_workdir_args "$@"
	local tree dir
	tree=$("$integ/build-test-kernel.sh" --print-dir)
	build_modules "$tree"
	dir="$workdir/src"
	"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-core.sh" \
		"$dir/kpatch.ko" "$dir/test/kpp_core_test.ko" \
		"$dir/test/kpp_core_test2.ko" "$dir/test/kpp_core_busy.ko" \
		"$dir/test/kpp_core_bench.ko"
	"$integ/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_CORE_TIMEOUT:-600}"
}

main "$@"
