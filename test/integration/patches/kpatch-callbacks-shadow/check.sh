# A patch written for kpatch: "kpatch-macros.h", a KPATCH_PRE_PATCH_CALLBACK
# (patch_object *) that renames the host and a KPATCH_POST_UNPATCH_CALLBACK
# that renames it back and frees every shadow variable with a destructor
# (klp_shadow_free_all) that counts them. The patched proc_pid_status keeps
# a per-task count of /proc/PID/status reads in a shadow variable made by
# klp_shadow_get_or_alloc with a constructor (it starts at 100). Three tasks
# get one while patched: this shell and two short-lived greps.
kpp_functions="proc_pid_status"
host_orig=$(hostname)

reads() { sed -n 's/^KppStatusReads:\t//p' "$1"; }

check_original() {
	kpp_assert_eq "$1-hostname" "$host_orig" "$(hostname)"
	kpp_assert_eq "$1-no-reads" "" "$(reads /proc/$$/status)"
	if [ "$1" = before ]; then
		kpp_assert_eq "$1-no-callbacks" "" "$(dmesg | grep kpp-callbacks-shadow)"
	else
		kpp_assert_eq "$1-freed" 1 "$(dmesg | grep -c 'kpp-callbacks-shadow: post_unpatch freed 3$')"
	fi
}

check_patched() {
	kpp_assert_eq "$1-hostname" kpp-callbacks "$(hostname)"
	kpp_assert_eq "$1-pre_patch" 1 "$(dmesg | grep -c "kpp-callbacks-shadow: pre_patch, was '$host_orig'\$")"
	kpp_assert_eq "$1-shell-first" 101 "$(reads /proc/$$/status)"
	kpp_assert_eq "$1-shell-second" 102 "$(reads /proc/$$/status)"
	kpp_assert_eq "$1-self-a" 101 "$(grep KppStatusReads /proc/self/status | cut -f2)"
	kpp_assert_eq "$1-self-b" 101 "$(grep KppStatusReads /proc/self/status | cut -f2)"
	kpp_assert_eq "$1-no-unpatch" 0 "$(dmesg | grep -c 'kpp-callbacks-shadow: post_unpatch')"
}
