#!/usr/bin/env bash
# Installs the .deb into a fresh Debian bookworm root made with debootstrap
# and runs it there:
#   - apt-get install ./PACKAGE.deb resolves the dependencies inside the root;
#   - kpatch-build --help, kpatch version, kpatch --help, the man pages and
#     the unit (systemd-analyze verify against the root) are checked;
#   - the installed kpatch-build builds the meminfo-string integration patch
#     against the cached test kernel, with no source tree in the root: the
#     module template can only come from /usr/share/kpatchpp/kmod/patch. The
#     installed kpatch reads the module. The root sees the kernel tree at the
#     same path (its .cmd files name absolute paths) through an overlay, so
#     the cached tree itself is never written; its flock is held meanwhile,
#     so no kpatch-build on the host changes it underneath the overlay.
#   - that run and a second one (another module name, version 2: a newer
#     cumulative patch) write patch packages (--package deb); they are
#     lintian-clean (no tag at all), the first refuses to install without
#     linux-image-REL, installs with dpkg once a stand-in for that package is
#     there, `kpatch list` shows it installed for REL, and apt installing
#     the second removes it (Provides/Conflicts/Replaces kpatch-patch-REL).
#   - the second run also writes the .rpm (--package rpm, rpmbuild from the
#     root's rpm package): its file list, requires and provides are exactly
#     ours, `rpm --root DIR --nodeps -i` installs the module byte for byte,
#     and `kpatch list` with KPATCH_PREFIX=DIR shows it for its release.
#
# The debootstrapped root is cached as a tarball in
# ${KPP_CACHE_DIR:-~/.cache/kpatchpp}/debootstrap/ and unpacked fresh on every
# run; downloaded .debs are kept beside it (apt still resolves every time).
#
# Usage: check-chroot-install.sh PACKAGE.deb SOURCE_TOP
set -euo pipefail
deb=$(realpath "${1:?usage: check-chroot-install.sh PACKAGE.deb SOURCE_TOP}")
top=$(realpath "${2:?usage: check-chroot-install.sh PACKAGE.deb SOURCE_TOP}")
KPP_PROG=chroot-install
. "$top/test/integration/host-lib.sh"

suite=bookworm
mirror=http://deb.debian.org/debian
cache=${KPP_CACHE_DIR:-$HOME/.cache/kpatchpp}/debootstrap
base=$cache/$suite-minbase-amd64.tar
archives=$cache/apt-archives
# What kbuild needs to rebuild objects of the test kernel, beyond the
# package's own dependencies (make, gcc, binutils, patch); and rpmbuild.
kbuild_packages=(bc flex bison libelf-dev libssl-dev rpm)

start=$SECONDS
step() { printf '  [%4ds] %s\n' $((SECONDS - start)) "$*"; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mounts)"
mkdir -p "$cache" "$archives/partial"

if [ ! -f "$base" ]; then
	step "no cached root: debootstrap --variant=minbase $suite from $mirror (once)"
	fresh=$(mktemp -d "$cache/root.XXXXXX")
	debootstrap --variant=minbase "$suite" "$fresh" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/debootstrap.log"; rm -rf "$fresh"; die "debootstrap failed (log: $cache/debootstrap.log)"; }
	tar -C "$fresh" -cf "$base.tmp" .
	rm -rf "$fresh"
	mv "$base.tmp" "$base"
	step "cached the root as $base"
fi

root=$(mktemp -d /var/tmp/kpp-chroot.XXXXXX)
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2>/dev/null || true
	done
	rm -rf --one-file-system "$root" "$root.upper" "$root.work"
}
trap cleanup EXIT
bind() { # bind SOURCE TARGET_IN_ROOT [ro]
	mkdir -p "$root$2"
	mount --bind "$1" "$root$2"
	mounts+=("$root$2")
	[ "${3:-}" != ro ] || mount -o remount,bind,ro "$root$2"
}

step "unpacking $base into $root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mounts+=("$root/proc")
bind /dev /dev
bind "$archives" /var/cache/apt/archives
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "$@"; }

