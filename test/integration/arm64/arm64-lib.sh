# shellcheck shell=bash
# Debian's arm64 cloud kernel for the arm64 tests (sourced after host-lib.sh):
# its packages fetched with `apt-get download` (never installed) and unpacked
# once into ~/.cache/kpatchpp/arm64/REL (KPP_CACHE_DIR if set):
#   boot/vmlinuz-REL, boot/config-REL, lib/modules/REL  linux-image-REL:arm64
#   usr/lib/debug/boot/vmlinux-REL                      linux-image-REL-dbg:arm64
#   usr/src/linux-headers-REL{,-common}                 the headers (:arm64, all)
#   usr/lib/linux-kbuild-6.1                            linux-kbuild-6.1:amd64
#   bin/busybox                                         busybox-static:arm64
# The headers' scripts/ and tools/ point at linux-kbuild-6.1, whose host
# programs (fixdep, modpost, ...) must run on this machine: Debian builds
# that package for the build machine (Multi-Arch: foreign) at the version of
# the headers, so the amd64 one of the same version is the cross-build's.
# scripts/setup.sh fetches it all (arm64_fetch); the tests only read it.

# arm64_release: REL of the linux-image-REL-cloud-arm64 whose version equals
# linux-source-6.1's, as the amd64 stock tests pick theirs (the ABI number
# moves with security updates, so it is looked up, never written down).
arm64_release() {
	local version rel
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed; run scripts/setup.sh"
	rel=$(apt-cache show "linux-image-cloud-arm64:arm64=$version" 2>/dev/null |
		sed -n 's/^Depends: .*linux-image-\([^ ,]*-cloud-arm64\).*/\1/p' | head -n1)
	[ -n "$rel" ] ||
		die "no linux-image-cloud-arm64:arm64 $version in the apt lists; run scripts/setup.sh (adds the arm64 architecture and runs apt-get update)"
	echo "$rel"
}

arm64_cache() {
	echo "${KPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kpatchpp}/arm64"
}

# arm64_root REL: the unpacked packages of REL; dies when they are missing.
arm64_root() {
	local dir
	dir=$(arm64_cache)/$1
	[ -f "$dir/.complete" ] || die "the arm64 packages of $1 are not in $dir; run scripts/setup.sh"
	echo "$dir"
}

# arm64_fetch REL: download and unpack REL's packages unless already there.
# Unpacked into a temporary folder renamed at the end, so an interrupted
# fetch leaves nothing that looks complete.
arm64_fetch() {
	local rel=$1 cache dir tmp version deb
	cache=$(arm64_cache)
	dir=$cache/$rel
	[ -f "$dir/.complete" ] && return 0
	version=$(apt-cache show "linux-image-$rel:arm64" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$version" ] || die "no linux-image-$rel:arm64 in the apt lists (apt-get update?)"
	tmp=$cache/.$rel.$$
	rm -rf "$tmp" && mkdir -p "$tmp/debs"
	echo "fetching the arm64 packages of $rel ($version) into $dir" >&2
	(cd "$tmp/debs" && apt-get -q download "linux-image-$rel:arm64=$version" \
		"linux-image-$rel-dbg:arm64=$version" "linux-headers-$rel:arm64=$version" \
		"linux-headers-${rel%-cloud-arm64}-common=$version" \
		"linux-kbuild-6.1:amd64=$version" busybox-static:arm64) >&2 ||
		die "apt-get download of the arm64 packages of $rel failed"
	for deb in "$tmp"/debs/*.deb; do
		case "$deb" in
		*-dbg_*) # only vmlinux: the modules' debug files are 1.3 GB
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$rel" ;;
		*) dpkg-deb -x "$deb" "$tmp" ;;
		esac
	done
	rm -rf "$tmp/debs"
	# The headers' Makefile includes the -common one by its installed path.
	sed -i "s|^include /usr/src/|include $dir/usr/src/|" "$tmp/usr/src/linux-headers-$rel/Makefile"
	depmod -b "$tmp" "$rel"
	touch "$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# arm64_make REL ARGS...: make in REL's headers with the cross compiler.
arm64_make() {
	local rel=$1
	shift
	make -C "$(arm64_root "$rel")/usr/src/linux-headers-$rel" ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- "$@"
}
