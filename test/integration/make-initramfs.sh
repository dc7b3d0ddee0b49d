#!/usr/bin/env bash
# Build a busybox initramfs that runs one guest test script.
#
# Usage: make-initramfs.sh OUT.cpio.gz GUEST_SCRIPT [FILE...]
#   FILEs (modules, helper binaries) are copied to /test/ in the guest;
#   dynamically linked executables get their shared libraries too.
#   guest/lib.sh is always copied to /test/lib.sh.
# The guest's /init mounts proc/sys/devtmpfs/tmpfs (and debugfs when the
# kernel has it), runs `sh /test/guest.sh`, prints
#   KPP-GUEST-END rc=<exit status>
# and then `reboot -f` (QEMU with -no-reboot exits on that).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=${KPP_BUSYBOX:-/bin/busybox}
root= # staging dir; global so the EXIT trap can remove it

die() { echo "make-initramfs: error: $*" >&2; exit 1; }

usage() { sed -n '2,11p' "$0" >&2; exit 2; }

check_tools() {
	local t
	for t in cpio gzip ldd file; do
		command -v "$t" >/dev/null || die "'$t' not found; run scripts/setup.sh"
	done
	[ -x "$busybox" ] || die "$busybox missing; install busybox-static"
	# A dynamic busybox would need its libraries; insist on the static one.
	file -L "$busybox" | grep -q 'statically linked' ||
		die "$busybox is not statically linked; install busybox-static"
}

write_init() {
	cat >"$1/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# debugfs is optional in the test kernel; mount it when it exists.
if grep -qw debugfs /proc/filesystems; then
	mount -t debugfs debugfs /sys/kernel/debug
fi
exec </dev/console >/dev/console 2>&1
echo "KPP-GUEST-START $(uname -r)"
cd /test
sh /test/guest.sh
rc=$?
echo "KPP-GUEST-END rc=$rc"
sync
reboot -f
EOF
	chmod 755 "$1/init"
}

# Copy a dynamically linked ELF's libraries (and loader) at their host paths.
copy_libs() {
	local root=$1 bin=$2 lib
	for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' || true); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

copy_file() {
	local root=$1 f=$2
	[ -f "$f" ] || die "no such file: $f"
	cp -L "$f" "$root/test/"
	if [ -x "$f" ] && file -L "$f" | grep -q 'dynamically linked'; then
		copy_libs "$root" "$f"
	fi
}

main() {
	[ $# -ge 2 ] || usage
	local out=$1 script=$2 f
	shift 2
	[ -f "$script" ] || die "no such guest script: $script"
	check_tools
	root=$(mktemp -d)
	trap 'rm -rf "${root:-}"' EXIT
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,test}
	cp "$busybox" "$root/bin/busybox"
	# The kernel opens /dev/console before /init runs; without the node the
	# first messages of /init would be lost (needs root; /init re-opens it
	# from devtmpfs anyway).
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
	write_init "$root"
	cp "$here/guest/lib.sh" "$root/test/lib.sh"
	cp "$script" "$root/test/guest.sh"
	for f in "$@"; do
		copy_file "$root" "$f"
	done
	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

main "$@"
