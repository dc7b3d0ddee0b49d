#!/usr/bin/env bash
# kpatch-build must leave the kernel tree byte-for-byte as it found it when it
# is interrupted: start it on the test kernel with a meminfo patch, send a
# signal while make is compiling (once during the original build, once after
# the patch was applied, during the patched build), and compare fingerprints
# of the whole tree: a checksum of every file's contents, plus every path with
# its type, size and mtime (tree_fingerprint in host-lib.sh).
#
# SIGINT: kpatch-build restores the tree itself and exits with 130.
# SIGKILL (an OOM kill, a timeout, a power cut): nothing runs, the tree stays
# patched and the guard's journal stays (in KPP_STATE_DIR, here under the
# work directory); the next kpatch-build on the tree must replay it, say so
# in one warning line, build the patch, and leave the tree identical.
#
# Usage: kpatch_build_interrupt.sh --kpatch-build PATH [--workdir DIR]
#                                  [--tree DIR | --in-place]
#   --tree DIR   use this built kernel tree (default: a private copy of the
#                cached test kernel, build-test-kernel.sh --print-dir)
#   --in-place   use the cached test kernel itself instead of a copy
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KPP_PROG=kpatch_build_interrupt
# shellcheck source=host-lib.sh
. "$here/host-lib.sh"
kpatch_build=""
workdir=""
tree=""
in_place=0
failures=0

die() { echo "kpatch_build_interrupt: error: $*" >&2; exit 2; }
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--kpatch-build) kpatch_build=$2; shift ;;
		--workdir) workdir=$2; shift ;;
		--tree) tree=$2; shift ;;
		--in-place) in_place=1 ;;
		-h | --help) sed -n '2,19p' "$0"; exit 0 ;;
		*) die "unknown argument: $1" ;;
		esac
		shift
	done
	[ -x "$kpatch_build" ] || die "--kpatch-build PATH (the built kpatch-build) is required"
	workdir=${workdir:-$(mktemp -d /tmp/kpb-interrupt.XXXXXX)}
	mkdir -p "$workdir"
	workdir=$(cd "$workdir" && pwd)
	# The journals of the killed runs: kept out of the user's own state.
	# and their work directories (which a SIGKILL leaves behind).
	export KPP_STATE_DIR="$workdir/state" TMPDIR="$workdir/tmp"
	rm -rf "$KPP_STATE_DIR" "$TMPDIR"
	mkdir -p "$TMPDIR"
}

# A private copy keeps the shared cache safe should the test find a bug.
prepare_tree() {
	if [ -n "$tree" ]; then
		return
	fi
	local cached
	cached=$("$here/build-test-kernel.sh" --print-dir | tail -n1)
	if [ "$in_place" = 1 ]; then
		tree=$cached
		return
	fi
	tree="$workdir/linux"
	private_tree_copy "$cached" "$tree" "$workdir/settle.log"
}

# The patch is made from the tree's own file, so it applies whatever the
# exact 6.1 sublevel.
make_patch() {
	local src="$tree/fs/proc/meminfo.c" scratch="$workdir/patch-src"
	grep -q '"MemTotal:       "' "$src" || die "$src has no MemTotal label to change"
	rm -rf "$scratch"
	mkdir -p "$scratch/a/fs/proc" "$scratch/b/fs/proc"
	cp "$src" "$scratch/a/fs/proc/meminfo.c"
	sed 's/"MemTotal:       "/"MemTotalKpp:    "/' "$src" >"$scratch/b/fs/proc/meminfo.c"
	(cd "$scratch" && diff -u a/fs/proc/meminfo.c b/fs/proc/meminfo.c >"$workdir/meminfo.patch") || true
	[ -s "$workdir/meminfo.patch" ] || die "could not make the patch"
}

fingerprint() { tree_fingerprint "$tree" "$1"; }

# Starts kpatch-build, waits for STAGE and for its make child to be
# compiling, sends SIGNAL (INT or KILL), waits for the exit. Sets `status`
# and `output`.
interrupt_during() {
	local stage=$1 name=$2 signal=$3 pid make_pid tries
	output="$workdir/$name.out"
	"$kpatch_build" -s "$tree" -j2 -o "$workdir/out-$name" "$workdir/meminfo.patch" \
		>"$output" 2>&1 &
	pid=$!
	# Up to 10 minutes: the original build is slow on a loaded machine.
	for tries in $(seq 1 6000); do
		grep -q "$stage" "$output" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	make_pid=""
	for tries in $(seq 1 100); do
		make_pid=$(pgrep -P "$pid" -x make || true)
		[ -n "$make_pid" ] && break
		sleep 0.05
	done
	# Let make get into the compiler before the signal arrives.
	sleep 0.7
	kill -"$signal" "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
	echo "--- kpatch-build output ($name, exit $status):"
	sed 's/^/    /' "$output"
	[ -n "$make_pid" ] && pass "$name: SIG$signal arrived while make ($make_pid) was running" ||
		fail "$name: never saw make running after '$stage'"
	if grep -q "built .*\.ko" "$output"; then
		fail "$name: the build finished before the signal; nothing was tested"
	fi
}

