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
	# boot it
	qemu-system-x86 busybox-static
	# inspect objects in tests
	binutils elfutils
	# hardening: libFuzzer targets and the ASan+UBSan build (scripts/test-hardening.sh)
	clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