step "apt-get install ./$(basename "$deb") in the root"
cp "$deb" "$root/tmp/"
in_root apt-get -o APT::Sandbox::User=root update -qq
in_root apt-get -o APT::Sandbox::User=root install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$root/tmp/apt.log" 2>&1 ||
	{ tail -20 "$root/tmp/apt.log"; die "apt-get install of $(basename "$deb") failed in the root"; }
status=$(in_root dpkg-query -W -f='${Status} ${Version}' kpatchpp)
[[ $status == "install ok installed "* ]] ||
	die "kpatchpp not installed in the root: $status"
step "installed: $status; dependencies apt pulled in: $(grep -c '^Setting up' "$root/tmp/apt.log") packages"

fail=0
check() { # check NAME EXPECTED-SUBSTRING OUTPUT
	if [[ $3 == *"$2"* ]]; then
		echo "  PASS $1"
	else
		echo "  FAIL $1: expected '$2' in: $(printf '%s' "$3" | head -5)"
		fail=1
	fi
}
check_exact() { # check_exact NAME EXPECTED OUTPUT
	if [[ $3 == "$2" ]]; then
		echo "  PASS $1"
	else
		echo "  FAIL $1: expected '$2', got: $(printf '%s' "$3" | head -5)"
		fail=1
	fi
}
check kpatch-build-help "--sourcedir" "$(in_root kpatch-build --help 2>&1)"
check kpatch-build-version "kpatch-build (kpatch++)" "$(in_root kpatch-build --version 2>&1)"
check kpatch-version "kpatch (kpatch++)" "$(in_root kpatch version 2>&1)"
check kpatch-help "Usage: kpatch VERB" "$(in_root kpatch --help 2>&1)"
check create-diff-object "usage: create-diff-object" "$(in_root /usr/libexec/kpatchpp/create-diff-object --help 2>&1)"
check man-kpatch-build "kpatch\\-build \\- build a live patch module" \
	"$(zcat "$root/usr/share/man/man1/kpatch-build.1.gz")"
check unit-execstart "ExecStart=/usr/bin/kpatch load --all" "$(cat "$root/usr/lib/systemd/system/kpatch.service")"
# The unit's syntax, directives and ExecStart binary, as systemd sees them.
verify=$(systemd-analyze verify --man=no --root="$root" /usr/lib/systemd/system/kpatch.service 2>&1) && rc=0 || rc=$?
check unit-verify "rc=0" "rc=$rc $verify"

