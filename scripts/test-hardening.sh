#!/usr/bin/env bash
# The hardening step (docs/hardening.md):
#   1. builds the libFuzzer targets (fuzz/, clang, ASan+UBSan) in build-fuzz/
#      and the whole project with ASan+UBSan in build-asan/;
#   2. replays every regression input of fuzz/regressions/;
#   3. runs each fuzzer for a bounded time, seeded from the kernel object
#      corpus, and prints its executions and crashes;
#   4. runs the unit and corpus tests (ctest -LE integration) in build-asan/.
# Exits non-zero on any crash, sanitizer report or test failure.
#
# Environment: KPP_FUZZ_TIME (seconds per target, default 60),
# KPP_CORPUS_DIR (the corpus' x86_64 folder), KPP_ASAN_BUILD_DIR,
# KPP_FUZZ_BUILD_DIR, KPP_SKIP_ASAN_CTEST=1 / KPP_SKIP_FUZZ=1 to run a part.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
corpus=${KPP_CORPUS_DIR:-$top/../shared/corpus/kpatch-unit-objs/x86_64}
fuzz_time=${KPP_FUZZ_TIME:-60}
asan_build=${KPP_ASAN_BUILD_DIR:-$top/build-asan}
fuzz_build=${KPP_FUZZ_BUILD_DIR:-$top/build-fuzz}
jobs=$(nproc)
targets=(fuzz_elf_read fuzz_diff)

[ -f "$corpus/EXPECT.tsv" ] || { echo "hardening: no corpus at $corpus (set KPP_CORPUS_DIR)" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "hardening: FAIL: $*"; failed=1; }

bash "$top/scripts/setup.sh"

# --- 1. builds --------------------------------------------------------------
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
echo "hardening: building the fuzzers in $fuzz_build"
CC=clang CXX=clang++ cmake -S "$top/fuzz" -B "$fuzz_build" >"$work/fuzz-configure.log" ||
	{ cat "$work/fuzz-configure.log"; exit 2; }
cmake --build "$fuzz_build" -j "$jobs" >"$work/fuzz-build.log" 2>&1 ||
	{ tail -50 "$work/fuzz-build.log"; exit 2; }
if [ "${KPP_SKIP_ASAN_CTEST:-0}" != 1 ]; then
	echo "hardening: building the project with ASan+UBSan in $asan_build"
	CC=clang CXX=clang++ cmake -S "$top" -B "$asan_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
		-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
		-DKPP_CORPUS_DIR="$corpus" >"$work/asan-configure.log" ||
		{ cat "$work/asan-configure.log"; exit 2; }
	cmake --build "$asan_build" -j "$jobs" >"$work/asan-build.log" 2>&1 ||
		{ tail -50 "$work/asan-build.log"; exit 2; }
fi

export KPP_FUZZ_CORPUS=$corpus
# Sanitizer reports must not look like an ordinary exit status: a refused
# corpus pair exits 1, so a sanitizer exiting 1 would pass as a refusal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

# --- inputs -------------------------------------------------------------------
# The index of PAIR among EXPECT.tsv's rows: fuzz_diff's selector byte.
pair_index() {
	awk -F'\t' -v p="$1" '/^#/ || $0 == "" { next } { if ($1 == p) { print n + 0; exit } n++ }' \
		"$corpus/EXPECT.tsv"
}

# Rebuilds a regression input from its recipe (fuzz/regressions/README.md).
recipe_input() { # TARGET RECIPE OUT
	local target=$1 recipe=$2 out=$3 base="" side=patched key a b hex
	local body="$out.body"
	while read -r key a b; do
		case $key in
		'' | '#'*) ;;
		base)
			base=$corpus/$a
			[ -f "$base" ] || { echo "hardening: $recipe: no $base" >&2; return 1; }
			cp "$base" "$body"
			chmod u+w "$body"
			;;
		as) side=$a ;;
		poke)
			hex=$(printf '%s' "$b" | sed 's/../\\x&/g')
			printf "$hex" | dd of="$body" bs=1 seek=$((a)) conv=notrunc status=none
			;;
		truncate) truncate -s $((a)) "$body" ;;
		*) echo "hardening: $recipe: unknown line $key" >&2; return 1 ;;
		esac
	done <"$recipe"
	[ -n "$base" ] || { echo "hardening: $recipe names no base" >&2; return 1; }
	if [ "$target" = fuzz_diff ]; then
		# The pair is the base's; the bytes are the edited copy.
		diff_input_named "$base" "$side" "$body" "$out"
	else
		mv "$body" "$out"
	fi
	rm -f "$body"
}

# Writes fuzz_diff's input: the selector byte of NAMEFILE's pair (a corpus file
# name) and SIDE, then the bytes of BODY.
diff_input_named() { # NAMEFILE SIDE BODY OUT
	local name pair idx
	name=$(basename "$1")
	pair=${name%.PATCHED.FAIL.o}
	pair=${pair%.PATCHED.o}
	pair=${pair%.ORIG.o}
	idx=$(pair_index "$pair")
	[ -n "$idx" ] || { echo "hardening: $pair is not in EXPECT.tsv" >&2; return 1; }
	[ "$2" = orig ] && idx=$((idx + 128))
	{ printf "\\$(printf %03o "$idx")"; cat "$3"; } >"$4"
}

