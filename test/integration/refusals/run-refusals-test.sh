#!/usr/bin/env bash
# integration.refusals: the refusals that need more than a patch folder
# (patches/*-FAIL cover the patches kpatch-build must refuse). Each asserts
# the exit status and the one output line that explains it:
#   compiler mismatch   kpatch-build with CC a gcc wrapper that reports
#                       another version
#   foreign files       -v a vmlinux of another release (its banner edited)
#                       or of another build (vmlinux.o), -c a config other
#                       than the tree's
#   full disk           TMPDIR on a 1 MiB tmpfs (full while backing up the
#                       tree), and on a tmpfs filled while the patched
#                       objects build (the patch is applied by then); the
#                       tree must come back identical (tree_fingerprint)
#   another kernel      (guest-refusals.sh) kpatch load/install of a module
#                       whose vermagic names another release, and one whose
#                       vermagic is the running release on another config
# The full-disk cases mount tmpfs in a private mount namespace (unshare -m),
# which needs root, and work on a private copy of the cached test kernel.
#
# Usage: run-refusals-test.sh --kpatch-build FILE --kpatch FILE [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(dirname "$here")
KPP_PROG=run-refusals-test
# shellcheck source=../host-lib.sh
. "$integ/host-lib.sh"

kpatch_build='' kpatch='' workdir=''
while [ $# -gt 0 ]; do
	case "$1" in
	--kpatch-build) kpatch_build=$2; shift ;;
	--kpatch) kpatch=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
[ -x "$kpatch_build" ] || die "--kpatch-build FILE required"
[ -x "$kpatch" ] || die "--kpatch FILE required"
[ "$(id -u)" = 0 ] || die "must run as root: the full-disk checks mount a small tmpfs"
[ -n "$workdir" ] || workdir=$(mktemp -d -t kpp-refusals.XXXXXX)
rm -rf "$workdir"
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
# Mounts made from here on vanish with this process.
if [ -z "${KPP_REFUSALS_NS:-}" ]; then
	exec env KPP_REFUSALS_NS=1 unshare -m --propagation private "$0" \
		--kpatch-build "$kpatch_build" --kpatch "$kpatch" --workdir "$workdir"
fi

failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
patch=$integ/patches/meminfo-string/fix.patch
cached=$("$integ/build-test-kernel.sh" --print-dir | tail -n1)

# expect_refusal NAME STATUS TEXT: the last run (status in $status, output
# in $out) exited STATUS and exactly one of its lines says TEXT.
expect_refusal() {
	local name=$1 want=$2 text=$3 lines
	echo "--- $name (exit $status):"
	sed 's/^/    /' "$out"
	[ "$status" = "$want" ] && pass "$name: exit status $want" ||
		fail "$name: exit status $status, expected $want"
	lines=$(grep -cF -- "$text" "$out" || true)
	[ "$lines" = 1 ] && pass "$name: says '$text'" ||
		fail "$name: $lines line(s) say '$text', expected 1"
}

compiler_mismatch() {
	local cc=$workdir/other-gcc kernel_cc
	kernel_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$tree/.config")
	printf '#!/bin/sh\n# gcc, but reporting another version\n[ "$1" = --version ] && { echo "gcc (Other) 11.4.0"; exit 0; }\nexec gcc "$@"\n' >"$cc"
	chmod +x "$cc"
	out=$workdir/compiler.out
	status=0
	CC=$cc "$kpatch_build" -s "$tree" -o "$workdir/out-compiler" "$patch" >"$out" 2>&1 || status=$?
	expect_refusal compiler-mismatch 2 \
		"compiler mismatch: the kernel was built with '$kernel_cc' but $cc is 'gcc (Other) 11.4.0'"
}

# tree_files NAME ARGS...: kpatch-build -s $tree ARGS, refused before any build.
tree_files() {
	local name=$1
	shift
	out=$workdir/$name.out
	status=0
	"$kpatch_build" -s "$tree" "$@" -o "$workdir/out-$name" "$patch" >"$out" 2>&1 || status=$?
}

