#!/usr/bin/env bash
# Build (once, then reuse) large real object pairs for bench_diff, compiled
# the way a live-patch build compiles: KCFLAGS="-ffunction-sections -fdata-sections".
#
# Usage: build-bench-objects.sh [--print-dir]
#   Final stdout line is the pair directory:
#   ${KPP_CACHE_DIR:-~/.cache/kpatchpp}/bench/<key>
#   holding vmlinux.ORIG.o vmlinux.PATCHED.o (fs/proc/meminfo.c: one label in
#   meminfo_proc_show), core.ORIG.o core.PATCHED.o (kernel/sched/core.c: one
#   string in sched_show_task), vmlinux + Module.symvers (the parent of the
#   ORIG build), CHANGES (pair -> the function changed).
#
# The kernel tree is a private copy under that directory, configured and built
# by test/integration/build-test-kernel.sh itself (its KPP_CACHE_DIR pointed at
# the bench directory, KCFLAGS in the environment), so the configuration is
# exactly the test kernel's. The shared test kernel under
# ~/.cache/kpatchpp/kernels/ is never touched.
# Environment: KPP_KERNEL_TARBALL, KPP_CACHE_DIR, KPP_JOBS (as build-test-kernel.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build_kernel="$root/test/integration/build-test-kernel.sh"
fragment="$root/test/integration/kernel/config.fragment"
tarball=${KPP_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache_root=${KPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kpatchpp}
jobs=${KPP_JOBS:-$(($(nproc) + 1))}
kcflags="-ffunction-sections -fdata-sections"
# Bump when the pairs or the way they are made change.
recipe_version=1
start=$SECONDS

die() { echo "build-bench-objects: error: $*" >&2; exit 1; }
progress() { printf '[%4ds] %s\n' $((SECONDS - start)) "$*" >&2; }

case "${1:-}" in
"" | --print-dir) ;;
-h | --help) sed -n '2,19p' "$0"; exit 0 ;;
*) die "unknown argument: $1" ;;
esac

# The source changes: FILE, sed expression, the function it changes.
meminfo_file=fs/proc/meminfo.c
meminfo_sed='s/show_val_kb(m, "MemTotal:       ", i.totalram);/show_val_kb(m, "MemTotal(b):    ", i.totalram);/'
meminfo_func=meminfo_proc_show
core_file=kernel/sched/core.c
core_sed='s/pr_info("task:%-15.15s state:%c", p->comm/pr_info("task:%-15.15s  state:%c", p->comm/'
core_func=sched_show_task

cache_key() {
	local pkgver
	pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
	{
		echo "recipe $recipe_version"
		echo "kcflags $kcflags"
		echo "source $(basename "$tarball") $pkgver $(stat -c '%s %Y' "$tarball")"
		echo "gcc $(gcc --version | head -n1)"
		echo "$meminfo_sed"
		echo "$core_sed"
		cat "$build_kernel" "$fragment"
	} | sha256sum | cut -c1-16
}

mk() { make -C "$tree" -j"$jobs" "$@" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "make $* failed; log: $log"; }; }

# Apply sed to FILE, rebuild TARGET, copy OBJ to DEST; then put the source
# back (with a new mtime, so make sees it changed), rebuild TARGET and check
# that OBJ is byte-identical to ORIG again: the tree stays reusable.
make_patched() {
	local file=$1 expr=$2 target=$3 obj=$4 dest=$5 orig=$6
	cp "$tree/$file" "$dir/work.orig-source"
	echo "$file" >"$dir/work.orig-path"
	sed -i "$expr" "$tree/$file"
	cmp -s "$tree/$file" "$dir/work.orig-source" && die "the change to $file did not apply"
	progress "patched $file; make $target"
	mk "$target"
	cp "$tree/$obj" "$dest"
	cat "$dir/work.orig-source" >"$tree/$file"
	rm "$dir/work.orig-source" "$dir/work.orig-path"
	progress "reverted $file; make $target"
	mk "$target"
	cmp -s "$tree/$obj" "$orig" || echo "build-bench-objects: warning: $obj rebuilt from the reverted source differs from ORIG" >&2
	cmp -s "$dest" "$orig" && die "$dest is identical to ORIG"
	return 0
}

main() {
	local key
	key=$(cache_key)
	dir="$cache_root/bench/$key"
	if [ ! -f "$dir/DONE" ]; then
		mkdir -p "$dir"
		exec 9>"$dir.lock"
		flock 9
		if [ ! -f "$dir/DONE" ]; then
			log="$dir/pairs.log"
			: >"$log"
			export KCFLAGS="$kcflags"
			progress "kernel tree: build-test-kernel.sh with KPP_CACHE_DIR=$dir KCFLAGS='$kcflags'"
			tree=$(KPP_CACHE_DIR="$dir" KPP_KERNEL_TARBALL="$tarball" KPP_JOBS="$jobs" \
				"$build_kernel" --print-dir | tail -n1)
			[ -f "$tree/vmlinux.o" ] || die "no vmlinux.o in $tree"
			grep -q -- "-ffunction-sections" "$tree/kernel/sched/.core.o.cmd" ||
				die "$tree was not built with $kcflags"
			# A run stopped between patching and reverting left a source changed.
			if [ -f "$dir/work.orig-path" ]; then
				progress "restoring $(cat "$dir/work.orig-path") left patched by an interrupted run"
				cat "$dir/work.orig-source" >"$tree/$(cat "$dir/work.orig-path")"
				rm "$dir/work.orig-source" "$dir/work.orig-path"
			fi
			# Bring vmlinux.o and core.o up to date with the (unpatched) sources.
			# vmlinux_o, not vmlinux.o: in 6.1 the latter is taken as a
			# single-object target of the top directory and does nothing.
			progress "make vmlinux_o kernel/sched/core.o (up-to-date check)"
			mk vmlinux_o
			mk kernel/sched/core.o
			progress "ORIG objects"
			cp "$tree/vmlinux.o" "$dir/vmlinux.ORIG.o"
			cp "$tree/vmlinux" "$dir/vmlinux"
			cp "$tree/Module.symvers" "$dir/Module.symvers"
			cp "$tree/kernel/sched/core.o" "$dir/core.ORIG.o"
			make_patched "$core_file" "$core_sed" kernel/sched/core.o kernel/sched/core.o \
				"$dir/core.PATCHED.o" "$dir/core.ORIG.o"
			make_patched "$meminfo_file" "$meminfo_sed" vmlinux_o vmlinux.o \
				"$dir/vmlinux.PATCHED.o" "$dir/vmlinux.ORIG.o"
			printf 'vmlinux\t%s\t%s\ncore\t%s\t%s\n' "$meminfo_func" "$meminfo_file" \
				"$core_func" "$core_file" >"$dir/CHANGES"
			echo "$tree" >"$dir/TREE"
			touch "$dir/DONE"
			progress "bench objects ready in $dir"
		fi
		exec 9>&-
	fi
	echo "$dir"
}

main "$@"
