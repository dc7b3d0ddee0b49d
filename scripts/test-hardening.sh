#!/usr/bin/env bash
# The hardening step of the test command (docs/hardening.md), deterministic:
# the same commit gives the same answer and the same execution counts.
#   1. builds the libFuzzer targets (fuzz/, clang, ASan+UBSan) in build-fuzz/
#      and the whole project with ASan+UBSan in build-asan/;
#   2. builds the object pairs of fuzz/pairs/ (fuzz/make-pairs.sh) and the
#      seeds: those pairs, and the kernel object corpus when it is present;
#   3. replays every regression input of fuzz/regressions/ (those that need
#      the corpus only when it is present; it says which it left out);
#   4. runs each target for a fixed number of executions from a fixed seed,
#      one at a time, each from a fresh corpus folder, and prints its
#      executions and crashes;
#   5. runs the unit and corpus tests (ctest -LE integration) in build-asan/.
# Exits non-zero on any crash, sanitizer report, zero-execution run or test
# failure. Exploratory fuzzing with a time budget is scripts/fuzz.sh.
#
# Environment: KPP_FUZZ_RUNS_ELF_READ / KPP_FUZZ_RUNS_DIFF (executions per
# target), KPP_FUZZ_SEED (libFuzzer's -seed, default 1), KPP_CORPUS_DIR,
# KPP_ASAN_BUILD_DIR, KPP_FUZZ_BUILD_DIR, KPP_SKIP_ASAN_CTEST=1 /
# KPP_SKIP_FUZZ=1 to run a part.
set -euo pipefail
source "$(dirname "$0")/fuzz-lib.sh"
top=$kpp_top
asan_build=${KPP_ASAN_BUILD_DIR:-$top/build-asan}
seed=${KPP_FUZZ_SEED:-1}
declare -A runs=(
	[fuzz_elf_read]=${KPP_FUZZ_RUNS_ELF_READ:-10000}
	[fuzz_diff]=${KPP_FUZZ_RUNS_DIFF:-6000}
)
jobs=$(nproc)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "hardening: FAIL: $*"; failed=1; }

bash "$top/scripts/setup.sh"

# --- 1. builds --------------------------------------------------------------
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
echo "hardening: building the fuzzers in $kpp_fuzz_build"
kpp_build_fuzzers "$work"
if [ "${KPP_SKIP_ASAN_CTEST:-0}" != 1 ]; then
	echo "hardening: building the project with ASan+UBSan in $asan_build"
	corpus_option=()
	kpp_have_corpus && corpus_option=(-DKPP_CORPUS_DIR="$kpp_corpus")
	CC=clang CXX=clang++ cmake -S "$top" -B "$asan_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
		-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
		"${corpus_option[@]}" >"$work/asan-configure.log" ||
		{ cat "$work/asan-configure.log"; exit 2; }
	cmake --build "$asan_build" -j "$jobs" >"$work/asan-build.log" 2>&1 ||
		{ tail -50 "$work/asan-build.log"; exit 2; }
fi

# --- 2. pairs and seeds -----------------------------------------------------------
kpp_make_pairs "$work"
kpp_make_seeds "$work"
if kpp_have_corpus; then
	echo "hardening: object pairs: the kernel object corpus ($kpp_corpus) and fuzz/pairs"
else
	echo "hardening: object pairs: fuzz/pairs only (no kernel object corpus at $kpp_corpus)"
fi

# --- 3. regressions -----------------------------------------------------------
for target in "${kpp_targets[@]}"; do
	kpp_regression_inputs "$target" "$work/regressions/$target"
	while read -r line; do
		echo "hardening: regression $line: left out"
	done <"$work/regressions/$target.left-out"
	for input in "$work/regressions/$target"/*; do
		[ -f "$input" ] || continue
		name=$(basename "$input")
		status=0
		kpp_fuzzer_cmd "$target"
		"${kpp_cmd[@]}" -runs=1 -close_fd_mask=2 "$input" >"$work/replay.log" 2>&1 || status=$?
		if [ $status -eq 0 ] && ! grep -qE "$(kpp_crash_pattern)" "$work/replay.log"; then
			echo "hardening: regression $target/$name: ok"
		else
			kpp_log_findings "$work/replay.log" | sed "s|^|hardening: $target/$name: |"
			fail "regression $target/$name still crashes (exit $status; fuzz/regressions/$target/)"
		fi
	done
done

# --- 4. fuzzing: fixed executions from a fixed seed ------------------------------
# One target at a time, single process, a fresh corpus folder, no time limit
# deciding anything. Nothing of libFuzzer's that acts on the clock either:
# no -timeout (its once-a-second alarm alone made two runs of one seed drift
# apart), no allocator purge (-purge_allocator_interval, which frees memory
# back once a second when RSS is high) and no corpus re-read (-reload, once
# a second); each moves later allocations, and so the order of hash tables
# keyed by pointers. A hang is caught instead by `timeout` around the whole
# run (an hour), which only fails the step.
if [ "${KPP_SKIP_FUZZ:-0}" != 1 ]; then
	for target in "${kpp_targets[@]}"; do
		n=${runs[$target]}
		echo "hardening: $target: $n executions from -seed=$seed"
		mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
		start=$SECONDS
		kpp_fuzzer_cmd "$target"
		timeout --signal=INT 3600 "${kpp_cmd[@]}" -seed="$seed" -runs="$n" -rss_limit_mb=2048 -timeout=0 -purge_allocator_interval=-1 -reload=0 \
			-max_len=2097152 -print_final_stats=1 -close_fd_mask=2 \
			-artifact_prefix="$work/artifacts/$target/" \
			"$work/corpus/$target" "$work/seeds/$target" >"$work/$target.log" 2>&1 || true
		read -r execs crashes < <(kpp_log_summary "$work/$target.log")
		# libFuzzer's last line (coverage, features, corpus) shows the run was
		# the same one as last time, not just as long.
		done_line=$(grep -oE 'DONE .*' "$work/$target.log" | sed 's/ exec\/s:.*//' | tail -1 || true)
		echo "hardening: $target: executions $execs, crashes $crashes ($((SECONDS - start)) s; ${done_line:-no DONE line})"
		if [ "$crashes" -gt 0 ]; then
			kpp_log_findings "$work/$target.log" | sed "s|^|hardening: $target: |"
			mkdir -p "$kpp_fuzz_build/artifacts/$target"
			cp "$work/artifacts/$target"/* "$kpp_fuzz_build/artifacts/$target/" 2>/dev/null || true
			fail "$target crashed; the input is kept in $kpp_fuzz_build/artifacts/$target/ (docs/hardening.md: turning a finding into a regression input)"
		elif [ "$execs" -eq 0 ]; then
			tail -20 "$work/$target.log"
			fail "$target ran no executions"
		elif [ "$execs" -lt "$n" ]; then
			tail -20 "$work/$target.log"
			fail "$target stopped after $execs of its $n executions (a hang, stopped after an hour?)"
		fi
	done
fi

# --- 5. sanitizer build: unit and corpus tests ------------------------------------
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
