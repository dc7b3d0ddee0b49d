# The patched arch_dup_task_struct (per fork) attaches a shadow variable (a fork sequence number)
# to every new task; free_task frees it; /proc/PID/personality shows it.
# Tasks forked before the patch have none; each new child gets the next number.
kpp_functions="arch_dup_task_struct free_task proc_pid_personality"
check_original() {
	kpp_assert_eq "$1-self" 1 "$(cat /proc/self/personality | wc -l | tr -d ' ')"
	kpp_assert_eq "$1-shell" "" "$(grep kpp-fork-seq /proc/$$/personality)"
}
check_patched() {
	local a b
	# the shell predates the patch: no shadow variable
	kpp_assert_eq "$1-shell" "" "$(grep kpp-fork-seq /proc/$$/personality)"
	a=$(sed -n 's/^kpp-fork-seq //p' /proc/self/personality)
	b=$(sed -n 's/^kpp-fork-seq //p' /proc/self/personality)
	kpp_info "$1: children got fork-seq '$a' and '$b'"
	kpp_assert_ne "$1-child-a" "" "$a"
	kpp_assert_ne "$1-child-b" "" "$b"
	if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]; then
		kpp_pass "$1-increasing" "$a < $b"
	else
		kpp_fail "$1-increasing" "'$a' then '$b'"
	fi
}
