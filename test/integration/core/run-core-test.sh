#!/usr/bin/env bash
# integration.core: kmod/core (kpatch.ko, our ftrace patch engine) on the
# test kernel without the livepatch core (--variant nolivepatch, as ctest
# runs it; without --variant, the base kernel, where the core ignores
# CONFIG_LIVEPATCH: docs/core.md).
# Builds kpatch.ko and the test patches of kmod/core/test/ in a copy of
# kmod/core (the source tree stays clean), boots the guest and runs
# guest-core.sh: patch/unpatch of /proc/cmdline, sysfs, stacking, the
# first-bytes check, the activeness safety check, and a stress of 100
# enable/disable cycles under concurrent readers; the shadow variable API
# (kpp_core_shadow.ko); then the kpp_core_bench.ko microbenchmark.
#
# Usage: run-core-test.sh [--workdir DIR] [--variant NAME]
#   (workdir default: a fresh temp dir, kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/.." && pwd)
KPP_PROG=run-core-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"

# shellcheck source=core-lib.sh
. "$here/core-lib.sh"

build_modules() {
	local tree=$1 dir="$workdir/src" m
	kpp_build_core "$tree" "$dir"
	for m in test/kpp_core_test.ko test/kpp_core_test2.ko test/kpp_core_busy.ko test/kpp_core_bench.ko test/kpp_core_bytes.ko test/kpp_core_shadow.ko; do
		[ -f "$dir/$m" ] || die "no $m produced"
	done
}

# first_bytes VMLINUX SYMBOL: the symbol's first 16 bytes, as 32 hex digits.
first_bytes() {
	local addr hex
	addr=$(nm "$1" | awk -v s="$2" '$3 == s && !a { a = $1 } END { print a }')
	[ -n "$addr" ] || die "no symbol $2 in $1"
	hex=$(objdump -s --start-address="0x$addr" --stop-address=$((0x$addr + 16)) "$1" |
		awk 'length($1) == 16 && $1 ~ /^[0-9a-f]+$/ { for (i = 2; i <= 5; i++) printf "%s", $i }')
	[ ${#hex} -eq 32 ] || die "cannot read 16 bytes of $2 from $1 (got '$hex')"
	echo "$hex"
}

main() {
	local variant=() args=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--variant) variant=(--variant "$2"); shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	parse_workdir_args "${args[@]+"${args[@]}"}"
	local tree dir
	tree=$("$integ/build-test-kernel.sh" --print-dir "${variant[@]+"${variant[@]}"}")
	build_modules "$tree"
	dir="$workdir/src"
	first_bytes "$tree/vmlinux" cmdline_proc_show >"$workdir/cmdline-bytes"
	"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-core.sh" \
		"$dir/kpatch.ko" "$dir/test/kpp_core_test.ko" \
		"$dir/test/kpp_core_test2.ko" "$dir/test/kpp_core_busy.ko" \
		"$dir/test/kpp_core_bench.ko" "$dir/test/kpp_core_bytes.ko" \
		"$dir/test/kpp_core_shadow.ko" "$workdir/cmdline-bytes"
	"$integ/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_CORE_TIMEOUT:-600}"
}

main "$@"
