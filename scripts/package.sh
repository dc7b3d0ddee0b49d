#!/usr/bin/env bash
# The packaging command: builds the .deb and the .rpm with CPack from the
# CMake install rules, then checks them (docs/packaging.md):
#   1. lintian on the .deb: no errors;
#   2. the .rpm lists the same files as the .deb (rpm -qlp vs dpkg -c);
#   3. the .deb installs with apt into a fresh debootstrap bookworm root, and
#      kpatch-build --help, kpatch version and a real kpatch-build run (the
#      installed module template on the cached test kernel) work there;
#      that run's patch package (kpatch-build --package deb) is lintian-clean,
#      installs with dpkg there and replaces an older cumulative one; the
#      second run's .rpm (--package rpm) has exactly our files and
#      dependencies and installs into a scratch root with rpm --root.
#
# Usage: bash scripts/package.sh [--build-dir DIR]
#   DIR (default build-package/) is a build tree of its own, configured with
#   the /usr prefix the packages install to. Packages go to DIR/packages/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build-package
KPP_PROG=package
. "$top/test/integration/host-lib.sh"

while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build=$2; shift ;;
	*) die "unknown argument: $1 (usage: package.sh [--build-dir DIR])" ;;
	esac
	shift
done
build=$(realpath -m "$build")

start=$SECONDS
stage() { printf '[%4ds] %s\n' $((SECONDS - start)) "$*"; }

bash "$top/scripts/setup.sh"

stage "configuring $build (prefix /usr)"
# The install target must not build everything (tests, fuzzers): only the
# packaged targets are built, below.
cmake -S "$top" -B "$build" -DKPP_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr \
	-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
stage "building the packaged targets"
cmake --build "$build" -j "$(($(nproc) + 1))" \
	--target kpatch kpatch-build create-diff-object kpp-package-docs

stage "cpack: .deb and .rpm"
out=$build/packages
rm -rf "$out"
mkdir -p "$out"
(cd "$build" && cpack -B "$out" >"$out/cpack.log" 2>&1) ||
	{ tail -30 "$out/cpack.log"; die "cpack failed (log: $out/cpack.log)"; }
deb=$(ls "$out"/*.deb)
rpm=$(ls "$out"/*.rpm)
stage "built $(basename "$deb") and $(basename "$rpm")"

stage "lintian $(basename "$deb")"
bash "$top/test/packaging/check-lintian.sh" "$deb"

stage "comparing the file lists of the .deb and the .rpm"
bash "$top/test/packaging/check-file-lists.sh" "$deb" "$rpm"

stage "installing the .deb into a fresh debootstrap root"
bash "$top/test/packaging/check-chroot-install.sh" "$deb" "$top"

stage "done: $deb $rpm"
