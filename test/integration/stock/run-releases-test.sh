#!/usr/bin/env bash
# integration.stock-releases.NAME: one kpatch-build cache serves several
# Debian releases. patches/NAME is built with `kpatch-build -a REL` for an
# older release the archive still has (older_archived_release: not the
# installed source's, so kpatch-build downloads its source, -dbg and headers
# into its cache) and for the installed release; each module is loaded into
# its own exact kernel under QEMU (the older one's vmlinuz unpacked from its
# image .deb, never installed), behaviour changed and restored
# (run-stock-test.sh). Then both releases must be listed side by side in
# `kpatch-build --cache-list`, each with its own prepared tree, and each
# module must carry its own release's vermagic.
#
# Usage: run-releases-test.sh KPATCH_BUILD NAME [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integration=$(dirname "$here")

KPP_PROG=run-releases-test
# shellcheck source=../host-lib.sh
. "$integration/host-lib.sh"
# shellcheck source=stock-lib.sh
. "$here/stock-lib.sh"

[ $# -ge 2 ] || die "usage: run-releases-test.sh KPATCH_BUILD NAME [--workdir DIR]"
kpatch_build=$1 name=$2
shift 2
parse_workdir_args "$@"

older=$(older_archived_release)
installed=$(stock_release)
[ "$older" != "$installed" ] || die "the older release $older is the installed one"
echo "$KPP_PROG: older release $older, installed release $installed"

module=$(echo "livepatch-stock-$name" | tr - _)
for rel in "$older" "$installed"; do
	"$here/run-stock-test.sh" "$kpatch_build" "$name" --release "$rel" --workdir "$workdir/$rel"
	want=$(modinfo -F vermagic "$(stock_root "$rel")/lib/modules/$rel/kernel/fs/binfmt_misc.ko")
	got=$(modinfo -F vermagic "$workdir/$rel/$module.ko")
	[ "$got" = "$want" ] || die "vermagic of the $rel module is '$got', its kernel's modules have '$want'"
	echo "$KPP_PROG: $rel: module loaded, checked and unloaded in its own kernel; vermagic '$got'"
done

"$kpatch_build" --cache-list | tee "$workdir/cache-list.txt"
for rel in "$older" "$installed"; do
	grep -q "^  $rel  " "$workdir/cache-list.txt" || die "--cache-list does not show the prepared release $rel"
	tree=$(sed -n "s/^kpatch-build: using the prepared tree //p" "$workdir/$rel/build.log")
	[ -f "$tree/Makefile" ] || die "no prepared tree named in $workdir/$rel/build.log"
	echo "$rel" >>"$workdir/trees"
	echo "$tree" >>"$workdir/trees"
done
[ "$(sed -n 2p "$workdir/trees")" != "$(sed -n 4p "$workdir/trees")" ] || die "both releases used one tree"
echo "$KPP_PROG: PASS ($older and $installed from one cache)"
