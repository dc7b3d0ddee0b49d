# shellcheck shell=bash
# Building kmod/core (kpatch.ko) and its test modules against a kernel tree;
# shared by run-core-test.sh and bench/bench-core.sh (sourced, not run).
# Needs host-lib.sh (die) sourced first.

kpp_core_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../kmod/core" && pwd)

# kpp_kbuild TREE DIR LOG [MAKE ARGS...]: make -C TREE M=DIR modules; the
# log is printed on failure.
kpp_kbuild() {
	local tree=$1 dir=$2 log=$3
	shift 3
	make -C "$tree" M="$dir" "$@" modules >"$log" 2>&1 ||
		{ cat "$log" >&2; die "building in $dir failed"; }
}

# kpp_build_core TREE DIR: copy kmod/core to DIR (the source tree stays
# clean) and build DIR/kpatch.ko and the test modules DIR/test/*.ko.
kpp_build_core() {
	local tree=$1 dir=$2
	rm -rf "$dir"
	cp -r "$kpp_core_src" "$dir"
	kpp_kbuild "$tree" "$dir" "$dir/core-build.log"
	kpp_kbuild "$tree" "$dir/test" "$dir/test-build.log" \
		KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers"
	[ -f "$dir/kpatch.ko" ] || die "no kpatch.ko produced in $dir"
}
