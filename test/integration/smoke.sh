#!/usr/bin/env bash
# Smoke test for the test kernel and the QEMU harness: build the kernel's own
# samples/livepatch/livepatch-sample.c out of tree, boot, load it, check
# /proc/cmdline changes, disable, unload, check it is restored; then load
# binfmt_misc.ko and read its status.
#
# Usage: smoke.sh [--workdir DIR]   (default: a fresh temp dir, kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

KPP_PROG=smoke
# shellcheck source=host-lib.sh
. "$here/host-lib.sh"

# Out-of-tree build against the cached tree, exactly as a generated
# livepatch module will be built: a copied source plus a one-line Kbuild.
build_sample() {
	local tree=$1 dir="$workdir/livepatch-sample"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$tree/samples/livepatch/livepatch-sample.c" "$dir/"
	echo 'obj-m := livepatch-sample.o' >"$dir/Kbuild"
	make -C "$tree" M="$dir" modules >"$workdir/sample-build.log" 2>&1 ||
		{ cat "$workdir/sample-build.log" >&2; die "building livepatch-sample.ko failed"; }
	[ -f "$dir/livepatch-sample.ko" ] || die "no livepatch-sample.ko produced"
	echo "$dir/livepatch-sample.ko"
}

main() {
	parse_workdir_args "$@"
	local tree ko
	tree=$("$here/build-test-kernel.sh" --print-dir)
	ko=$(build_sample "$tree")
	[ -f "$tree/fs/binfmt_misc.ko" ] || die "$tree/fs/binfmt_misc.ko missing (CONFIG_BINFMT_MISC=m?)"
	"$here/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest/smoke.sh" \
		"$ko" "$tree/fs/binfmt_misc.ko"
	"$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 180
}

main "$@"
