#!/usr/bin/env bash
# integration.stock-build.meminfo: `kpatch-build -a REL` (no -s) on the
# meminfo patch for the installed Debian stock kernel REL (the one whose
# version equals linux-source-6.1's). Checks the build side only (the
# integration.stock.* tests boot the kernel and load modules):
#   - the module's vermagic is exactly that of the stock kernel's own modules
#     (so it loads without forcing),
#   - it replaces meminfo_proc_show in vmlinux,
#   - the cached tree's sources are back as they were (the patched string is
#     not left in fs/proc/meminfo.c).
# Uses the normal cache (~/.cache/kpatchpp or KPP_CACHE_DIR): the first run
# prepares the tree for REL (about a minute), later ones reuse it.
#
# Usage: kpatch_build_stock.sh KPATCH_BUILD [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KPP_PROG=kpatch_build_stock
# shellcheck source=host-lib.sh
. "$here/host-lib.sh"
# shellcheck source=stock/stock-lib.sh
. "$here/stock/stock-lib.sh"

[ $# -ge 1 ] || die "usage: kpatch_build_stock.sh KPATCH_BUILD [--workdir DIR]"
kpatch_build=$1
shift
parse_workdir_args "$@"
[ -x "$kpatch_build" ] || die "$kpatch_build is not executable"

rel=$(stock_release)
patch=$here/patches/meminfo-string/fix.patch
module=$workdir/livepatch_stock_meminfo.ko
rm -f "$module"
"$kpatch_build" -a "$rel" -n livepatch_stock_meminfo -o "$workdir" "$patch" 2>&1 | tee "$workdir/kpatch-build.log"
[ -s "$module" ] || die "kpatch-build made no $module"

# The reference: a module Debian built with this kernel.
reference=/lib/modules/$rel/kernel/fs/binfmt_misc.ko
[ -f "$reference" ] || die "$reference missing; run scripts/setup.sh (installs linux-image-$rel)"
want=$(modinfo -F vermagic "$reference")
got=$(modinfo -F vermagic "$module")
[ "$got" = "$want" ] || die "vermagic of $module is '$got', the stock modules have '$want'"
echo "$KPP_PROG: vermagic '$got' matches $reference"

[ "$(modinfo -F livepatch "$module")" = Y ] || die "$module is not marked as a livepatch"
grep -q "meminfo.o: changed function: meminfo_proc_show" "$workdir/kpatch-build.log" ||
	die "kpatch-build did not report meminfo_proc_show as changed"

tree=$(sed -n 's/^kpatch-build: using the prepared tree //p' "$workdir/kpatch-build.log")
[ -f "$tree/fs/proc/meminfo.c" ] || die "kpatch-build did not name its prepared tree"
added=$(sed -n 's/^+[^+].*"\(.*\)".*/\1/p' "$patch" | head -n1)
[ -n "$added" ] || die "cannot find the string the patch adds in $patch"
if grep -qF "$added" "$tree/fs/proc/meminfo.c"; then
	die "$tree/fs/proc/meminfo.c still has the patched text '$added'"
fi
[ ! -e "$tree/fs/proc/meminfo.o" ] || die "$tree/fs/proc/meminfo.o was left behind"
echo "$KPP_PROG: PASS ($rel)"
