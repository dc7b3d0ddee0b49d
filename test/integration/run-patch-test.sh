#!/usr/bin/env bash
# One integration test: build the patch in patches/NAME with kpatch-build
# against the cached test kernel, boot it in QEMU, and run the check before
# loading, while loaded, and after unloading (guest/patch-test.sh).
# A test with an `expect-refusal` file instead expects kpatch-build to refuse
# with a message containing that file's text.
#   run-patch-test.sh KPATCH_BUILD NAME
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kpatch_build=$1 name=$2
dir=$here/patches/$name
module=$(echo "livepatch-$name" | tr - _)
work=$(mktemp -d -t "kpp-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

tree=$("$here/build-test-kernel.sh" --print-dir)

if [ -f "$dir/expect-refusal" ]; then
	expected=$(cat "$dir/expect-refusal")
	if "$kpatch_build" -s "$tree" -n "$module" -o "$work" "$dir"/*.patch >"$work/out" 2>&1; then
		cat "$work/out"
		echo "FAIL $name: kpatch-build accepted a patch it must refuse"
		exit 1
	fi
	cat "$work/out"
	grep -qF -- "$expected" "$work/out" || { echo "FAIL $name: refusal does not say '$expected'"; exit 1; }
	echo "PASS $name: refused"
	exit 0
fi

"$kpatch_build" -s "$tree" -n "$module" -o "$work" "$dir"/*.patch
echo "$module" >"$work/patch-name"
extra=()
[ -f "$dir/modules" ] && while read -r m; do extra+=("$tree/$m"); done <"$dir/modules"
"$here/make-initramfs.sh" "$work/initramfs.cpio.gz" "$here/guest/patch-test.sh" \
	"$work/$module.ko" "$dir/check.sh" "$work/patch-name" "${extra[@]}"
"$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
	--initrd "$work/initramfs.cpio.gz" --log "$work/console.log" --timeout 240