# The packages the two kpatch-build runs wrote (see the top of this file).
check_patch_packages() {
	local release arch slot pkg pkg2 deb deb2 out
	release=$(cat "$tree/include/config/kernel.release")
	arch=$(in_root dpkg --print-architecture)
	slot=kpatch-patch-$release
	pkg=$slot-livepatch-pkg
	pkg2=$slot-livepatch-pkg-v2
	deb=/tmp/out/${pkg}_1_$arch.deb
	deb2=/tmp/out2/${pkg2}_2_$arch.deb
	check patch-deb-built "$deb" "$(ls "$root/tmp/out"/*.deb 2>&1 | sed "s|^$root||")"
	check patch-deb-fields "Depends: linux-image-$release, kpatchpp
Provides: $slot
Conflicts: $slot
Replaces: $slot" "$(dpkg-deb --field "$root$deb" Depends Provides Conflicts Replaces)"
	# Every lintian tag, warnings and infos too, would be a fault of ours.
	out=$(bash "$top/test/packaging/check-lintian.sh" "$root$deb" 2>&1 || true)
	printf '%s\n' "$out" | sed 's/^/    /'
	check patch-deb-lintian "lintian: 0 error(s), 0 warning(s), 0 info(s)" "$out"

	out=$(in_root dpkg -i "$deb" 2>&1) && rc=0 || rc=$?
	check patch-deb-refused "rc=1" "rc=$rc"
	check patch-deb-needs-kernel "depends on linux-image-$release; however" "$out"
	# The test kernel is built from source, so no linux-image-REL package
	# exists: a stand-in of that name satisfies the dependency for real
	# (--force-depends would skip the check this test wants to see pass and
	# leave dpkg's database with a broken package).
	mkdir -p "$root/tmp/image-stub/DEBIAN"
	printf '%s\n' "Package: linux-image-$release" "Version: 1" "Architecture: $arch" \
		"Maintainer: kpatch++ tests <tests@example.org>" \
		"Description: stand-in for the test kernel, built from source" \
		" It only names the kernel release the patch packages depend on." \
		>"$root/tmp/image-stub/DEBIAN/control"
	in_root dpkg-deb --root-owner-group -b /tmp/image-stub /tmp/image-stub.deb >/dev/null
	in_root dpkg -i /tmp/image-stub.deb >/dev/null
	out=$(in_root dpkg -i "$deb" 2>&1) && rc=0 || rc=$?
	check patch-deb-install "rc=0" "rc=$rc $out"
	check patch-deb-status "install ok installed 1" "$(in_root dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>&1)"
	check patch-deb-audit "audit=[]" "audit=[$(in_root dpkg --audit 2>&1)]"
	out=$(in_root kpatch list 2>&1 || true)
	printf '%s\n' "$out" | sed 's/^/    /'
	check patch-deb-listed "
Installed patch modules:
  $release:
    livepatch_pkg (/var/lib/kpatch/$release/livepatch_pkg.ko)" "$out"

	# The fleet's package manager: apt removes the installed patch, which
	# conflicts with the kpatch-patch-REL the new one provides. (dpkg -i
	# alone stops at that conflict: it removes a package only for the new
	# one's own Conflicts, as with mail-transport-agent.) With no conffiles,
	# dpkg forgets the removed package entirely.
	out=$(in_root apt-get -o APT::Sandbox::User=root install -y --no-install-recommends "$deb2" 2>&1) && rc=0 || rc=$?
	check patch-deb-v2-install "rc=0" "rc=$rc $out"
	check patch-deb-v2-removes-v1 "Removing $pkg (1)" "$out"
	check patch-deb-v1-replaced "not-installed" \
		"$(in_root dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || echo not-installed)"
	out=$(in_root kpatch list 2>&1 || true)
	check patch-deb-v2-listed "
Installed patch modules:
  $release:
    livepatch_pkg_v2 (/var/lib/kpatch/$release/livepatch_pkg_v2.ko)" "$out"
	check patch-deb-v1-gone "absent" "$([[ $out == *"/livepatch_pkg.ko"* || -e $root/var/lib/kpatch/$release/livepatch_pkg.ko ]] && echo present || echo absent)"
}

# The second run's .rpm (see the top of this file).
check_patch_rpm() {
	local release rpm slot kernel out
	release=$(cat "$tree/include/config/kernel.release")
	slot=kpatch-patch-$release
	rpm=/tmp/out2/$slot-livepatch-pkg-v2-2-1.$(uname -m).rpm
	# An RPM version holds one '-' at most (rpm_package.h).
	if [[ $release == *-*-* ]]; then kernel=kernel-$release; else
		kernel="(kernel-uname-r = $release or kernel-$release)"; fi
	check_exact patch-rpm-built "$rpm" "$(ls "$root/tmp/out2"/*.rpm 2>&1 | sed "s|^$root||")"
	check_exact patch-rpm-files "/var/lib/kpatch/$release
/var/lib/kpatch/$release/livepatch_pkg_v2.ko" "$(rpm -qpl "$root$rpm" 2>&1)"
	check_exact patch-rpm-requires "$kernel
kpatchpp" "$(rpm -qp --requires "$root$rpm" 2>&1 | grep -v '^rpmlib(')"
	check_exact patch-rpm-provides "$slot = 2-1
$slot-livepatch-pkg-v2 = 2-1
$slot-livepatch-pkg-v2($(uname -m | tr _ -)) = 2-1" "$(rpm -qp --provides "$root$rpm" 2>&1)"
	check_exact patch-rpm-conflicts "$slot" "$(rpm -qp --conflicts "$root$rpm" 2>&1)"
	mkdir -p "$root/tmp/rpm-root"
	out=$(in_root rpm --root /tmp/rpm-root --nodeps -i "$rpm" 2>&1) && rc=0 || rc=$?
	check patch-rpm-install "rc=0" "rc=$rc $out"
	cmp -s "$root/tmp/out2/livepatch_pkg_v2.ko" "$root/tmp/rpm-root/var/lib/kpatch/$release/livepatch_pkg_v2.ko" &&
		out=same || out=differs
	check_exact patch-rpm-module-bytes same "$out"
	out=$(in_root env KPATCH_PREFIX=/tmp/rpm-root kpatch list 2>&1 || true)
	printf '%s\n' "$out" | sed 's/^/    /'
	check patch-rpm-listed "
Installed patch modules:
  $release:
    livepatch_pkg_v2 (/tmp/rpm-root/var/lib/kpatch/$release/livepatch_pkg_v2.ko)" "$out"
}

