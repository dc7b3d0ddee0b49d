#!/usr/bin/env bash
# integration.arm64.patch.NAME: `kpatch-build -a REL` on this x86_64 machine
# for Debian's arm64 cloud kernel REL (arm64-lib.sh: the release of
# linux-source-6.1's version), cross-compiled in kpatch-build's cached
# prepared tree, then that exact kernel boots under qemu-system-aarch64 TCG
# and guest/patch-test.sh (the x86_64 patch tests' guest half) runs
# patches/NAME/check.sh before loading, while kpatch.ko has the patch
# enabled (exactly check.sh's kpp_functions replaced) and after disabling
# and unloading it.
#
# The patch is patches/NAME/*.patch, or arm64/patches/NAME/*.patch where the
# x86_64 one patches x86 code (shadow-vars: arch_dup_task_struct). The
# config lacks CONFIG_LIVEPATCH, so kpatch-build must pick kpatch.ko itself
# (checked). A patches/NAME/expect-refusal-core is refused instead (exit 1,
# that text on exactly one line): kpatch.ko patches vmlinux only.
#
# --skip-compiler-check: Debian's arm64 kernel was built by gcc-12
# 12.2.0-14+deb12u1, bookworm's cross compiler is 12.2.0-14, and the
# originals it compiles are not the kernel's code (the +deb12u1 frame
# layout), so kpatch-build refuses without it (docs/kpatch-build.md, "The
# compiler"). --compiler-check runs instead the build without the option
# and passes when it is refused that way (exit 2, one line).
#
# Usage: run-arm64-patch-test.sh KPATCH_BUILD NAME [--compiler-check] [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/.." && pwd)
KPP_PROG=run-arm64-patch-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"
# shellcheck source=arm64-lib.sh
. "$here/arm64-lib.sh"

# expect_one_line STATUS WANTED TEXT: kpatch-build exited STATUS as wanted
# and exactly one line of its output contains TEXT.
expect_one_line() {
	local status=$1 wanted=$2 text=$3 lines
	[ "$status" = "$wanted" ] || die "kpatch-build exited $status, expected $wanted"
	lines=$(grep -cF -- "$text" "$workdir/build.log" || true)
	[ "$lines" = 1 ] || die "$lines line(s) of kpatch-build's output say '$text', expected 1"
	echo "PASS: refused (exit $status): $(grep -F -- "$text" "$workdir/build.log")"
}

main() {
	[ $# -ge 2 ] || die "usage: run-arm64-patch-test.sh KPATCH_BUILD NAME [--compiler-check] [--workdir DIR]"
	local kpatch_build=$1 name=$2 compiler_check=false args=() rel root dir patches module \
		options=(--skip-compiler-check) status=0 start
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--compiler-check) compiler_check=true options=() ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	parse_workdir_args "${args[@]+"${args[@]}"}"
	rel=$(arm64_release)
	root=$(arm64_root "$rel")
	dir=$integ/patches/$name
	[ -f "$dir/check.sh" ] || die "$dir/check.sh missing: not a patch test"
	patches=$dir
	[ -d "$here/patches/$name" ] && patches=$here/patches/$name
	module=$(echo "livepatch-arm64-$name" | tr - _)
	rm -f "$workdir"/*.ko
	start=$SECONDS
	"$kpatch_build" -a "$rel" "${options[@]+"${options[@]}"}" -n "$module" -o "$workdir" \
		"$patches"/*.patch >"$workdir/build.log" 2>&1 || status=$?
	cat "$workdir/build.log"
	echo "$KPP_PROG: kpatch-build -a $rel took $((SECONDS - start)) s"
	if $compiler_check; then
		expect_one_line "$status" 2 "is not the kernel's code, built with"
		grep -F "is not the kernel's code" "$workdir/build.log" | grep -qF -- --skip-compiler-check ||
			die "the refusal does not say what to do (--skip-compiler-check)"
		return
	fi
	if [ -f "$dir/expect-refusal-core" ]; then
		expect_one_line "$status" 1 "$(cat "$dir/expect-refusal-core")"
		return
	fi
	[ "$status" = 0 ] || die "kpatch-build -a $rel failed (exit $status)"
	grep -qF "the module is for kpatch.ko" "$workdir/build.log" ||
		die "kpatch-build did not choose kpatch.ko for a kernel without CONFIG_LIVEPATCH"
	[ -f "$workdir/kpatch.ko" ] || die "kpatch-build made no kpatch.ko in $workdir"
	file "$workdir/$module.ko" "$workdir/kpatch.ko" | grep -c 'ARM aarch64' | grep -qx 2 ||
		die "the modules are not arm64 objects: $(file "$workdir"/*.ko)"
	echo "$module" >"$workdir/patch-name"
	KPP_BUSYBOX=$root/bin/busybox "$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" \
		"$integ/guest/patch-test.sh" "$workdir/$module.ko" "$workdir/kpatch.ko" \
		"$dir/check.sh" "$workdir/patch-name"
	"$integ/run-guest.sh" --arch arm64 --kernel "$root/boot/vmlinuz-$rel" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_ARM64_TIMEOUT:-300}"
}

main "$@"
