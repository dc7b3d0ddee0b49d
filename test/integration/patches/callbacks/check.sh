# Pre/post patch and unpatch callbacks (KPATCH_*_CALLBACK) log to dmesg;
# version_proc_show also changes so the patch has a function.
kpp_functions="version_proc_show"
cb() { dmesg | grep -c "kpp-callbacks: $1 vmlinux"; }
check_original() {
	kpp_assert_eq "$1-version" 1 "$(wc -l < /proc/version | tr -d ' ')"
	if [ "$1" = before ]; then
		kpp_assert_eq "$1-no-callbacks" "" "$(dmesg | grep kpp-callbacks)"
	else
		dmesg | grep kpp-callbacks | sed 's/^/KPP-INFO /'
		kpp_assert_eq "$1-pre_patch" 1 "$(cb pre_patch)"
		kpp_assert_eq "$1-post_patch" 1 "$(cb post_patch)"
		kpp_assert_eq "$1-pre_unpatch" 1 "$(cb pre_unpatch)"
		kpp_assert_eq "$1-post_unpatch" 1 "$(cb post_unpatch)"
		kpp_assert_eq "$1-order" "pre_patch post_patch pre_unpatch post_unpatch" \
			"$(dmesg | sed -n 's/.*kpp-callbacks: \([a-z_]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
	fi
}
check_patched() {
	kpp_assert_eq "$1-version" "kpatch++ callbacks" "$(sed -n 2p /proc/version)"
	kpp_assert_eq "$1-pre_patch" 1 "$(cb pre_patch)"
	kpp_assert_eq "$1-post_patch" 1 "$(cb post_patch)"
	kpp_assert_eq "$1-no-unpatch" 0 "$(cb pre_unpatch)"
}
