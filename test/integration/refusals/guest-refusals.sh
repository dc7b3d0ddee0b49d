# Guest half of run-refusals-test.sh: the kpatch CLI refuses patch modules
# built for another kernel, with one line each, and nothing gets loaded.
. /test/lib.sh

K=/test/kpatch
rel=$(uname -r)

# kp CMD...: sets $out (stdout+stderr) and $rc.
kp() { out=$("$K" "$@" 2>&1) && rc=0 || rc=$?; kpp_info "kpatch $* -> $rc: $(echo "$out" | tr '\n' '|')"; }

# refused NAME STATUS TEXT: the last kpatch exited STATUS with one line saying TEXT.
refused() {
	kpp_assert_eq "$1-status" "$2" "$rc"
	kpp_assert_contains "$1-message" "$3" "$out"
	kpp_assert_eq "$1-one-line" 1 "$(echo "$out" | wc -l)"
	kpp_assert_eq "$1-not-loaded" "" "$(ls /sys/kernel/livepatch/ 2>/dev/null)"
}

other=$(cat /test/other-release)
# Another release: kpatch refuses before the kernel sees the module.
kp load /test/other-release.ko
refused load-other-release 1 "/test/other-release.ko: built for kernel $other, not $rel"
kp install --prefix /tmp/kp /test/other-release.ko
refused install-other-release 1 "/test/other-release.ko: built for kernel $other, not $rel"
kpp_assert_eq install-nothing-installed "" "$(ls /tmp/kp/var/lib/kpatch/"$rel" 2>/dev/null)"

# The same release, another configuration (a kernel without SMP): only the
# kernel's vermagic check can tell; kpatch reports its refusal.
dmesg -c >/dev/null
kp load /test/other-config.ko
refused load-other-config 1 "the kernel refused /test/other-config.ko: invalid module format"
kpp_assert_contains load-other-config-dmesg "version magic '$rel mod_unload ' should be '$rel SMP mod_unload '" "$(dmesg)"

# The module as built loads (the edits above are what was refused).
kp load /test/livepatch_refusals.ko
kpp_assert_eq load-built-status 0 "$rc"
kp unload livepatch_refusals
kpp_assert_eq unload-built-status 0 "$rc"
kpp_done
