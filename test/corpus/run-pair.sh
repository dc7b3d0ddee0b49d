#!/usr/bin/env bash
# Runs create-diff-object on one pair of ../shared/corpus and checks the exact
# outcome EXPECT-EXACT.tsv gives for it, then the extra `check` of EXPECT.tsv
# (see the corpus README).
#   run-pair.sh CREATE_DIFF_OBJECT CORPUS_DIR PAIR
set -euo pipefail

tool=$1 corpus=$2 pair=$3
row_of() { awk -F'\t' -v p="$pair" '$1 == p' "$corpus/$1"; }
row=$(row_of EXPECT.tsv)
[ -n "$row" ] || { echo "no row for $pair in $corpus/EXPECT.tsv"; exit 1; }
IFS=$'\t' read -r _ expect env check <<<"$row"
exact=$(row_of EXPECT-EXACT.tsv)
[ -n "$exact" ] || { echo "no row for $pair in $corpus/EXPECT-EXACT.tsv"; exit 1; }
IFS=$'\t' read -r _ outcome want_funcs <<<"$exact"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

orig=$corpus/$pair.ORIG.o
patched=$corpus/$pair.PATCHED.o
[ "$expect" = fail ] && patched=$corpus/$pair.PATCHED.FAIL.o
# The parent's symbol table, as kpatch-build's readelf step prints it.
readelf -s --wide "$orig" | sed 's/\[<localentry>: 8\]//' >"$work/symtab"
patchname=test_$(printf '%s' "$pair" | tr -c 'A-Za-z0-9_' '_')

sizes=(PARA_STRUCT_SIZE=16 EX_STRUCT_SIZE=12 BUG_STRUCT_SIZE=12 ALT_STRUCT_SIZE=13
	JUMP_STRUCT_SIZE=24 ORC_STRUCT_SIZE=6 STATIC_CALL_STRUCT_SIZE=8
	PRINTK_INDEX_STRUCT_SIZE=44)
# Another architecture's corpus gives its own sizes (aarch64: README).
[ -z "${KPP_CORPUS_STRUCT_SIZES:-}" ] || read -r -a sizes <<<"$KPP_CORPUS_STRUCT_SIZES"
[ "$env" = - ] || sizes+=($env)

set +e
env "${sizes[@]}" "$tool" --report "$work/report.json" "$orig" "$patched" vmlinux \
	"$work/symtab" /dev/null "$patchname" "$work/output.o" >"$work/stdout" 2>"$work/stderr"
status=$?
set -e
cat "$work/stdout" "$work/stderr"

fail() { echo "FAIL $pair: $*"; exit 1; }

# The exact outcome: exit 0 with an object, 1 with one line saying why, or 3.
# Exit 2 (bad input) or a signal satisfies no row.
case $outcome in
output) want_status=0 ;;
refuse) want_status=1 ;;
nochange) want_status=3 ;;
*) fail "unknown outcome $outcome in EXPECT-EXACT.tsv" ;;
esac
[ $status -eq $want_status ] || fail "expected $outcome (exit $want_status), got exit $status"

if [ "$outcome" = refuse ]; then
	# Warnings may come before it; the reason is one error line.
	reasons=$(grep -c '^create-diff-object: error: .' "$work/stderr" || true)
	[ "$reasons" -eq 1 ] || fail "a refusal must give one error line saying why, got $reasons"
fi
if [ "$outcome" != output ]; then
	[ ! -e "$work/output.o" ] || fail "$outcome, yet an output object was written"
	echo "PASS $pair: $outcome"
	exit 0
fi

[ -s "$work/output.o" ] || fail "no output object"
readelf -h "$work/output.o" >/dev/null || fail "output is not valid ELF"
got_funcs=$(nm "$work/output.o" | awk '$2 == "t" || $2 == "T" { print $3 }' | LC_ALL=C sort -u |
	paste -sd, -)
want_sorted=$(tr , '\n' <<<"$want_funcs" | LC_ALL=C sort -u | paste -sd, -)
[ "$got_funcs" = "$want_sorted" ] || fail "text symbols $got_funcs, expected exactly $want_sorted"

case "$expect" in
funcs=*)
	want=${expect#funcs=}
	got=$(nm "$work/output.o" | grep -ci ' t ' || true)
	[ "$got" -eq "$want" ] || { nm "$work/output.o" | grep -i ' t '; fail "expected $want functions, got $got"; }
	;;
ok) ;;
*) fail "unknown expectation $expect" ;;
esac

case "$check" in
-) ;;
local-func:*)
	sym=${check#local-func:}
	nm "$work/output.o" | grep -q " t $sym\$" || fail "$sym is not a local function"
	;;
no-undef-section-sym)
	if readelf --wide --symbols "$work/output.o" | awk '$4 == "SECTION" && $7 == "UND"' | grep -q .; then
		fail "an undefined SECTION symbol"
	fi
	;;
modinfo-count:*)
	IFS=: read -r _ str n <<<"$check"
	got=$(readelf --string-dump=.modinfo "$work/output.o" | grep -c -- "$str" || true)
	[ "$got" -eq "$n" ] || fail "$str appears $got times in .modinfo, expected $n"
	;;
rela:*)
	IFS=: read -r _ sec type sym addend <<<"$check"
	readelf --wide --relocs "$work/output.o" | awk -v sec="$sec" -v type="$type" -v sym="$sym" -v add="$addend" '
		/^Relocation section/ { cur = $3; gsub(/\047/, "", cur) }
		(sec == "any" || cur == sec) && $3 == type && $5 == sym && $7 == add { found = 1 }
		END { exit !found }' || { readelf --wide --relocs "$work/output.o"; fail "no $type relocation to $sym+$addend in $sec"; }
	;;
*) fail "unknown check $check" ;;
esac
echo "PASS $pair: $got_funcs"
