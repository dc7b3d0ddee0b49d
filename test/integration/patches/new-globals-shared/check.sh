# New global data and a new global function defined by the patch in one
# object (fs/proc/cmdline.c: kpp_proc_reads, kpp_proc_tag) and used from
# another (fs/proc/loadavg.c): both objects' code must reach the single
# copy in the patch module (neither is in the running kernel). /proc/cmdline
# and /proc/loadavg then share one read counter: loadavg shows it only once
# cmdline has counted a read.
kpp_functions="cmdline_proc_show loadavg_proc_show"
lines() { wc -l <"$1" | tr -d ' '; }
tag() { sed -n 's/^kpatch++ //p' "$1"; }

check_original() {
	kpp_assert_eq "$1-cmdline-lines" 1 "$(lines /proc/cmdline)"
	kpp_assert_eq "$1-loadavg-lines" 1 "$(lines /proc/loadavg)"
}

check_patched() {
	kpp_assert_eq "$1-loadavg-untagged" 1 "$(lines /proc/loadavg)"
	kpp_assert_eq "$1-cmdline-1" "cmdline read 1" "$(tag /proc/cmdline)"
	kpp_assert_eq "$1-loadavg-2" "loadavg read 2" "$(tag /proc/loadavg)"
	kpp_assert_eq "$1-cmdline-3" "cmdline read 3" "$(tag /proc/cmdline)"
	kpp_assert_eq "$1-loadavg-4" "loadavg read 4" "$(tag /proc/loadavg)"
}
