# shellcheck shell=bash
# Shared by the host-side integration scripts (sourced, not run).
# Set KPP_PROG to the script's name before sourcing.

die() { echo "$KPP_PROG: error: $*" >&2; exit 1; }

# parse_workdir_args "$@": the only argument these scripts take is
# --workdir DIR; without it they work in a fresh temporary directory.
parse_workdir_args() {
	workdir=
	while [ $# -gt 0 ]; do
		case "$1" in
		--workdir) workdir=$2; shift ;;
		*) die "unknown argument: $1" ;;
		esac
		shift
	done
	[ -n "$workdir" ] || workdir=$(mktemp -d -t "kpp-$KPP_PROG.XXXXXX")
	mkdir -p "$workdir"
}

# tree_fingerprint DIR OUT: a checksum of every file's contents, every
# file's and symlink's path, size and mtime, and every directory's path,
# sorted — two equal fingerprints mean make sees the very same tree. (A
# directory's mtime changes whenever an entry is added or removed, restored
# files included; make never compares it.)
tree_fingerprint() {
	(
		cd "$1"
		find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum
		find . \( -type d -printf 'd %P\n' \) -o -printf '%y %P %s %T@\n' | LC_ALL=C sort
	) >"$2"
}

# private_tree_copy CACHED DEST LOG: a copy of the cached test kernel that a
# test may break. The copy holds the lock kpatch-build takes on a tree (an
# flock on its directory), so no build changes it meanwhile. A tree that
# moved rebuilds objtool on its next make (its .cmd files name the old
# place), so the copy is settled with one make.
private_tree_copy() {
	rm -rf "$2"
	echo "copying $1 to $2"
	flock "$1" cp -a "$1" "$2"
	make -C "$2" -j"$(nproc)" fs/proc/meminfo.o >"$3" 2>&1 ||
		die "settling the copy $2 failed; see $3"
}
