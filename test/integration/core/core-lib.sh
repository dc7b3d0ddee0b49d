# shellcheck shell=bash
# Building kmod/core (kpatch.ko) and its test modules against a kernel tree;
# shared by run-core-test.sh and bench/bench-core.sh (sourced, not run).
# Needs host-lib.sh (die) sourced first.

kpp_core_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../kmod/core" && pwd)

# kpp_kbuild DIR LOG MAKE...: MAKE M=DIR modules (MAKE: the make command
# of the kernel to build for, e.g. make -C TREE); the log is printed on
# failure.
kpp_kbuild() {
	local dir=$1 log=$2
	shift 2
	"$@" M="$dir" modules >"$log" 2>&1 ||
		{ cat "$log" >&2; die "building in $dir failed"; }
}

# kpp_build_core DIR MAKE...: copy kmod/core to DIR (the source tree stays
# clean) and build DIR/kpatch.ko and the test modules DIR/test/*.ko.
kpp_build_core() {
	local dir=$1
	shift
	rm -rf "$dir"
	cp -r "$kpp_core_src" "$dir"
	kpp_kbuild "$dir" "$dir/core-build.log" "$@"
	kpp_kbuild "$dir/test" "$dir/test-build.log" "$@" \
		KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers"
	[ -f "$dir/kpatch.ko" ] || die "no kpatch.ko produced in $dir"
}
