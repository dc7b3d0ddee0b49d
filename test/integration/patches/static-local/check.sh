# show_interrupts keeps the width of /proc/interrupts' first column in a
# static local (prec), recomputed when the header is printed. The patched
# version first prints the value the previous read left there: it must be
# the original's value (shared variable), not 0 (a fresh copy).
kpp_functions="show_interrupts"
header_prec() {
	# the header is "%*s" of prec + 8 spaces, then CPU0
	local h sp
	h=$(grep -m1 CPU0 /proc/interrupts)
	sp=${h%%CPU0*}
	echo $(( ${#sp} - 8 ))
}
check_original() {
	local p
	p=$(header_prec)
	kpp_info "$1: prec $p"
	[ -n "${prec_orig:-}" ] || prec_orig=$p
	kpp_assert_eq "$1-prec" "$prec_orig" "$p"
	kpp_assert_eq "$1-no-tag" "" "$(grep kpatch++ /proc/interrupts)"
}
check_patched() {
	local first second
	first=$(head -1 /proc/interrupts)
	second=$(head -1 /proc/interrupts)
	kpp_info "$1: first read '$first', second '$second'"
	kpp_assert_eq "$1-shared" "kpatch++ prec=$prec_orig" "$first"
	kpp_assert_eq "$1-persists" "kpatch++ prec=$prec_orig" "$second"
	kpp_assert_eq "$1-header" "$prec_orig" "$(header_prec)"
}
