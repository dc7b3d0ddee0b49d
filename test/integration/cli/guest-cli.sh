# Guest half of run-cli-test.sh: the real kpatch binary (/test/kpatch) drives
# a kpatch-build module through install → info → load → list → unload, and
# refuses binfmt_misc.ko (not a livepatch module).
# The JSON documents are printed between KPP-JSON-BEGIN/END markers, one
# "KPP-JSON " line each, and parsed on the host (busybox has no jq).
. /test/lib.sh

K=/test/kpatch
patch=$(cat /test/patch-name)
prefix=/tmp/kp
rel=$(uname -r)

# kpatch CMD... : sets $out (stdout+stderr) and $rc.
kp() { out=$("$K" "$@" 2>&1) && rc=0 || rc=$?; kpp_info "kpatch $* -> $rc: $(echo "$out" | tr '\n' '|')"; }

# Print a JSON document for the host; keep kernel messages off the console
# meanwhile so they cannot split its lines.
dump_json() {
	local tag=$1 saved
	shift
	saved=$(cat /proc/sys/kernel/printk)
	echo 1 >/proc/sys/kernel/printk
	echo "KPP-JSON-BEGIN $tag"
	"$K" "$@" 2>&1 | sed 's/^/KPP-JSON /'
	echo "KPP-JSON-END $tag"
	echo "$saved" >/proc/sys/kernel/printk
}

kp version
kpp_assert_eq version-status 0 "$rc"
kpp_assert_contains version "kpatch (kpatch++)" "$out"

kp load --help
kpp_assert_contains load-help "Usage: kpatch load" "$out"

# Not a livepatch module: refused before insertion, with one clear line.
kp load /test/binfmt_misc.ko
kpp_assert_eq notlp-status 1 "$rc"
kpp_assert_contains notlp-message "binfmt_misc is not a livepatch module" "$out"
kpp_assert_eq notlp-lines 1 "$(echo "$out" | wc -l)"
kpp_assert_eq notlp-not-inserted "" "$(ls -d /sys/module/binfmt_misc 2>/dev/null)"

kp load livepatch_no_such_patch
kpp_assert_eq nosuch-status 2 "$rc"
kpp_assert_contains nosuch-message "no such patch module: livepatch_no_such_patch" "$out"

kp install --prefix "$prefix" "/test/$patch.ko"
kpp_assert_eq install-status 0 "$rc"
kpp_assert_eq installed-file yes "$([ -f "$prefix/var/lib/kpatch/$rel/$patch.ko" ] && echo yes)"
kp install --prefix "$prefix" -k 6.0.0 "/test/$patch.ko"
kpp_assert_eq other-kernel-status 1 "$rc"
kpp_assert_contains other-kernel-message "built for kernel $rel, not 6.0.0" "$out"

kp info "/test/$patch.ko"
kpp_assert_eq info-file-status 0 "$rc"
kpp_assert_contains info-file-function "vmlinux:meminfo_proc_show," "$out"
kpp_assert_contains info-file-kernel "kernel:      $rel" "$out"

kpp_assert_contains before-label "MemTotal:       " "$(head -1 /proc/meminfo)"

# Load by installed NAME.
kp load --prefix "$prefix" --timeout 60 "$patch"
kpp_assert_eq load-status 0 "$rc"
kpp_assert_contains load-message "$patch: loaded, transition complete" "$out"
kpp_assert_eq load-enabled 1 "$(cat /sys/kernel/livepatch/$patch/enabled 2>&1)"
kpp_assert_eq load-transition 0 "$(cat /sys/kernel/livepatch/$patch/transition 2>&1)"
kpp_assert_contains loaded-label "MemTotal(kpatch++): " "$(head -1 /proc/meminfo)"

kp load "/test/$patch.ko"
kpp_assert_eq load-again-status 1 "$rc"
kpp_assert_contains load-again-message "$patch is already loaded" "$out"

kp list --prefix "$prefix"
kpp_assert_eq list-status 0 "$rc"
kpp_assert_contains list-loaded "$patch [enabled] 1 function(s)" "$out"
kpp_assert_contains list-installed "$rel (running):" "$out"

kp info "$patch"
kpp_assert_eq info-loaded-status 0 "$rc"
kpp_assert_contains info-loaded-state "state:       loaded, enabled" "$out"
kpp_assert_contains info-loaded-object "object:      vmlinux (patched)" "$out"
kpp_assert_contains info-loaded-function "meminfo_proc_show," "$out"

dump_json list list --json --prefix "$prefix"
dump_json info info --json --prefix "$prefix" "$patch"

kp signal
kpp_assert_contains signal-idle "no patch is in transition" "$out"

kp unload "$patch"
kpp_assert_eq unload-status 0 "$rc"
kpp_assert_contains unload-message "$patch: unloaded" "$out"
kpp_assert_eq unload-sysfs-gone "" "$(ls -d /sys/kernel/livepatch/$patch 2>/dev/null)"
kpp_assert_eq unload-module-gone "" "$(ls -d /sys/module/$patch 2>/dev/null)"
kpp_assert_contains unloaded-label "MemTotal:       " "$(head -1 /proc/meminfo)"

