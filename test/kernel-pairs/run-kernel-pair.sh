#!/usr/bin/env bash
# One real kernel object pair test (test/kernel-pairs/README.md): builds the
# objects CASE/fix.patch touches before and after the patch in the cached
# test kernel (kpatch-build -s --skip-cleanup; its own diff is not what is
# tested here), strips them as the shared corpus was stripped, runs
# create-diff-object on each pair and checks EXPECT exactly: the set of
# objects built, and per object the outcome (output with the exact set of
# text symbols, refuse with its one-line reason, nochange).
#   run-kernel-pair.sh CREATE_DIFF_OBJECT KPATCH_BUILD CASE_DIR [EXPECT]
# CASE_DIR holds the patches (*.patch); EXPECT defaults to CASE_DIR/expect
# (an integration patch folder keeps its rows in expect-pairs).
# KPP_KEEP_WORK=1 keeps the work directory (objects, outputs, logs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tool=$1 kpatch_build=$2 case_dir=$3 expect=${4:-$3/expect}
name=$(basename "$case_dir")
work=$(mktemp -d -t "kpp-pair-$name.XXXXXX")
trap '[ -n "${KPP_KEEP_WORK:-}" ] && echo "run-kernel-pair: kept $work" >&2 || rm -rf "$work"' EXIT
fail() { echo "FAIL $name: $*"; exit 1; }

tree=$("$here/../integration/build-test-kernel.sh" --print-dir)

# The objects before and after the patch, built by kpatch-build exactly as
# for a module; its work directory keeps them (orig/ and patched/).
mkdir "$work/tmp"
status=0
TMPDIR=$work/tmp "$kpatch_build" -s "$tree" --skip-cleanup -n "kpp_pair_$(tr -c 'A-Za-z0-9_\n' _ <<<"$name")" \
	-o "$work/module" "$case_dir"/*.patch >"$work/kpatch-build.log" 2>&1 || status=$?
kb_work=$(find "$work/tmp" -mindepth 1 -maxdepth 1 -name 'kpatch-build.*' | head -n1)
if [ -z "$kb_work" ] || [ ! -d "$kb_work/patched" ]; then
	cat "$work/kpatch-build.log"
	fail "kpatch-build (exit $status) built no patched objects"
fi
built=$(cd "$kb_work/patched" && find . -name '*.o' | sed 's|^\./||' | sort)
wanted=$(awk -F'\t' '!/^#/ && NF { print $1 }' "$expect" | sort)
[ "$built" = "$wanted" ] || fail "objects built: [$(paste -sd' ' <<<"$built")], expect lists [$(paste -sd' ' <<<"$wanted")]"

# As the corpus README says its pairs were made (CASE/nostrip keeps DWARF).
strip_like_corpus() {
	cp "$1" "$2"
	[ -f "$case_dir/nostrip" ] && return 0
	strip --strip-debug --keep-file-symbols --remove-section=.eh_frame "$2"
}

while IFS=$'\t' read -r object parent outcome detail; do
	case $object in '#'* | '') continue ;; esac
	base=$work/pairs/$(tr / _ <<<"${object%.o}")
	mkdir -p "$(dirname "$base")"
	strip_like_corpus "$kb_work/orig/$object" "$base.ORIG.o"
	strip_like_corpus "$kb_work/patched/$object" "$base.PATCHED.o"
	if [ "$parent" = vmlinux ]; then
		symtab=$tree/vmlinux
	else
		symtab=$(find "$tree" -name "$parent.ko" -print -quit)
		[ -n "$symtab" ] || fail "no $parent.ko in $tree"
	fi
	rm -f "$base.out.o"
	got=0
	"$tool" --vmlinux "$tree/vmlinux" "$base.ORIG.o" "$base.PATCHED.o" "$parent" "$symtab" \
		"$tree/Module.symvers" "kpp_pair" "$base.out.o" >"$base.log" 2>&1 || got=$?
	cat "$base.log"
	case $outcome in
	output)
		[ $got -eq 0 ] || fail "$object: exit $got, expected 0 (output)"
		funcs=$(nm "$base.out.o" | awk '$2 == "t" || $2 == "T" { print $3 }' | sort | paste -sd,)
		[ "$funcs" = "$detail" ] || fail "$object: functions [$funcs], expected [$detail]"
		;;
	refuse)
		[ $got -eq 1 ] || fail "$object: exit $got, expected 1 (refused)"
		lines=$(grep -cF -- "$detail" "$base.log" || true)
		[ "$lines" -eq 1 ] || fail "$object: $lines line(s) say '$detail', expected 1"
		;;
	nochange)
		[ $got -eq 3 ] || fail "$object: exit $got, expected 3 (no change)"
		;;
	*) fail "unknown outcome '$outcome' in $expect" ;;
	esac
	echo "PASS $name: $object: $outcome${detail:+ $detail}"
done <"$expect"

# CASE/expect-relocs (optional): OBJECT  RELA-SECTION  TYPE  SYMBOL rows that
# must be among the output's relocations (readelf --wide --relocs), to pin
# where a reference goes (the running kernel's symbol or the patch's copy).
[ -f "$case_dir/expect-relocs" ] || exit 0
while IFS=$'\t' read -r object rela type sym; do
	case $object in '#'* | '') continue ;; esac
	out=$work/pairs/$(tr / _ <<<"${object%.o}").out.o
	readelf --wide --relocs "$out" | awk -v sec="$rela" -v type="$type" -v sym="$sym" '
		/^Relocation section/ { cur = $3; gsub(/\047/, "", cur) }
		cur == sec && $3 == type && $5 == sym { found = 1 }
		END { exit !found }' || fail "$object: no $type relocation to $sym in $rela"
	echo "PASS $name: $object: $rela has $type $sym"
done <"$case_dir/expect-relocs"
