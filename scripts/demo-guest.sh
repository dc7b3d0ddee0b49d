# Runs inside the demo VM: /proc/meminfo before, during and after the patch.
. /test/lib.sh
patch=livepatch_meminfo_demo
echo "DEMO kernel $(uname -r)"
echo "DEMO before:   $(head -1 /proc/meminfo)"
if kpp_lp_load $patch /test/$patch.ko; then
	echo "DEMO patched:  $(head -1 /proc/meminfo)"
	echo "DEMO /sys/kernel/livepatch/$patch: enabled=$(cat /sys/kernel/livepatch/$patch/enabled) transition=$(cat /sys/kernel/livepatch/$patch/transition)"
	kpp_lp_disable $patch && kpp_lp_unload $patch
	echo "DEMO unloaded: $(head -1 /proc/meminfo)"
fi
kpp_done