kp unload "$patch"
kpp_assert_eq unload-again-status 2 "$rc"
kpp_assert_contains unload-again-message "$patch is not loaded" "$out"

dump_json list-after list --json --prefix "$prefix"

kp uninstall --prefix "$prefix" "$patch"
kpp_assert_eq uninstall-status 0 "$rc"
kpp_assert_eq uninstalled-file "" "$(ls "$prefix/var/lib/kpatch/$rel/" 2>/dev/null)"
# Boot-time loading: the command kpatch.service runs (its ExecStart, with the
# installed bindir standing for /test), on the default install directory.
unit_args=$(sed -n 's|^ExecStart=@CMAKE_INSTALL_FULL_BINDIR@/kpatch ||p' /test/kpatch.service.in)
kpp_assert_eq unit-execstart "load --all" "$unit_args"
kp $unit_args
kpp_assert_eq unit-none-status 0 "$rc"
kpp_assert_contains unit-none-message "no patch installed for $rel in /var/lib/kpatch/$rel" "$out"
kp install "/test/$patch.ko"
kpp_assert_eq unit-install-status 0 "$rc"
kp $unit_args
kpp_assert_eq unit-load-status 0 "$rc"
kpp_assert_contains unit-load-message "$patch: loaded, transition complete" "$out"
kpp_assert_contains unit-loaded-label "MemTotal(kpatch++): " "$(head -1 /proc/meminfo)"
kp $unit_args
kpp_assert_eq unit-again-status 0 "$rc"
kpp_assert_contains unit-again-message "$patch: already loaded" "$out"
kp unload "$patch"
kpp_assert_eq unit-unload-status 0 "$rc"
kp uninstall "$patch"
kpp_assert_eq unit-uninstall-status 0 "$rc"

# A stalled transition. stall.patch replaces kernel_wait4, where every shell
# waiting for a child sleeps: while `kpatch load` runs, its parent shells
# (/init at least) cannot switch, so a short --timeout expires and kpatch names them. The
# livepatch core's fake signal (every 15 s in 6.1) then moves them on.
stall=livepatch_cli_stall
if [ -f "/test/$stall.ko" ]; then
	kp load --timeout 3 "/test/$stall.ko"
	kpp_assert_eq stall-status 1 "$rc"
	kpp_assert_contains stall-message "$stall: transition not finished after 3s" "$out"
	kpp_assert_contains stall-tasks "kpatch: tasks still unpatched:" "$out"
	# /init (a busybox sh, comm "init") waits for this script in wait4.
	kpp_assert_contains stall-task-init "pid 1 (init) patch_state=0" "$out"
	kpp_assert_contains stall-task-stack "kernel_wait4+" "$out"
	kp list
	kpp_assert_contains stall-list "$stall [enabled, patching in progress]" "$out"
	kp signal
	kpp_assert_eq stall-signal-status 0 "$rc"
	kpp_assert_contains stall-signal "livepatch core signals the blocking tasks every 15s" "$out"
	kpp_assert_contains stall-signal-tasks "pid 1 (init) patch_state=0" "$out"
	kpp_wait_transition "$stall" 90
	# Unpatching stalls the same way on our own parent until the next fake
	# signal: kpatch prints progress and waits it out.
	kp unload --timeout 90 "$stall"
	kpp_assert_eq stall-unload-status 0 "$rc"
	kpp_assert_contains stall-unload-progress "$stall: unpatching:" "$out"
	kpp_assert_eq stall-unload-gone "" "$(ls -d /sys/module/$stall 2>/dev/null)"

	# The documented way out for tasks that never move (docs/kpatch.md):
	# `kpatch force` completes the transition within a second, without the
	# 15 s signal. Unsafe, so it wants --yes, and the kernel then keeps the
	# module for good: this is the last step of the test.
	kp load --timeout 3 "/test/$stall.ko"
	kpp_assert_eq force-stalled-status 1 "$rc"
	kpp_assert_eq force-in-transition 1 "$(cat /sys/kernel/livepatch/$stall/transition)"
	kp force "$stall"
	kpp_assert_eq force-without-yes-status 1 "$rc"
	kpp_assert_eq force-without-yes-in-transition 1 "$(cat /sys/kernel/livepatch/$stall/transition)"
	kp force "$stall" --yes
	kpp_assert_eq force-status 0 "$rc"
	kpp_assert_contains force-message "$stall: transition forced" "$out"
	# force marks every task switched; the core's next check (at most 1 s
	# later) then finds none left and completes.
	kpp_wait_transition "$stall" 5
	kpp_assert_eq force-enabled 1 "$(cat /sys/kernel/livepatch/$stall/enabled)"
	kpp_assert_eq force-no-unpatched-task "" "$(grep -lx 0 /proc/[0-9]*/patch_state 2>/dev/null)"
fi
kpp_done
