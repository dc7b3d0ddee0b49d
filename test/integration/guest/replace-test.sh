# Guest half of run-replace-test.sh: two non-replace (-R) patches stack, then
# a cumulative atomic-replace patch takes over from both; disabling it brings
# the original kernel back.
# /test holds livepatch_replace_a.ko (meminfo label), livepatch_replace_b.ko
# (a /proc/version line), both built with -R, and livepatch_replace_c.ko
# (both functions, other text, built without -R).
. /test/lib.sh

a=livepatch_replace_a b=livepatch_replace_b c=livepatch_replace_c
lp=/sys/kernel/livepatch
label() { head -1 /proc/meminfo | sed 's/ *[0-9].*//'; }
version_extra() { sed -n 2p /proc/version; }
loaded() { grep -c "^$1 " /proc/modules; }

check_original() {
	kpp_assert_eq "$1-label" "MemTotal:" "$(label)"
	kpp_assert_eq "$1-version-lines" 1 "$(wc -l </proc/version | tr -d ' ')"
}

kpp_info "kernel $(uname -r)"
check_original before

# Two -R patches: both stay enabled, each changes its own function.
kpp_lp_load $a /test/$a.ko || { kpp_done; exit; }
kpp_assert_eq a-label "MemTotal(kpatch++):" "$(label)"
kpp_assert_eq a-version-unchanged 1 "$(wc -l </proc/version | tr -d ' ')"
kpp_lp_load $b /test/$b.ko || { kpp_done; exit; }
kpp_assert_eq ab-a-still-enabled 1 "$(cat $lp/$a/enabled)"
kpp_assert_eq ab-label "MemTotal(kpatch++):" "$(label)"
kpp_assert_eq ab-version "kpatch++ replace-b" "$(version_extra)"
kpp_assert_eq ab-patches "$a $b" "$(ls $lp | tr '\n' ' ' | sed 's/ $//')"
# An enabled livepatch pins its module.
if rmmod $a 2>/dev/null; then
	kpp_fail ab-a-pinned "rmmod $a succeeded while its patch was enabled"
else
	kpp_pass ab-a-pinned "rmmod refused"
fi

# The cumulative patch replaces both: once its transition is over the
# livepatch core disables and frees the replaced ones.
kpp_lp_load $c /test/$c.ko || { kpp_done; exit; }
kpp_assert_eq c-label "MemTotal(replace-c):" "$(label)"
kpp_assert_eq c-version "kpatch++ replace-c" "$(version_extra)"
kpp_assert_eq c-version-lines 2 "$(wc -l </proc/version | tr -d ' ')"
for p in $a $b; do
	i=0
	while [ -d $lp/$p ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -d $lp/$p ]; then
		kpp_fail "c-replaced-$p" "$lp/$p still there: enabled=$(cat $lp/$p/enabled 2>/dev/null)"
	else
		kpp_pass "c-replaced-$p" "$lp/$p removed"
	fi
	kpp_lp_unload $p
	kpp_assert_eq "c-unloaded-$p" 0 "$(loaded $p)"
done
kpp_assert_eq c-patches "$c" "$(ls $lp | tr '\n' ' ' | sed 's/ $//')"
kpp_assert_eq c-still-enabled 1 "$(cat $lp/$c/enabled)"
kpp_assert_eq c-label-after-rmmod "MemTotal(replace-c):" "$(label)"
kpp_assert_eq c-version-after-rmmod "kpatch++ replace-c" "$(version_extra)"

# Disabling the replacement leaves nothing patched: not even a and b.
kpp_lp_disable $c && kpp_lp_unload $c
kpp_assert_eq after-patches "" "$(ls $lp)"
check_original after
kpp_done
