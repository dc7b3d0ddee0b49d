#!/usr/bin/env bash
# Times kpatch-build end to end for the meminfo patch
# (test/integration/patches/meminfo-string) on the already-built test kernel
# tree (test/integration/build-test-kernel.sh --print-dir; building it the
# first time takes minutes and is not timed).
#
#   cold: the first run, in a fresh work and output directory, right after
#         the tree's meminfo.o was last built normally (kpatch-build puts the
#         tree back as it was, so every run starts from that state; "cold"
#         is the first one, with the page cache not yet holding the object
#         builds' inputs and kpatch-build's own outputs)
#   warm: the same command immediately repeated (median of --warm N runs)
#
# Prints e.g. `kpatch-build meminfo: cold 9.6 s, warm 6.1 s`. Exits non-zero
# if a run fails or does not produce the module.
#
# Usage: bench-kpatch-build.sh --kpatch-build PATH [--tree DIR] [--warm N] [--jobs N]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
kpatch_build="" tree="" warm_runs=1 jobs=$(nproc)

while [ $# -gt 0 ]; do
	case "$1" in
	--kpatch-build) kpatch_build=$2; shift 2 ;;
	--tree) tree=$2; shift 2 ;;
	--warm) warm_runs=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "bench-kpatch-build: unknown argument: $1" >&2; exit 2 ;;
	esac
done
[ -x "$kpatch_build" ] || { echo "bench-kpatch-build: --kpatch-build PATH is required" >&2; exit 2; }
case "$warm_runs" in '' | *[!0-9]* | 0) echo "bench-kpatch-build: --warm wants N >= 1" >&2; exit 2 ;; esac
tree=${tree:-$("$repo/test/integration/build-test-kernel.sh" --print-dir | tail -n1)}
patch=$repo/test/integration/patches/meminfo-string/fix.patch

work=$(mktemp -d -t kpp-bench-kpb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One kpatch-build run in its own fresh TMPDIR (work directory) and output
# directory; prints its wall time in seconds.
run_once() {
	local n=$1 out="$work/run$1" start end
	mkdir -p "$out/tmp"
	start=$(date +%s.%N)
	if ! TMPDIR="$out/tmp" "$kpatch_build" -s "$tree" -j "$jobs" -n livepatch_bench_meminfo \
		-o "$out" "$patch" >"$out/log" 2>&1; then
		cat "$out/log" >&2
		echo "bench-kpatch-build: run $n failed" >&2
		return 1
	fi
	end=$(date +%s.%N)
	# Another kpatch-build held the tree (tree_lock.h): the time is not ours.
	if grep -q "waiting for another kpatch-build" "$out/log"; then
		echo "bench-kpatch-build: run $n waited for another kpatch-build on the tree; repeating it" >&2
		rm -rf "$out"
		run_once "$n"
		return
	fi
	[ -s "$out/livepatch_bench_meminfo.ko" ] ||
		{ echo "bench-kpatch-build: run $n made no module" >&2; return 1; }
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

cold=$(run_once 0)
warm_all=()
for ((i = 1; i <= warm_runs; i++)); do
	warm_all+=("$(run_once "$i")")
done
warm=$(printf '%s\n' "${warm_all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
[ "$warm_runs" -gt 1 ] && echo "warm runs: ${warm_all[*]} s"
echo "kpatch-build meminfo: cold $cold s, warm $warm s"
