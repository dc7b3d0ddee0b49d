# A new initialised global counter (kpp_version_reads = 1000), incremented by the patched
# version_proc_show on every read and shown on a second line of /proc/version.
kpp_functions="version_proc_show"
reads() { sed -n 's/^kpatch++ reads: //p' /proc/version; }
check_original() {
	kpp_assert_eq "$1-lines" 1 "$(wc -l < /proc/version | tr -d ' ')"
}
check_patched() {
	local a b
	a=$(reads)
	b=$(reads)
	kpp_info "reads: $a then $b"
	kpp_assert_eq "$1-first" 1001 "$a"
	kpp_assert_eq "$1-increments" "$((a + 1))" "$b"
}
