# Guest half of bench/bench-core.sh: loads kpatch.ko and the in-guest
# microbenchmark (kpp_core_bench.ko, kmod/core/test/) and prints its results
# as "KPP-BENCH <name> <value>" lines for the host to read.
# shellcheck shell=dash
. /test/lib.sh

P=/sys/module/kpp_core_bench/parameters
kpp_run core-insmod insmod /test/kpatch.ko || exit 1
# shellcheck disable=SC2046  # bench-args holds several param=value words
kpp_run bench-insmod insmod /test/kpp_core_bench.ko $(cat /test/bench-args) || exit 1
echo "KPP-BENCH cpus $(grep -c ^processor /proc/cpuinfo)"
for p in plain_ps direct_ps redirected_ps enable_ns disable_ns switch_ns; do
	echo "KPP-BENCH $p $(cat $P/$p)"
done
kpp_run bench-rmmod rmmod kpp_core_bench
kpp_run core-rmmod rmmod kpatch
kpp_done
