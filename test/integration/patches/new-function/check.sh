# version_proc_show calls a brand-new static function (kpp_version_tag) that
# appends a second line to /proc/version.
kpp_functions="version_proc_show"
check_original() {
	kpp_assert_eq "$1-lines" 1 "$(wc -l < /proc/version | tr -d ' ')"
	kpp_assert_contains "$1-banner" "Linux version" "$(cat /proc/version)"
}
check_patched() {
	kpp_assert_eq "$1-lines" 2 "$(wc -l < /proc/version | tr -d ' ')"
	kpp_assert_eq "$1-tag" "[kpatch++ new function]" "$(sed -n 2p /proc/version)"
	kpp_assert_contains "$1-banner" "Linux version" "$(head -1 /proc/version)"
}
