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
