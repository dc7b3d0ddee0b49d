# Guest half of run-patch-test.sh: the same check before loading the patch,
# while it is enabled, and after it is disabled and unloaded.
# /test/check.sh defines check_original, check_patched and kpp_functions;
# /test/variant.sh, for a kernel variant, defines variant_checks.
. /test/lib.sh
. /test/check.sh

patch=$(cat /test/patch-name)
kpp_info "kernel $(uname -r), patch $patch"
if [ -f /test/variant.sh ]; then
	. /test/variant.sh
	variant_checks "$patch"
fi
check_original before
if kpp_lp_load "$patch" "/test/$patch.ko"; then
	check_patched loaded
	kpp_assert_eq transition 0 "$(cat /sys/kernel/livepatch/$patch/transition)"
	for f in $kpp_functions; do
		found=$(ls -d /sys/kernel/livepatch/$patch/*/"$f",* 2>/dev/null | head -1)
		kpp_assert_ne "listed-$f" "" "$found"
	done
	kpp_lp_disable "$patch" && kpp_lp_unload "$patch"
	check_original unloaded
fi
kpp_done
