#!/usr/bin/env bash
# integration.arm64.boot: Debian's exact arm64 cloud kernel (vmlinuz of
# linux-image-REL-cloud-arm64, fetched by scripts/setup.sh, never installed)
# boots under qemu-system-aarch64 TCG with a busybox-static:arm64 initramfs,
# runs guest-boot.sh and powers off, within a timeout.
#
# Usage: run-arm64-boot.sh [--workdir DIR]   (default: a fresh temp dir, kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/.." && pwd)
KPP_PROG=run-arm64-boot
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"
# shellcheck source=arm64-lib.sh
. "$here/arm64-lib.sh"

main() {
	parse_workdir_args "$@"
	local rel root
	rel=$(arm64_release)
	root=$(arm64_root "$rel")
	echo "$rel" >"$workdir/release"
	KPP_BUSYBOX=$root/bin/busybox "$integ/make-initramfs.sh" \
		"$workdir/initramfs.cpio.gz" "$here/guest-boot.sh" "$workdir/release"
	"$integ/run-guest.sh" --arch arm64 --kernel "$root/boot/vmlinuz-$rel" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_ARM64_TIMEOUT:-300}"
}

main "$@"
