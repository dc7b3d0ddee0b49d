#!/usr/bin/env bash
# integration.core: kmod/core (kpatch.ko, our ftrace patch engine) on the
# test kernel without the livepatch core (--variant nolivepatch, as ctest
# runs it; without --variant, the base kernel, where the core ignores
# CONFIG_LIVEPATCH: docs/core.md).
# integration.arm64.core: the same on Debian's arm64 cloud kernel as
# shipped (no CONFIG_LIVEPATCH; arm64/arm64-lib.sh), the modules
# cross-built against its headers.
# Builds kpatch.ko and the test patches of kmod/core/test/ in a copy of
# kmod/core (the source tree stays clean), boots the guest and runs
# guest-core.sh: patch/unpatch of /proc/cmdline, sysfs, stacking, the
# first-bytes check, the activeness safety check, and a stress of 100
# enable/disable cycles under concurrent readers; the shadow variable API
# (kpp_core_shadow.ko); then the kpp_core_bench.ko microbenchmark.
#
# Usage: run-core-test.sh [--arch arm64 | --variant NAME] [--workdir DIR]
#   (default: the x86_64 test kernel; workdir: a fresh temp dir, kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/.." && pwd)
KPP_PROG=run-core-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"

# shellcheck source=core-lib.sh
. "$here/core-lib.sh"
# shellcheck source=../arm64/arm64-lib.sh
. "$integ/arm64/arm64-lib.sh"

build_modules() {
	local dir="$workdir/src" m
	kpp_build_core "$dir" "${make_args[@]}"
	for m in test/kpp_core_test.ko test/kpp_core_test2.ko test/kpp_core_busy.ko test/kpp_core_bench.ko test/kpp_core_bytes.ko test/kpp_core_shadow.ko; do
		[ -f "$dir/$m" ] || die "no $m produced"
	done
}

# symbol_address VMLINUX SYMBOL: the first SYMBOL's address in hex (binutils'
# nm and objdump -s read either architecture's ELF).
symbol_address() {
	local addr
	addr=$(nm "$1" | awk -v s="$2" '$3 == s && !a { a = $1 } END { print a }')
	[ -n "$addr" ] || die "no symbol $2 in $1"
	echo "$addr"
}

# first_bytes VMLINUX SYMBOL: the symbol's first 16 bytes, as 32 hex digits.
first_bytes() {
	local addr hex
	addr=$(symbol_address "$1" "$2")
	hex=$(objdump -s --start-address="0x$addr" --stop-address=$((0x$addr + 16)) "$1" |
		awk 'length($1) == 16 && $1 ~ /^[0-9a-f]+$/ { for (i = 2; i <= 5; i++) printf "%s", $i }')
	[ ${#hex} -eq 32 ] || die "cannot read 16 bytes of $2 from $1 (got '$hex')"
	echo "$hex"
}

# The kernel to test, per architecture: make_args (the make of its
# modules), image, vmlinux, busybox (the guest's), and site_bytes: how many first
# bytes of a function ftrace rewrites (x86_64: the 5-byte call __fentry__;
# arm64: the two nops of -fpatchable-function-entry=2, "mov x9, x30; bl
# <trampoline>" while traced, at the very start without BTI_KERNEL).
select_kernel() {
	local tree rel root
	case "$1" in
	x86_64)
		tree=$("$integ/build-test-kernel.sh" --print-dir "${variant[@]+"${variant[@]}"}")
		make_args=(make -C "$tree")
		image=$tree/arch/x86/boot/bzImage vmlinux=$tree/vmlinux site_bytes=5
		busybox=${KPP_BUSYBOX:-/bin/busybox} ;;
	arm64)
		rel=$(arm64_release)
		root=$(arm64_root "$rel")
		! grep -qx 'CONFIG_ARM64_BTI_KERNEL=y' "$root/boot/config-$rel" ||
			die "$rel has BTI_KERNEL: its ftrace site starts after a bti c, which this test does not expect"
		make_args=(arm64_make "$rel")
		image=$root/boot/vmlinuz-$rel vmlinux=$root/usr/lib/debug/boot/vmlinux-$rel site_bytes=8
		busybox=$root/bin/busybox
		extra_modules=(test/kpp_core_relocs.ko) ;;
	*) die "unknown --arch $1 (x86_64 or arm64)" ;;
	esac
}

main() {
	local arch=x86_64 variant=() args=() dir make_args image vmlinux site_bytes busybox \
		extra_modules=() m
	while [ $# -gt 0 ]; do
		case "$1" in
		--arch) arch=$2; shift ;;
		--variant) variant=(--variant "$2"); shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	parse_workdir_args "${args[@]+"${args[@]}"}"
	select_kernel "$arch"
	build_modules
	dir="$workdir/src"
	first_bytes "$vmlinux" cmdline_proc_show >"$workdir/cmdline-bytes"
	echo "$site_bytes" >"$workdir/site-bytes"
	echo "$arch" >"$workdir/arch"
	# kpp_core_relocs.ko (arm64) gets the -dbg vmlinux's addresses.
	printf 'vmlinux_text=0x%s banner=0x%s cmdline=0x%s\n' "$(symbol_address "$vmlinux" _text)" \
		"$(symbol_address "$vmlinux" linux_banner)" \
		"$(symbol_address "$vmlinux" cmdline_proc_show)" >"$workdir/relocs-args"
	for m in "${extra_modules[@]}"; do
		[ -f "$dir/$m" ] || die "no $m produced"
	done
	KPP_BUSYBOX=$busybox "$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-core.sh" \
		"$dir/kpatch.ko" "$dir/test/kpp_core_test.ko" \
		"$dir/test/kpp_core_test2.ko" "$dir/test/kpp_core_busy.ko" \
		"$dir/test/kpp_core_bench.ko" "$dir/test/kpp_core_bytes.ko" \
		"$dir/test/kpp_core_shadow.ko" "$workdir/cmdline-bytes" "$workdir/site-bytes" \
		"$workdir/arch" "$workdir/relocs-args" "${extra_modules[@]/#/$dir/}"
	"$integ/run-guest.sh" --arch "$arch" --kernel "$image" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_CORE_TIMEOUT:-600}"
}

main "$@"
