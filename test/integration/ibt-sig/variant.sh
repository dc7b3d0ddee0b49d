# Guest half of the ibt-sig kernel variant, sourced by guest/patch-test.sh:
# signature enforcement is on and refuses the unsigned build of the patch
# (/test/unsigned.ko, from host-checks.sh); the CPU's IBT state is reported
# (QEMU TCG does not emulate CET, see test/integration/README.md).
variant_checks() {
	local patch=$1 out rc
	kpp_assert_eq sig-enforce Y "$(cat /sys/module/module/parameters/sig_enforce)"
	if grep -qw ibt /proc/cpuinfo; then
		kpp_info "CPU has IBT: $(dmesg | grep -m1 'CET detected')"
	else
		kpp_info "CPU has no IBT (no 'ibt' in /proc/cpuinfo): ENDBR is not enforced here"
	fi
	out=$(insmod /test/unsigned.ko 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then
		kpp_fail unsigned-refused "insmod loaded the unsigned module"
		return
	fi
	kpp_pass unsigned-refused "insmod exited $rc: $out"
	kpp_assert_contains unsigned-dmesg "Loading of unsigned module is rejected" "$(dmesg | tail -n 5)"
	kpp_assert_eq unsigned-not-listed "" "$(ls -d "/sys/kernel/livepatch/$patch" 2>/dev/null)"
}
