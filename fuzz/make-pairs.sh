#!/usr/bin/env bash
# Builds the object pairs fuzz_diff and the seeds use when no kernel object
# corpus is at hand (and beside it when one is): each fuzz/pairs/NAME.c, or
# each folder fuzz/pairs/NAME/ of .c files linked into one object with ld -r,
# compiled by gcc with the flags of a kernel build with kpatch's
# -ffunction-sections/-fdata-sections, once as it is (NAME.ORIG.o) and once
# with -DKPP_PATCHED (NAME.PATCHED.o, or NAME.PATCHED.FAIL.o for a pair
# EXPECT.tsv expects refused), into a folder laid out as the corpus is, with
# fuzz/pairs/EXPECT.tsv.
#   fuzz/make-pairs.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/pairs" && pwd)
out=${1:?usage: make-pairs.sh OUT_DIR}
flags=(-O2 -ffunction-sections -fdata-sections -pg -mfentry -mrecord-mcount -fno-pic
	-mcmodel=kernel -mno-red-zone -fno-asynchronous-unwind-tables -fno-common
	-fno-stack-protector -nostdinc -w)

rm -rf "$out"
mkdir -p "$out/build"
cp "$here/EXPECT.tsv" "$out/EXPECT.tsv"

# compile SRC OBJ [EXTRA...]: in the source's own folder, so the FILE symbol
# is the bare file name in both builds.
compile() {
	local src=$1 obj=$2
	shift 2
	(cd "$(dirname "$src")" && gcc "${flags[@]}" "$@" -c "$(basename "$src")" -o "$obj")
}

while IFS=$'\t' read -r pair expect _; do
	case $pair in '#'* | '') continue ;; esac
	patched=$out/$pair.PATCHED.o
	[ "$expect" = fail ] && patched=$out/$pair.PATCHED.FAIL.o
	for side in ORIG PATCHED; do
		obj=$out/$pair.ORIG.o
		define=()
		[ $side = PATCHED ] && obj=$patched && define=(-DKPP_PATCHED)
		if [ -f "$here/$pair.c" ]; then
			compile "$here/$pair.c" "$obj" "${define[@]}"
		elif [ -d "$here/$pair" ]; then
			parts=()
			for src in "$here/$pair"/*.c; do
				part=$out/build/$pair.$side.$(basename "$src" .c).o
				compile "$src" "$part" "${define[@]}"
				parts+=("$part")
			done
			ld -r "${parts[@]}" -o "$obj"
		else
			echo "make-pairs: EXPECT.tsv names $pair, but there is no $here/$pair.c or $here/$pair/" >&2
			exit 2
		fi
	done
done <"$here/EXPECT.tsv"
rm -rf "$out/build"
