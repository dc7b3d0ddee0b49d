# Guest half of run-patch-test.sh: the same check before loading the patch,
# while it is enabled, and after it is disabled and unloaded.
# /test/check.sh defines check_original, check_patched and kpp_functions;
# /test/variant.sh, for a kernel variant, defines variant_checks.
. /test/lib.sh
. /test/check.sh

patch=$(cat /test/patch-name)

# The functions the enabled patch replaces are exactly kpp_functions: none
# missing, none more (a function replaced that did not change is a bug too).
check_patched_set() {
	local want got
	want=$(for f in $kpp_functions; do echo "$f"; done | sort | tr '\n' ' ')
	got=$(kpp_patched_functions "$patch" | tr ' ' '\n' | sed 's|.*/||' | grep . | sort | tr '\n' ' ')
	kpp_assert_eq patched-set "$want" "$got"
}
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
		check_patched_set
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
	check_patched_set
	kpp_lp_disable "$patch" && kpp_lp_unload "$patch"
	check_original unloaded
fi
kpp_done
