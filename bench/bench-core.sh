#!/usr/bin/env bash
# kmod/core (kpatch.ko) in the test kernel under QEMU: per-call cost of a
# function redirected by the core against the same call unpatched, and the
# enable and disable latency, measured in the guest by kpp_core_bench.ko
# (kmod/core/test/kpp_core_bench.c). Builds kpatch.ko and the module against
# the cached test kernel (test/integration/build-test-kernel.sh), boots it
# (run-guest.sh) and prints e.g.
#
#   core per call (2 CPUs, best of 3 x 2000000 calls): plain 30.0 ns, ...
#   core switch: register+enable 8.0 ms, disable 104.0 ms, ...
#
# Absolute numbers are QEMU TCG's; the ratio is what carries over.
#
# Usage: bench-core.sh [--workdir DIR] [--iterations N] [--cycles N]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(cd "$here/../test/integration" && pwd)
KPP_PROG=bench-core
# shellcheck source=../test/integration/host-lib.sh
. "$integ/host-lib.sh"
# shellcheck source=../test/integration/core/core-lib.sh
. "$integ/core/core-lib.sh"

iterations=2000000 cycles=20 args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--iterations) iterations=$2; shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0"; exit 0 ;;
	*) args+=("$1"); shift ;;
	esac
done
for n in "$iterations" "$cycles"; do
	case "$n" in '' | *[!0-9]*) die "--iterations and --cycles want a number, got '$n'" ;; esac
done
parse_workdir_args "${args[@]+"${args[@]}"}"

# value NAME: the KPP-BENCH line NAME of the console log.
value() {
	local v
	v=$(tr -d '\r' <"$workdir/console.log" | sed -n "s/^KPP-BENCH $1 \([0-9]*\)$/\1/p")
	[ -n "$v" ] || die "the guest printed no $1 (console log: $workdir/console.log)"
	echo "$v"
}

# ps_as_ns PS / ns_as_ms NS: fixed-point printing with one decimal.
ps_as_ns() { awk -v v="$1" 'BEGIN { printf "%.1f ns", v / 1000 }'; }
ns_as_ms() { awk -v v="$1" 'BEGIN { printf "%.1f ms", v / 1000000 }'; }

main() {
	local tree dir plain direct redirected
	tree=$("$integ/build-test-kernel.sh" --print-dir)
	dir=$workdir/src
	echo "bench-core: building kpatch.ko and kpp_core_bench.ko against $tree" >&2
	kpp_build_core "$dir" make -C "$tree"
	echo "iterations=$iterations cycles=$cycles" >"$workdir/bench-args"
	"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-bench-core.sh" \
		"$dir/kpatch.ko" "$dir/test/kpp_core_bench.ko" "$workdir/bench-args"
	echo "bench-core: booting the guest" >&2
	"$integ/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
		--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" \
		--timeout "${KPP_BENCH_TIMEOUT:-900}"
	plain=$(value plain_ps)
	direct=$(value direct_ps)
	redirected=$(value redirected_ps)
	echo "core per call ($(value cpus) CPUs, best of 3 x $iterations calls):" \
		"plain $(ps_as_ns "$plain"), replacement called directly $(ps_as_ns "$direct")," \
		"redirected $(ps_as_ns "$redirected") (+$(ps_as_ns $((redirected - plain))) over plain)"
	echo "core switch: register+enable $(ns_as_ms "$(value enable_ns)")," \
		"disable $(ns_as_ms "$(value disable_ns)")," \
		"mean of $cycles disable+enable cycles $(ns_as_ms "$(value switch_ns)") per switch"
}

main