# The work directory an interrupted run keeps (for its log); not needed here.
remove_kept_workdir() {
	local kept
	kept=$(sed -n 's|^kpatch-build: log: \(.*\)/build.log .*|\1|p' "$1")
	[ -n "$kept" ] && rm -rf "$kept"
	return 0
}

# The tree is as it was before the first run, to the byte and the mtime.
check_tree_identical() {
	local name=$1
	fingerprint "$workdir/after-$name"
	if cmp -s "$workdir/before" "$workdir/after-$name"; then
		pass "$name: tree identical (content checksum, size and mtime of every file)"
	else
		fail "$name: tree differs:"
		diff "$workdir/before" "$workdir/after-$name" | head -20 || true
	fi
	[ ! -e "$tree/fs/proc/.meminfo.o.d" ] && pass "$name: no stray dependency file" ||
		fail "$name: fs/proc/.meminfo.o.d left behind"
}

check_interrupted_run() {
	local name=$1
	[ "$status" = 130 ] && pass "$name: exit status 130 (killed by SIGINT)" ||
		fail "$name: exit status $status, expected 130"
	grep -q "interrupted" "$output" && pass "$name: reports the interrupt" ||
		fail "$name: no 'interrupted' message"
	remove_kept_workdir "$output"
	check_tree_identical "$name"
}

journal_count() { find "$KPP_STATE_DIR" -name '*.journal' 2>/dev/null | wc -l; }

# After SIGKILL: the tree is still changed (FILE holds PATTERN) and a
# journal says how to undo it; the next run replays it, then builds the
# patch as if nothing happened. (No fingerprint of the killed state: the
# dead run's make may still be writing.)
check_killed_run() {
	local name=$1 file=$2 pattern=$3 next="$workdir/$1-next.out" next_status=0
	[ "$status" = 137 ] && pass "$name: exit status 137 (SIGKILL)" ||
		fail "$name: exit status $status, expected 137"
	grep -q "$pattern" "$tree/$file" 2>/dev/null &&
		pass "$name: the kill left the tree changed ($file)" ||
		fail "$name: $file does not hold '$pattern' after the kill; nothing was tested"
	[ "$(journal_count)" -ge 1 ] && pass "$name: the killed run left $(journal_count) journal(s)" ||
		fail "$name: no journal in $KPP_STATE_DIR"

	"$kpatch_build" -s "$tree" -j2 -o "$workdir/out-$name-next" "$workdir/meminfo.patch" \
		>"$next" 2>&1 || next_status=$?
	echo "--- the next kpatch-build (exit $next_status):"
	sed 's/^/    /' "$next"
	[ "$next_status" = 0 ] && compgen -G "$workdir/out-$name-next/*.ko" >/dev/null &&
		pass "$name: the next run built the patch" ||
		fail "$name: the next run failed (exit $next_status)"
	local warning
	warning=$(grep -c "^kpatch-build: warning: $tree: a kpatch-build (pid [0-9]*) was killed before it could restore the tree; restored [0-9]* file(s) from its journal" "$next" || true)
	[ "$warning" = 1 ] && pass "$name: one warning line says the tree was restored" ||
		fail "$name: $warning warning lines about the restore, expected 1"
	[ "$(journal_count)" = 0 ] && pass "$name: no journal left" ||
		fail "$name: $(journal_count) journal(s) left in $KPP_STATE_DIR"
	# The killed run's work directory (its log and backups) stays behind.
	rm -rf "$TMPDIR"/kpatch-build.*
	check_tree_identical "$name"
}

main() {
	parse_args "$@"
	prepare_tree
	make_patch
	fingerprint "$workdir/before"
	echo "tree: $tree ($(wc -l <"$workdir/before") fingerprint lines)"

	interrupt_during "building original objects" original INT
	check_interrupted_run original
	interrupt_during "building patched objects" patched INT
	check_interrupted_run patched
	# The patch headers go in before the original build, the patch before
	# the patched one.
	[ ! -e "$tree/include/linux/kpatchpp-macros.h" ] ||
		die "the tree already has include/linux/kpatchpp-macros.h"
	interrupt_during "building original objects" killed-original KILL
	check_killed_run killed-original include/linux/kpatchpp-macros.h .
	interrupt_during "building patched objects" killed-patched KILL
	check_killed_run killed-patched fs/proc/meminfo.c MemTotalKpp

	if [ "$failures" = 0 ]; then
		echo "kpatch_build_interrupt: all checks passed"
		[ "$in_place" = 1 ] || [ "$tree" != "$workdir/linux" ] || rm -rf "$tree"
		exit 0
	fi
	echo "kpatch_build_interrupt: $failures check(s) failed (work directory $workdir kept)"
	exit 1
}

main "$@"
