# A patch to an out-of-tree module (kpp_consumer, test/integration/oot/
# kpp_export_pair) whose patched function calls an export of another module
# (kpp_provider_value of kpp_provider). The patch reaches the export
# through a livepatch relocation applied when kpp_consumer loads, so it
# depends on neither module: it is loaded here while neither is, and the
# modules come after it. /proc/kpp_consumer says 1042 instead of 42 while
# the patch is enabled.
kpp_functions="kpp_consumer_compute.constprop.0"
load_modules() {
	kpp_run "$1-insmod-provider" insmod /test/kpp_provider.ko
	kpp_run "$1-insmod-consumer" insmod /test/kpp_consumer.ko
}
check_original() {
	[ -e /proc/kpp_consumer ] || load_modules "$1"
	kpp_assert_eq "$1-value" "kpp_consumer: 42" "$(cat /proc/kpp_consumer)"
	# Before the patch: take the modules away again, so that it loads first.
	if [ "$1" = before ]; then
		kpp_run before-rmmod-consumer rmmod kpp_consumer
		kpp_run before-rmmod-provider rmmod kpp_provider
		kpp_assert_eq before-provider-gone "" "$(grep -w kpp_provider /proc/modules)"
	fi
}
check_patched() {
	kpp_assert_eq "$1-provider-absent-at-patch-load" "" "$(grep -w kpp_provider /proc/modules)"
	load_modules "$1"
	kpp_assert_eq "$1-value" "kpp_consumer: 1042" "$(cat /proc/kpp_consumer)"
}
