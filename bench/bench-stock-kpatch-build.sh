#!/usr/bin/env bash
# Times `kpatch-build -a REL meminfo.patch` for the Debian stock kernel (no -s:
# the distribution's packages and a cached prepared tree, no kernel build) on
# test/integration/patches/meminfo-string/fix.patch.
#
#   cold: an empty cache directory (KPP_CACHE_DIR): extract linux-source,
#         configure, make prepare modules_prepare, index the debug info, then
#         build the two objects, diff, link the module
#   warm: the same command again with that cache (median of --warm N runs)
#   first header patch: then meminfo-header (fs/proc/internal.h + meminfo.c)
#         once with that cache: the include graph picks the units that might
#         read the header and only those are preprocessed (docs/kpatch-build.md)
#
# REL defaults to the installed linux-image-*-cloud-amd64 whose version equals
# linux-source-6.1's (scripts/setup.sh installs it); any release the archive
# has works too (its packages are then downloaded into the empty cache first,
# so the cold time includes the download and unpacking). Checks that each module
# has the stock vermagic. Prints e.g.
# `kpatch-build -a 6.1.0-56-cloud-amd64 meminfo: cold 41.2 s, warm 9.8 s, first header patch 95.0 s`.
#
# A release of another architecture (-a 6.1.0-57-cloud-arm64 on x86_64) is
# cross-built; its cross compiler is not the kernel's build, which
# --skip-compiler-check passes on to kpatch-build (docs/kpatch-build.md, "The
# compiler").
#
# Usage: bench-stock-kpatch-build.sh --kpatch-build PATH [-a REL] [--warm N] [--jobs N]
#          [--skip-compiler-check]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
KPP_PROG=bench-stock-kpatch-build
# shellcheck source=../test/integration/host-lib.sh
. "$repo/test/integration/host-lib.sh"
# shellcheck source=../test/integration/stock/stock-lib.sh
. "$repo/test/integration/stock/stock-lib.sh"

kpatch_build="" rel="" warm_runs=1 jobs=$(nproc) options=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kpatch-build) kpatch_build=$2; shift 2 ;;
	-a) rel=$2; shift 2 ;;
	--warm) warm_runs=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--skip-compiler-check) options+=("$1"); shift ;;
	-h | --help) sed -n '2,27p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ -x "$kpatch_build" ] || die "--kpatch-build PATH is required"
case "$warm_runs" in '' | *[!0-9]* | 0) die "--warm wants N >= 1" ;; esac
rel=${rel:-$(stock_release)}
patches=$repo/test/integration/patches

work=$(mktemp -d -t kpp-bench-stock.XXXXXX)
trap 'rm -rf "$work"' EXIT
cache=$work/cache

# run_once N [PATCH]: one kpatch-build with the shared cache; prints its wall time.
run_once() {
	local n=$1 patch=${2:-$patches/meminfo-string/fix.patch} out="$work/run$1" start end vermagic
	mkdir -p "$out/tmp"
	start=$(date +%s.%N)
	if ! KPP_CACHE_DIR=$cache TMPDIR="$out/tmp" "$kpatch_build" -a "$rel" -j "$jobs" \
		"${options[@]+"${options[@]}"}" -n livepatch_bench_stock -o "$out" "$patch" >"$out/log" 2>&1; then
		cat "$out/log" >&2
		die "run $n failed"
	fi
	end=$(date +%s.%N)
	[ -s "$out/livepatch_bench_stock.ko" ] || die "run $n made no module"
	vermagic=$(modinfo -F vermagic "$out/livepatch_bench_stock.ko")
	case "$vermagic" in "$rel "*) ;; *) die "run $n: vermagic '$vermagic' is not $rel's" ;; esac
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

load_before=$(cut -d" " -f1-3 /proc/loadavg)
cold=$(run_once 0)
warm_all=()
for ((i = 1; i <= warm_runs; i++)); do
	warm_all+=("$(run_once "$i")")
done
warm=$(printf '%s\n' "${warm_all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
[ "$warm_runs" -gt 1 ] && echo "warm runs: ${warm_all[*]} s"
header=$(run_once header "$patches/meminfo-header/fix.patch")
echo "kpatch-build -a $rel meminfo: cold $cold s, warm $warm s, first header patch $header s (load average before: $load_before)"
