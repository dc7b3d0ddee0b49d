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
# A kpatch.ko in the initramfs (run-patch-test.sh --core): the module is for
# kmod/core and is loaded through it.
if [ -f /test/kpatch.ko ]; then
	K=/sys/kernel/kpatch/$patch
	kpp_run core-insmod insmod /test/kpatch.ko || exit 1
	if kpp_run "$patch-insmod" insmod "/test/$patch.ko"; then
		check_patched loaded
		kpp_assert_eq "$patch-enabled" 1 "$(cat "$K/enabled")"
		for f in $kpp_functions; do
			kpp_assert_contains "listed-$f" "$f 0x" "$(cat "$K/functions")"
		done
		kpp_run "$patch-disable" sh -c "echo 0 > $K/enabled" &&
			kpp_lp_unload "$patch"
		check_original unloaded
	fi
	kpp_run core-rmmod rmmod kpatch
	kpp_done
	exit
fi
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