# Seeds: every corpus object for the ELF reader; every pair both ways for the diff.
mkdir -p "$work/seeds/fuzz_elf_read" "$work/seeds/fuzz_diff"
cp "$corpus"/*.o "$work/seeds/fuzz_elf_read/"
while IFS=$'\t' read -r pair expect _; do
	case $pair in '#'* | '') continue ;; esac
	patched=$corpus/$pair.PATCHED.o
	[ "$expect" = fail ] && patched=$corpus/$pair.PATCHED.FAIL.o
	diff_input_named "$patched" patched "$patched" "$work/seeds/fuzz_diff/$pair.patched"
	diff_input_named "$corpus/$pair.ORIG.o" orig "$corpus/$pair.ORIG.o" "$work/seeds/fuzz_diff/$pair.orig"
done <"$corpus/EXPECT.tsv"

# --- 2. regressions -----------------------------------------------------------
for target in "${targets[@]}"; do
	dir=$top/fuzz/regressions/$target
	[ -d "$dir" ] || continue
	mkdir -p "$work/regressions/$target"
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		case $name in
		*.md) continue ;;
		*.recipe) recipe_input "$target" "$f" "$work/regressions/$target/${name%.recipe}" ;;
		*) cp "$f" "$work/regressions/$target/$name" ;;
		esac
	done
	for input in "$work/regressions/$target"/*; do
		[ -f "$input" ] || continue
		name=$(basename "$input")
		if "$fuzz_build/$target" -runs=1 -close_fd_mask=2 "$input" >"$work/replay.log" 2>&1; then
			echo "hardening: regression $target/$name: ok"
		else
			grep -E 'kpp-fuzz finding|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
				"$work/replay.log" | head -3
			src=$dir/$name
			[ -f "$src" ] || src=$src.recipe
			fail "regression $target/$name still crashes ($src)"
		fi
	done
done

# --- 3. fuzzing -----------------------------------------------------------------
# One fuzzer per core at once. After a crash a target starts again (its
# corpus kept) until its time is up, so one finding does not end its run.
fuzz_one() { # TARGET
	local target=$1 deadline=$((SECONDS + fuzz_time)) left execs=0 runs=0 n
	local artifacts=$fuzz_build/artifacts/$target
	mkdir -p "$work/corpus/$target" "$artifacts"
	# crash-, leak-, timeout-, oom- files; not slow-unit- ones.
	found() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
	local before
	before=$(found)
	while left=$((deadline - SECONDS)) && [ "$left" -ge 3 ] && [ $runs -lt 20 ]; do
		runs=$((runs + 1))
		"$fuzz_build/$target" -max_total_time="$left" -rss_limit_mb=2048 -timeout=25 \
			-max_len=2097152 -print_final_stats=1 -close_fd_mask=2 \
			-artifact_prefix="$artifacts/" "$work/corpus/$target" "$work/seeds/$target" \
			>"$work/$target.$runs.log" 2>&1 || true
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.$runs.log" | tail -1)
		if [ -z "$n" ]; then # no final stats (killed): the last progress line
			n=$(grep -oE '^#[0-9]+' "$work/$target.$runs.log" | tail -1 | tr -d '#')
		fi
		execs=$((execs + ${n:-0}))
		grep -qE 'Test unit written to .*/(crash|leak|timeout|oom)-' "$work/$target.$runs.log" || break
		grep -E 'kpp-fuzz finding|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|Test unit written' \
			"$work/$target.$runs.log" | sed "s/^/hardening: $target: /" | head -4
	done
	local crashes
	crashes=$(($(found) - before))
	echo "$target $execs $crashes $runs" >"$work/$target.result"
}

if [ "${KPP_SKIP_FUZZ:-0}" != 1 ]; then
	echo "hardening: fuzzing each target for ${fuzz_time}s"
	pids=()
	for target in "${targets[@]}"; do
		fuzz_one "$target" &
		pids+=($!)
		[ "$jobs" -ge 2 ] || wait "${pids[-1]}"
	done
	wait "${pids[@]}"
	for target in "${targets[@]}"; do
		read -r _ execs crashes runs <"$work/$target.result"
		echo "hardening: $target: executions $execs, crashes $crashes"
		if [ "$crashes" -gt 0 ]; then
			fail "$target found $crashes crashing input(s), kept in $fuzz_build/artifacts/$target/"
		fi
	done
fi

# --- 4. sanitizer build: unit and corpus tests ------------------------------------
if [ "${KPP_SKIP_ASAN_CTEST:-0}" != 1 ]; then
	echo "hardening: unit and corpus tests under ASan+UBSan"
	if (cd "$asan_build" && ctest -LE integration -j "$jobs" --output-on-failure >"$work/ctest.log" 2>&1); then
		status=ok
	else
		status=failed
	fi
	grep -E 'tests passed|tests failed' "$work/ctest.log" | sed 's/^/hardening: sanitizer ctest: /'
	reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		"$asan_build/Testing/Temporary/LastTest.log" || true)
	echo "hardening: sanitizer ctest: $status, sanitizer reports: $reports"
	if [ "$status" != ok ] || [ "$reports" -ne 0 ]; then
		grep -B2 -A20 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
			"$asan_build/Testing/Temporary/LastTest.log" | head -60 || true
		grep -E '\*\*\*Failed|Failed  ' "$work/ctest.log" | head -20 || true
		fail "the sanitizer build's tests"
	fi
fi

[ $failed -eq 0 ] && echo "hardening: PASS" || echo "hardening: FAILED"
exit $failed
