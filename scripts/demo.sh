#!/usr/bin/env bash
# The main job, end to end, on the real Debian stock kernel: build kpatch++,
# build a live patch for /proc/meminfo with `kpatch-build -a REL` (the distro
# fast path: no kernel build, the prepared source tree is cached per
# release), boot that exact kernel (/boot/vmlinuz-REL, installed by
# setup.sh) in QEMU, and show /proc/meminfo before the patch, while it is
# loaded, and after it is unloaded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KPP_BUILD_DIR:-$top/build}
integration=$top/test/integration
start=$SECONDS
KPP_PROG=demo
# shellcheck source=../test/integration/host-lib.sh
. "$integration/host-lib.sh"
# shellcheck source=../test/integration/stock/stock-lib.sh
. "$integration/stock/stock-lib.sh"

bash "$top/scripts/setup.sh"
echo "== building kpatch++"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(($(nproc) + 1))" >/dev/null

release=$(stock_release)
image=$(stock_kernel_image "$release")
echo "== the Debian stock kernel: $release ($image)"

work=$(mktemp -d -t kpp-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
patch=$integration/patches/meminfo-string/fix.patch
echo "== the patch"
cat "$patch"
echo "== kpatch-build -a $release (first run prepares the source tree, then it is cached)"
build_start=$SECONDS
"$build/kpatch-build/kpatch-build" -a "$release" -n livepatch_meminfo_demo -o "$work" "$patch"
echo "   kpatch-build took $((SECONDS - build_start)) s"

echo "== booting $release in QEMU and loading the patch"
"$integration/make-initramfs.sh" "$work/initramfs.cpio.gz" "$top/scripts/demo-guest.sh" \
	"$work/livepatch_meminfo_demo.ko" >/dev/null
status=0
"$integration/run-guest.sh" --kernel "$image" \
	--initrd "$work/initramfs.cpio.gz" --log "$work/console.log" --timeout 240 || status=$?
grep -a '^DEMO' "$work/console.log" | tr -d '\r' | sed 's/^DEMO /   /'
if [ $status -ne 0 ]; then
	echo "== the demo failed; the console log follows"
	cat "$work/console.log"
	exit $status
fi
echo "== done in $((SECONDS - start)) s: the stock kernel's /proc/meminfo changed while the"
echo "   live patch was loaded and came back when it was disabled and unloaded."
