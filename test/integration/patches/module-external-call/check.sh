# A patch to a module (binfmt_misc) whose changed function calls a new
# function of the patch (kpp_count_entries), exported vmlinux functions
# (scnprintf, the rwlock's _raw_read_lock) and reads exported vmlinux data
# (init_uts_ns) and the module's own statics (enabled, entries,
# entries_lock). /proc/sys/fs/binfmt_misc/status then shows the release and
# the number of registered handlers, and follows registering, disabling and
# clearing them while the patch is enabled: the module's data, not copies.
# The module is then removed and loaded again while the patch stays enabled:
# the livepatch core must apply the patch's relocations to the new copy.
kpp_functions="bm_status_read"
bm=/proc/sys/fs/binfmt_misc
kpp_run binfmt-insmod insmod /test/binfmt_misc.ko
kpp_run binfmt-mount mount -t binfmt_misc binfmt_misc $bm

check_original() {
	kpp_assert_eq "$1-status" enabled "$(cat $bm/status)"
}

check_patched() {
	local rel
	rel=$(uname -r)
	kpp_assert_eq "$1-status" "enabled (kpatch++ on $rel, 0 entries)" "$(cat $bm/status)"
	echo ':kpp-a:E::kppa::/bin/true:' >$bm/register
	echo ':kpp-b:E::kppb::/bin/true:' >$bm/register
	kpp_assert_eq "$1-registered" "enabled (kpatch++ on $rel, 2 entries)" "$(cat $bm/status)"
	echo 0 >$bm/status
	kpp_assert_eq "$1-disabled" "disabled (kpatch++ on $rel, 2 entries)" "$(cat $bm/status)"
	echo 1 >$bm/status
	echo -1 >$bm/status
	kpp_assert_eq "$1-cleared" "enabled (kpatch++ on $rel, 0 entries)" "$(cat $bm/status)"
	kpp_run "$1-umount" umount $bm
	kpp_run "$1-rmmod" rmmod binfmt_misc
	kpp_run "$1-reinsmod" insmod /test/binfmt_misc.ko
	kpp_run "$1-remount" mount -t binfmt_misc binfmt_misc $bm
	kpp_assert_eq "$1-reloaded-module" "enabled (kpatch++ on $rel, 0 entries)" "$(cat $bm/status)"
}
