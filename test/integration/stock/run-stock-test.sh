#!/usr/bin/env bash
# integration.stock.NAME: build patches/NAME with `kpatch-build -a REL` (no
# -s: the Debian fast path, no kernel build) for the installed Debian stock
# kernel (or, with --release REL, any release the archive has: its image is
# then downloaded and unpacked, never installed; stock-lib.sh), boot that
# exact kernel (/boot/vmlinuz-REL) under QEMU TCG, and run
# guest/patch-test.sh: patches/NAME/check.sh before loading, while loaded
# (enabled=1, transition=0, functions listed) and after unloading.
# The stock modules named in patches/NAME/modules (paths under
# /lib/modules/REL/kernel) go into the initramfs with their dependencies.
#
# Usage: run-stock-test.sh KPATCH_BUILD NAME [--release REL] [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integration=$(dirname "$here")

KPP_PROG=run-stock-test
# shellcheck source=../host-lib.sh
. "$integration/host-lib.sh"
# shellcheck source=stock-lib.sh
. "$here/stock-lib.sh"

# build_patch KPATCH_BUILD REL DIR MODULE: MODULE.ko in $workdir, timed;
# kpatch-build's output also in $workdir/build.log.
build_patch() {
	local kpatch_build=$1 rel=$2 dir=$3 module=$4 start=$SECONDS
	"$kpatch_build" -a "$rel" -n "$module" -o "$workdir" "$dir"/*.patch 2>&1 | tee "$workdir/build.log"
	echo "run-stock-test: kpatch-build -a $rel took $((SECONDS - start)) s"
}

# stage_modules REL DIR: sets `modules` to the stock modules to copy
# (patches/NAME/modules with their dependencies) and writes the dependencies'
# names, in load order, to $workdir/dependencies for the guest.
stage_modules() {
	local rel=$1 dir=$2 path list files f
	modules=()
	: >"$workdir/dependencies"
	[ -f "$dir/modules" ] || return 0
	while read -r path; do
		list=$(stock_module_with_dependencies "$rel" "$path")
		mapfile -t files <<<"$list"
		modules+=("${files[@]}")
		for f in "${files[@]:0:${#files[@]}-1}"; do
			basename "$f" >>"$workdir/dependencies"
		done
	done <"$dir/modules"
}

main() {
	[ $# -ge 2 ] || die "usage: run-stock-test.sh KPATCH_BUILD NAME [--release REL] [--workdir DIR]"
	local kpatch_build=$1 name=$2 rel= dir module modules image
	shift 2
	if [ "${1:-}" = --release ]; then
		rel=$2
		shift 2
	fi
	parse_workdir_args "$@"
	dir=$integration/patches/$name
	[ -f "$dir/check.sh" ] || die "$dir/check.sh missing: not a patch test"
	module=$(echo "livepatch-stock-$name" | tr - _)
	[ -n "$rel" ] || rel=$(stock_release)
	build_patch "$kpatch_build" "$rel" "$dir" "$module"
	echo "$module" >"$workdir/patch-name"
	stage_modules "$rel" "$dir"
	image=$(stock_kernel_image "$rel")
	"$integration/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest.sh" \
		"$integration/guest/patch-test.sh" "$workdir/dependencies" \
		"$workdir/$module.ko" "$dir/check.sh" "$workdir/patch-name" "${modules[@]}"
	"$integration/run-guest.sh" --kernel "$image" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 300
}

main "$@"