# A real build with the installed tools (see the top of this file).
tree=$("$top/test/integration/build-test-kernel.sh" --print-dir)
tree=$(realpath "$tree")
step "kpatch-build in the root: meminfo-string against an overlay of $tree"
in_root apt-get -o APT::Sandbox::User=root install -y -qq --no-install-recommends "${kbuild_packages[@]}" >>"$root/tmp/apt.log" 2>&1 ||
	{ tail -20 "$root/tmp/apt.log"; die "apt-get install ${kbuild_packages[*]} failed in the root"; }
[ ! -e "$root$top" ] || die "$top is visible in the root: the template check would not be meaningful"
exec {tree_lock}<"$tree"
flock "$tree_lock"
mkdir -p "$root$tree" "$root.upper" "$root.work"
mount -t overlay overlay -o "lowerdir=$tree,upperdir=$root.upper,workdir=$root.work" "$root$tree"
mounts+=("$root$tree")
# The root's libc headers may be newer than the host's, which makes kbuild
# rebuild objtool; kpatch-build would rightly refuse a tree that changes
# under it, so objtool is brought up to date in the overlay first.
in_root make -C "$tree" -s ARCH=x86 tools/objtool >"$root/tmp/objtool.log" 2>&1 ||
	{ tail -20 "$root/tmp/objtool.log"; die "building objtool in the overlay failed"; }
mkdir -p "$root/tmp/out" "$root/tmp/out2"
cp "$top/test/integration/patches/meminfo-string/fix.patch" "$root/tmp/fix.patch"
# The patch package's Maintainer comes from these, as for dch.
packager=(env DEBFULLNAME="kpatch++ tests" DEBEMAIL=tests@example.org)
in_root "${packager[@]}" kpatch-build -s "$tree" -n livepatch_pkg -o /tmp/out --package deb \
	/tmp/fix.patch >"$root/tmp/build.out" 2>&1 && rc=0 || rc=$?
# A newer cumulative patch for the same kernel: another name, version 2.
in_root "${packager[@]}" kpatch-build -s "$tree" -n livepatch_pkg_v2 -o /tmp/out2 --package deb --package rpm \
	--package-version 2 /tmp/fix.patch >"$root/tmp/build2.out" 2>&1 && rc2=0 || rc2=$?
umount "$root$tree"
unset 'mounts[-1]'
flock -u "$tree_lock"
sed 's/^/    /' "$root/tmp/build.out"
check kpatch-build-run "rc=0" "rc=$rc"
check kpatch-build-run-v2 "rc=0" "rc=$rc2 $(tail -3 "$root/tmp/build2.out")"
info=$(in_root kpatch info /tmp/out/livepatch_pkg.ko 2>&1 || true)
check module-livepatch "livepatch:   yes" "$info"
check module-function "vmlinux:meminfo_proc_show," "$info"
check_patch_packages
check_patch_rpm

[ $fail -eq 0 ] || die "checks failed in the debootstrap root"
step "all checks passed in the root"