# A vmlinux or config that is not the tree's own (tree_match.h).
foreign_tree_files() {
	local rel other
	rel=$(cat "$tree/include/config/kernel.release")
	other=${rel%?}9
	[ "$other" != "$rel" ] || other=${rel%?}8
	# Every copy of the banner says the other release, as in its build.
	python3 - "$tree/vmlinux" "$workdir/vmlinux-other" "$rel" "$other" <<'PY'
import sys
src, dst, rel, other = sys.argv[1:]
data = open(src, "rb").read()
old, new = f"Linux version {rel} ".encode(), f"Linux version {other} ".encode()
assert old in data and len(old) == len(new)
open(dst, "wb").write(data.replace(old, new))
PY
	tree_files vmlinux-other-release -v "$workdir/vmlinux-other"
	expect_refusal vmlinux-other-release 2 \
		"$workdir/vmlinux-other is the vmlinux of kernel $other, but $tree is kernel $rel"
	tree_files vmlinux-object -v "$tree/vmlinux.o"
	expect_refusal vmlinux-object 2 "$tree/vmlinux.o is not the vmlinux built in $tree"
	sed 's/^CONFIG_SMP=y$/# CONFIG_SMP is not set/' "$tree/.config" >"$workdir/config-up"
	tree_files config-other -c "$workdir/config-up"
	expect_refusal config-other 2 \
		"$workdir/config-up is not the configuration $tree was built with (CONFIG_SMP: not set in $workdir/config-up, y in $tree/.config)"
}

# full_disk NAME SIZE [STAGE]: kpatch-build with TMPDIR on a tmpfs of SIZE;
# with STAGE, the tmpfs is filled up once kpatch-build reports that stage.
full_disk() {
	local name=$1 size=$2 stage=${3:-} tmp=$workdir/tmpfs-$1 pid
	mkdir -p "$tmp"
	mount -t tmpfs -o "size=$size" tmpfs "$tmp"
	out=$workdir/$name.out
	status=0
	TMPDIR=$tmp "$kpatch_build" -s "$tree" -j2 -o "$workdir/out-$name" "$patch" >"$out" 2>&1 &
	pid=$!
	if [ -n "$stage" ]; then
		while kill -0 "$pid" 2>/dev/null && ! grep -q "$stage" "$out"; do sleep 0.1; done
		dd if=/dev/zero of="$tmp/filler" bs=1M 2>/dev/null || true
	fi
	wait "$pid" || status=$?
	expect_refusal "$name" 2 "no space left on device: $tmp (TMPDIR) has"
	if [ -n "$stage" ]; then
		grep -q "applying 1 patch" "$out" && pass "$name: failed after the patch was applied" ||
			fail "$name: the tree was never patched; nothing to restore was tested"
	fi
	tree_fingerprint "$tree" "$workdir/after-$name"
	if cmp -s "$workdir/before" "$workdir/after-$name"; then
		pass "$name: tree identical (content, size, mtime of every file)"
	else
		fail "$name: tree differs:"
		diff "$workdir/before" "$workdir/after-$name" | head -20 || true
	fi
	umount "$tmp"
}

# Modules for the guest: as built, for another release, for another config.
cli_modules() {
	local ko=$workdir/livepatch_refusals.ko other
	"$kpatch_build" -s "$cached" -n livepatch_refusals -o "$workdir" "$patch" >"$workdir/build.out" 2>&1 ||
		{ cat "$workdir/build.out"; die "kpatch-build of the test module failed"; }
	python3 - "$ko" "$workdir" <<'PY'
import sys
ko, work = sys.argv[1], sys.argv[2]
data = open(ko, "rb").read()
start = data.index(b"vermagic=") + len(b"vermagic=")
magic = data[start:data.index(b"\0", start)]
release, rest = magic.split(b" ", 1)
# The same length keeps every offset in the file valid.
other = release[:-1] + (b"9" if release[-1:] != b"9" else b"8")
open(f"{work}/other-release", "wb").write(other + b"\n")
open(f"{work}/other-release.ko", "wb").write(data[:start] + other + data[start + len(release):])
assert b"SMP " in rest, magic
up = release + b" " + rest.replace(b"SMP ", b"", 1)
up += b"\0" * (len(magic) - len(up))
open(f"{work}/other-config.ko", "wb").write(data[:start] + up + data[start + len(magic):])
PY
	"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-refusals.sh" "$kpatch" \
		"$ko" "$workdir/other-release.ko" "$workdir/other-config.ko" "$workdir/other-release"
	if "$integ/run-guest.sh" --kernel "$cached/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 300; then
		pass "kpatch CLI refusals in the guest"
	else
		fail "kpatch CLI refusals in the guest (console: $workdir/console.log)"
	fi
}

tree=$cached
compiler_mismatch
foreign_tree_files
cli_modules

tree=$workdir/linux
private_tree_copy "$cached" "$tree" "$workdir/settle.log"
tree_fingerprint "$tree" "$workdir/before"
echo "tree: $tree ($(wc -l <"$workdir/before") fingerprint lines)"
full_disk full-disk-backup 1m
full_disk full-disk-patched-build 64m "building patched objects"

if [ "$failures" = 0 ]; then
	rm -rf "$tree"
	echo "PASS integration.refusals"
	exit 0
fi
echo "FAIL integration.refusals: $failures check(s) failed (work directory $workdir)"
exit 1
