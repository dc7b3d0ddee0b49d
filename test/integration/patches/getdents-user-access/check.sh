# filldir64 (fs/readdir.c), which copies each entry to user space for
# getdents64 with unsafe_put_user() between user_write_access_begin/end:
# exception-table fixups (__ex_table), STAC/CLAC alternatives
# (.altinstructions, live where the CPU has SMAP) and, new in the patch, a
# lock-prefixed atomic counter (.smp_locks). The patched version hides
# entries named kpp-hidden-* (the files stay readable) and logs a running
# count of hidden entries. getdents-efault reads a directory into a
# PROT_NONE page: the store faults in filldir64 and its fixup must turn
# that into EFAULT, in the running kernel's copy and in the patch's.
kpp_functions="filldir64"
d=/tmp/kpp-dir
mkdir -p $d
echo a >$d/kpp-hidden-a
echo b >$d/kpp-hidden-b
echo c >$d/visible-c
grep -qw smap /proc/cpuinfo && kpp_info "CPU has SMAP: the STAC/CLAC alternatives are applied"

listing() { ls $d | tr '\n' ' '; }
# hidden_log: the counts the patch logged, in order, on one line.
hidden_log() { dmesg | sed -n 's/.*kpp-getdents: hid kpp-hidden-[ab], \([0-9]*\) hidden so far$/\1/p' | tr '\n' ' '; }

check_original() {
	kpp_assert_eq "$1-listing" "kpp-hidden-a kpp-hidden-b visible-c " "$(listing)"
	kpp_assert_eq "$1-efault" EFAULT "$(/test/getdents-efault $d)"
	if [ "$1" = before ]; then
		kpp_assert_eq "$1-no-log" "" "$(hidden_log)"
	else
		kpp_assert_eq "$1-log-unchanged" "1 2 3 4 " "$(hidden_log)"
	fi
}

check_patched() {
	kpp_assert_eq "$1-listing" "visible-c " "$(listing)"
	kpp_assert_eq "$1-count-first" "1 2 " "$(hidden_log)"
	kpp_assert_eq "$1-listing-again" "visible-c " "$(listing)"
	kpp_assert_eq "$1-count-persists" "1 2 3 4 " "$(hidden_log)"
	kpp_assert_eq "$1-still-readable" "a" "$(cat $d/kpp-hidden-a)"
	kpp_assert_eq "$1-efault" EFAULT "$(/test/getdents-efault $d)"
}
