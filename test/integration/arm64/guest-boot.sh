# Guest side of integration.arm64.boot (run-arm64-boot.sh): Debian's arm64
# kernel as shipped came up, and the facts kpatch.ko relies on hold.
# shellcheck shell=dash disable=SC3043
. /test/lib.sh

kpp_assert_eq arm64-machine aarch64 "$(uname -m)"
kpp_assert_eq arm64-release "$(cat /test/release)" "$(uname -r)"
kpp_assert_contains arm64-console "console=ttyAMA0" "$(cat /proc/cmdline)"
# No CONFIG_LIVEPATCH: kpatch.ko is the only way to patch this kernel.
kpp_assert_eq arm64-no-livepatch no "$([ -d /sys/kernel/livepatch ] && echo yes || echo no)"
# ftrace with regs: the patchable-entry call sites are known to ftrace.
kpp_assert_eq arm64-ftrace-sites yes \
	"$(grep -qx cmdline_proc_show /sys/kernel/debug/tracing/available_filter_functions && echo yes)"
# No CONFIG_KALLSYMS_ALL: kallsyms has text symbols but no data symbol
# (types d, D, b, B, r, R) but the linker's _etext end-of-text marker, so
# a patch's references to static data need another source of truth.
kpp_assert_eq arm64-kallsyms-text yes "$(grep -q ' [tT] cmdline_proc_show$' /proc/kallsyms && echo yes)"
kpp_assert_eq arm64-kallsyms-no-data "_etext" \
	"$(awk '$2 ~ /^[dDbBrR]$/ { printf "%s%s", s, $3; s = " " }' /proc/kallsyms)"
kpp_done
