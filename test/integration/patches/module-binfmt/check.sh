# A patch to a module (binfmt_misc): /proc/sys/fs/binfmt_misc/status says
# "enabled (patched)" while the patch is enabled. The module is loaded and
# its filesystem mounted before the first check.
kpp_functions="bm_status_read"
kpp_run binfmt-insmod insmod /test/binfmt_misc.ko
kpp_run binfmt-mount mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
check_original() { kpp_assert_eq "$1-status" "enabled" "$(cat /proc/sys/fs/binfmt_misc/status)"; }
check_patched() { kpp_assert_eq "$1-status" "enabled (patched)" "$(cat /proc/sys/fs/binfmt_misc/status)"; }
