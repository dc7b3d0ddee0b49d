#!/usr/bin/env bash
# Installs everything kpatch++ needs to build and test on Debian 12.
# Idempotent and non-interactive: both README commands call it first.
set -euo pipefail

packages=(
	# build the tools
	build-essential cmake pkg-config clang-format
	libelf-dev libdw-dev libkmod-dev nlohmann-json3-dev
	libboost-program-options-dev googletest libgtest-dev libfmt-dev
	# build a kernel and kernel modules
	flex bison bc libssl-dev kmod cpio xz-utils rsync patch
	linux-source-6.1
	# module signing: the ibt-sig test kernel generates its key with openssl
	openssl
	# pahole: its version is part of the stock kernel's config (kpatch-build without -s)
	dwarves
	# boot it
	qemu-system-x86 busybox-static
	# boot Debian's arm64 kernel (test/integration/arm64)
	qemu-system-arm
	# inspect objects in tests
	binutils elfutils
	# arm64 objects for the diff's unit tests (the gcc 12 that builds Debian's arm64 kernel)
	gcc-aarch64-linux-gnu
	# kpatch-build -a REL-arm64: Debian's arm64 config has COMPAT_VDSO, whose
	# 32-bit vDSO the tree's preparation builds with the arm (gnueabihf)
	# compiler, and CC_CAN_LINK, which needs the cross compiler's C library
	gcc-arm-linux-gnueabihf libc6-dev-arm64-cross
	# hardening: libFuzzer targets and the ASan+UBSan build (scripts/test-hardening.sh)
	clang libclang-rt-14-dev
	# packaging: .deb/.rpm, installed into a debootstrap root (scripts/package.sh);
	# rpm also has the rpmbuild that kpatch-build --package rpm runs
	debootstrap lintian rpm dpkg-dev bash-completion
)

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
apt_updated=false

apt_update_once() {
	$apt_updated && return 0
	# arm64 package lists: Debian's arm64 kernel and busybox are fetched
	# (apt-get download, never installed) for the arm64 tests.
	dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -qq
	apt_updated=true
}

# install_missing PKG...: installs those of PKG that are not installed yet.
install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}"
	apt_update_once
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# stock_image_package: the linux-image-REL-cloud-amd64 package whose version
# equals linux-source-6.1's (the ABI number in REL moves with security
# updates, so it is looked up, never written down).
stock_image_package() {
	local version depends
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	depends=$(apt-cache show "linux-image-cloud-amd64=$version" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	if [ -z "$depends" ]; then
		apt_update_once
		depends=$(apt-cache show "linux-image-cloud-amd64=$version" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	fi
	grep -o 'linux-image-[^ ,]*-cloud-amd64' <<<"$depends" | head -n1 ||
		{ echo "setup: no linux-image-cloud-amd64 $version in the apt sources (the version of linux-source-6.1); run apt-get update and upgrade linux-source-6.1" >&2; return 1; }
}

install_missing "${packages[@]}"

# The Debian stock kernel that kpatch-build without -s patches: the image to
# boot in tests, its -dbg package (vmlinux with DWARF) and its headers
# (Module.symvers). Installing the image pulls initramfs-tools.
image=$(stock_image_package)
install_missing "$image" "$image-dbg" "${image/linux-image-/linux-headers-}"

# Debian's arm64 cloud kernel of the same version, unpacked into the cache
# for the arm64 tests (test/integration/arm64/arm64-lib.sh). The lists must
# know arm64 first.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	apt_updated=false
	apt_update_once
fi
KPP_PROG=setup
# shellcheck source=../test/integration/host-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test/integration/host-lib.sh"
# shellcheck source=../test/integration/arm64/arm64-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test/integration/arm64/arm64-lib.sh"
arm64_fetch "$(arm64_release)"
