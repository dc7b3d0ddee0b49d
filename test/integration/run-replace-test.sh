#!/usr/bin/env bash
# -R/--non-replace and atomic replace, end to end: kpatch-build builds two
# non-replace patches (meminfo label: patches/meminfo-string; a /proc/version
# line: replace/version-b.patch) and a cumulative patch without -R that
# changes both functions differently (replace/cumulative.patch); the guest
# (guest/replace-test.sh) stacks the first two, loads the third, checks that
# it replaced them, then disables it and checks the original behaviour.
#   run-replace-test.sh KPATCH_BUILD [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kpatch_build=${1:?usage: run-replace-test.sh KPATCH_BUILD [--workdir DIR]}
shift
work=""
while [ $# -gt 0 ]; do
	case "$1" in
	--workdir) work=$2; shift 2 ;;
	*) echo "run-replace-test: unknown argument: $1" >&2; exit 2 ;;
	esac
done
if [ -z "$work" ]; then
	work=$(mktemp -d -t kpp-replace.XXXXXX)
	trap 'rm -rf "$work"' EXIT
else
	rm -rf "$work"
	mkdir -p "$work"
fi

tree=$("$here/build-test-kernel.sh" --print-dir | tail -n1)
build() { # NAME [kpatch-build options] PATCH...
	local name=$1
	shift
	echo "== kpatch-build $name"
	"$kpatch_build" -s "$tree" -n "$name" -o "$work" "$@"
}
build livepatch_replace_a -R "$here/patches/meminfo-string/fix.patch"
build livepatch_replace_b -R "$here/replace/version-b.patch"
build livepatch_replace_c "$here/replace/cumulative.patch"

"$here/make-initramfs.sh" "$work/initramfs.cpio.gz" "$here/guest/replace-test.sh" \
	"$work/livepatch_replace_a.ko" "$work/livepatch_replace_b.ko" "$work/livepatch_replace_c.ko"
"$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
	--initrd "$work/initramfs.cpio.gz" --log "$work/console.log" --timeout 240
