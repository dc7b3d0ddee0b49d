# Guest half of run-stock-test.sh: load the stock modules the patched module
# needs (/test/dependencies, in load order; empty for most patches), then run
# the usual patch test (guest/patch-test.sh) on the stock kernel.
. /test/lib.sh

kpp_info "stock kernel $(uname -r)"
while read -r ko; do
	kpp_run "dependency-$ko" insmod "/test/$ko"
done </test/dependencies
sh /test/patch-test.sh || KPP_FAILED=$((KPP_FAILED + 1))
kpp_done
