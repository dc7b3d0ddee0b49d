# Guest half of smoke.sh: the kernel's livepatch sample and binfmt_misc.
. /test/lib.sh

lp=livepatch_sample
orig=$(cat /proc/cmdline)
kpp_info "kernel $(uname -r), cmdline '$orig'"
kpp_assert_contains cmdline-original "console=ttyS0" "$orig"
kpp_assert_eq livepatch-sysfs yes "$([ -d /sys/kernel/livepatch ] && echo yes || echo no)"

# Enable: the sample replaces cmdline_proc_show().
if kpp_lp_load $lp /test/livepatch-sample.ko; then
	kpp_assert_eq cmdline-patched "this has been live patched" "$(cat /proc/cmdline)"
	kpp_info "taint $(cat /proc/sys/kernel/tainted)"
	# Disable, free, unload: the original function must be back.
	kpp_lp_disable $lp && kpp_lp_unload livepatch_sample
	kpp_assert_eq cmdline-restored "$orig" "$(cat /proc/cmdline)"
	kpp_assert_eq sample-gone no "$(grep -q '^livepatch_sample ' /proc/modules && echo yes || echo no)"
fi

# binfmt_misc, the module the integration suite patches.
if kpp_run binfmt-insmod insmod /test/binfmt_misc.ko; then
	kpp_run binfmt-mount mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	kpp_assert_eq binfmt-status enabled "$(cat /proc/sys/fs/binfmt_misc/status)"
	kpp_run binfmt-umount umount /proc/sys/fs/binfmt_misc
	kpp_run binfmt-rmmod rmmod binfmt_misc
fi

kpp_done
