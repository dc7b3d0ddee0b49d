#!/usr/bin/env bash
# The main job: build kpatch++ and run the diff engine on a real kernel
# object pair (fs/proc/meminfo.c before and after a patch), printing what
# a live patch would replace and the JSON report.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KPP_BUILD_DIR:-$top/build}
corpus=${KPP_CORPUS_DIR:-$top/../shared/corpus/kpatch-unit-objs/x86_64}

bash "$top/scripts/setup.sh"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(($(nproc) + 1))" --target create-diff-object >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pair=cold-add2
echo "== create-diff-object on $pair (fs/proc/meminfo.c, before and after the patch)"
readelf -s --wide "$corpus/$pair.ORIG.o" >"$work/symtab"
env PARA_STRUCT_SIZE=16 EX_STRUCT_SIZE=12 BUG_STRUCT_SIZE=12 ALT_STRUCT_SIZE=13 \
	JUMP_STRUCT_SIZE=24 ORC_STRUCT_SIZE=6 STATIC_CALL_STRUCT_SIZE=8 \
	"$build/create-diff-object/create-diff-object" --report "$work/report.json" \
	"$corpus/$pair.ORIG.o" "$corpus/$pair.PATCHED.o" vmlinux "$work/symtab" /dev/null \
	demo "$work/output.o"
echo "== report"
cat "$work/report.json"
echo "== functions in the output object"
nm "$work/output.o" | grep -i ' t '
echo "== functions the patch module will replace (.kpatchpp.funcs strings)"
readelf --string-dump=.kpatchpp.strings "$work/output.o" | sed -n '3,$p'
