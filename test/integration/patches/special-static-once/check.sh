# Compiler-made static locals in a changed function (kpatch's "special
# statics"): __set_oom_adj, which gcc clones as __set_oom_adj.isra.0,
# warns once (pr_warn_once: a static __already_done flag) when
# /proc/PID/oom_adj is written; the patch rewords that warning and adds a
# pr_info_ratelimited (a static ratelimit state, DEFINE_RATELIMIT_STATE).
# Such statics are the patch's own, as kpatch does it: the reworded warning
# is printed once more although the running kernel's flag is already set,
# and the new ratelimit state is initialised (10 messages per 5 s). The
# running kernel's flag stays set: its warning never comes back.
kpp_functions="__set_oom_adj.isra.0"
old_msg="oom_adj is deprecated, please use"
new_msg="oom_adj is deprecated and will go away (kpatch++), please use"
rl_msg="kpp-special-static: oom_adj of $$ set to 0"

# write_oom_adj N: write 0 to this shell's oom_adj N times.
write_oom_adj() {
	local i=0
	while [ $i -lt "$1" ]; do
		echo 0 >/proc/$$/oom_adj
		i=$((i + 1))
	done
}
logged() { dmesg | grep -c -- "$1"; }

check_original() {
	write_oom_adj 3
	kpp_assert_eq "$1-warned-once" 1 "$(logged "$old_msg")"
	kpp_assert_eq "$1-adj" 0 "$(cat /proc/$$/oom_adj)"
	if [ "$1" = before ]; then
		kpp_assert_eq "$1-no-new-msg" 0 "$(logged "$new_msg")"
	else
		kpp_assert_eq "$1-new-msg-kept" 1 "$(logged "$new_msg")"
		kpp_assert_eq "$1-ratelimited-kept" 10 "$(logged "$rl_msg")"
	fi
}

check_patched() {
	write_oom_adj 15
	kpp_assert_eq "$1-new-warned-once" 1 "$(logged "$new_msg")"
	kpp_assert_eq "$1-old-not-again" 1 "$(logged "$old_msg")"
	kpp_assert_eq "$1-ratelimited" 10 "$(logged "$rl_msg")"
	kpp_assert_eq "$1-adj" 0 "$(cat /proc/$$/oom_adj)"
}
