#!/usr/bin/env bash
# The main job, end to end: build kpatch++, build (or reuse) the 6.1 test
# kernel, build a live patch for /proc/meminfo with kpatch-build, boot the
# kernel in QEMU, and show /proc/meminfo before the patch, while it is
# loaded, and after it is unloaded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KPP_BUILD_DIR:-$top/build}
integration=$top/test/integration
start=$SECONDS

bash "$top/scripts/setup.sh"
echo "== building kpatch++"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(($(nproc) + 1))" >/dev/null

echo "== the test kernel (built once, then cached under ~/.cache/kpatchpp)"
tree=$("$integration/build-test-kernel.sh" --print-dir)
echo "   $tree"

work=$(mktemp -d -t kpp-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
patch=$integration/patches/meminfo-string/fix.patch
echo "== the patch"
cat "$patch"
echo "== kpatch-build"
"$build/kpatch-build/kpatch-build" -s "$tree" -n livepatch_meminfo_demo -o "$work" "$patch"

echo "== booting the kernel in QEMU and loading the patch"
"$integration/make-initramfs.sh" "$work/initramfs.cpio.gz" "$top/scripts/demo-guest.sh" \
	"$work/livepatch_meminfo_demo.ko" >/dev/null
status=0
"$integration/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
	--initrd "$work/initramfs.cpio.gz" --log "$work/console.log" --timeout 240 || status=$?
grep -a '^DEMO' "$work/console.log" | sed 's/^DEMO /   /'
if [ $status -ne 0 ]; then
	echo "== the demo failed; the console log follows"
	cat "$work/console.log"
	exit $status
fi
echo "== done in $((SECONDS - start)) s: the running kernel's /proc/meminfo changed while the"
echo "   live patch was loaded and came back when it was disabled and unloaded."
