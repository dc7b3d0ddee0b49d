# Guest half of run-update-test.sh: the cumulative update module on the
# release's own kernel. /test/dependencies: stock modules in load order
# (the patched modules last); /test/functions: OBJECT/FUNCTION for every
# livepatch function the report names; /test/parents: the patched objects.
. /test/lib.sh

patch=$(cat /test/patch-name)
kpp_info "kernel $(uname -r), update module $patch"
while read -r ko; do
	kpp_run "module-$ko" insmod "/test/$ko"
done </test/dependencies
if kpp_lp_load "$patch" "/test/$patch.ko"; then
	kpp_assert_eq transition 0 "$(cat /sys/kernel/livepatch/$patch/transition)"
	want=$(sort /test/functions | tr '\n' ' ')
	got=$(kpp_patched_functions "$patch" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
	kpp_assert_eq patched-functions "$want" "$got"
	while read -r parent; do
		kpp_assert_eq "$parent-patched" 1 "$(cat "/sys/kernel/livepatch/$patch/$parent/patched")"
	done </test/parents
	kpp_lp_disable "$patch" && kpp_lp_unload "$patch"
fi
kpp_done
