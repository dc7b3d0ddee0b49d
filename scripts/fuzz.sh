#!/usr/bin/env bash
# Exploratory fuzzing (docs/hardening.md), apart from the test command's
# deterministic gate: runs each target for a time or a number of executions,
# one target and one process at a time, under nice, with a corpus that grows
# from run to run in build-fuzz/corpus/TARGET/. Every crash is kept in
# build-fuzz/findings/TARGET/ and the run goes on from the corpus; for each
# one the script prints how to replay it and make it a regression input.
#
#   scripts/fuzz.sh [--time SECONDS | --runs N] [--seeds all|pairs] [TARGET...]
#   scripts/fuzz.sh --recipe TARGET FINDING
#
# --time / --runs: the budget per target (default --time 600).
# --seeds pairs: start only from the objects of fuzz/pairs (small, so many
#   more executions a second); all (default): the kernel object corpus too
#   when it is present. Each seed set has its own corpus folder
#   (build-fuzz/corpus/TARGET or TARGET.pairs).
# --recipe: writes to stdout the regression recipe that rebuilds a fuzz_diff
#   FINDING from its pair's object (fuzz/regressions/README.md), when the
#   finding is that object with bytes changed or cut off; give the --seeds
#   of the run that found it (its selector counts that run's pairs).
# TARGET: fuzz_elf_read, fuzz_diff (default both).
# Environment: as scripts/fuzz-lib.sh; KPP_FUZZ_NICE (default 10).
set -euo pipefail
source "$(dirname "$0")/fuzz-lib.sh"

usage() { sed -n '2,22p' "$0"; exit 2; }

budget=(-max_total_time=600)
seeds=all
targets=()
recipe=()
while [ $# -gt 0 ]; do
	case $1 in
	--time) budget=(-max_total_time="$2"); shift 2 ;;
	--runs) budget=(-runs="$2"); shift 2 ;;
	--seeds) seeds=$2; shift 2 ;;
	--recipe) recipe=("$2" "$3"); shift 3 ;;
	fuzz_elf_read | fuzz_diff) targets+=("$1"); shift ;;
	*) usage ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${kpp_targets[@]}")
case $seeds in all | pairs) ;; *) usage ;; esac

inputs=$kpp_fuzz_build/inputs
# --recipe builds its own copy of the pairs: a run may be using these.
if [ ${#recipe[@]} -gt 0 ]; then
	inputs=$(mktemp -d)
	trap 'rm -rf "$inputs"' EXIT
fi
mkdir -p "$inputs"
[ "$seeds" = pairs ] && kpp_corpus=/nonexistent
kpp_make_pairs "$inputs"

# The recipe of a fuzz_diff finding: its selector names the pair and side
# whose object it was mutated from; the bytes that differ become pokes.
write_recipe() { # TARGET FINDING
	local target=$1 finding=$2 sel idx side base body
	[ "$target" = fuzz_diff ] || { echo "fuzz: --recipe: only fuzz_diff findings have a known base; reduce a fuzz_elf_read finding by hand (docs/hardening.md)" >&2; exit 2; }
	sel=$(od -An -tu1 -N1 "$finding" | tr -d ' ')
	side=patched
	[ "$sel" -ge 128 ] && side=orig
	local count
	count=$(kpp_pair_rows | wc -l)
	idx=$(((sel & 127) % count))
	read -r _ dir pair expect < <(kpp_pair_rows | awk -v i="$idx" '$1 == i')
	base=$dir/$pair.ORIG.o
	if [ $side = patched ]; then
		base=$dir/$pair.PATCHED.o
		[ "$expect" = fail ] && base=$dir/$pair.PATCHED.FAIL.o
	fi
	body=$(mktemp)
	tail -c +2 "$finding" >"$body"
	if [ "$(stat -c %s "$body")" -gt "$(stat -c %s "$base")" ]; then
		echo "fuzz: --recipe: the finding is longer than $base: keep it as a plain file instead (docs/hardening.md)" >&2
		rm -f "$body"
		exit 2
	fi
	echo "# $(basename "$finding"), found by scripts/fuzz.sh: what it does and the fix go here"
	if [ "$dir" = "$kpp_own_pairs" ]; then
		echo "base fuzz/pairs/$(basename "$base")"
	else
		echo "base $(basename "$base")"
	fi
	echo "as $side"
	# cmp -l: 1-based offset, octal bytes; one poke per run of changed bytes.
	cmp -l "$base" "$body" 2>/dev/null | awk '
		function flush() { if (hex != "") printf "poke %d %s\n", start, hex; hex = "" }
		function octal(s,   v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
		{ off = $1 - 1; b = sprintf("%02x", octal($3))
		  if (hex != "" && off == last + 1) hex = hex b; else { flush(); start = off; hex = b }
		  last = off }
		END { flush() }' || true
	[ "$(stat -c %s "$body")" -lt "$(stat -c %s "$base")" ] && echo "truncate $(stat -c %s "$body")"
	rm -f "$body"
}

if [ ${#recipe[@]} -gt 0 ]; then
	write_recipe "${recipe[@]}"
	exit 0
fi

kpp_build_fuzzers "$inputs"
kpp_make_seeds "$inputs"
nice_level=${KPP_FUZZ_NICE:-10}
# Not recording the stack of every allocation saves a sixth of the time of
# an execution; a finding's replay (as the gate does) shows the stacks.
export ASAN_OPTIONS=$ASAN_OPTIONS:malloc_context_size=0

# How to keep one finding: printed under it.
advise() { # TARGET FILE
	echo "    replay:     KPP_FUZZ_PAIRS=$KPP_FUZZ_PAIRS $kpp_fuzz_build/$1 $2"
	if [ "$1" = fuzz_diff ]; then
		echo "    regression: scripts/fuzz.sh --seeds $seeds --recipe fuzz_diff $2 > fuzz/regressions/fuzz_diff/NAME.recipe"
	else
		echo "    regression: reduce it to the bytes that differ from its seed (a .recipe, see fuzz/regressions/README.md),"
		echo "                or copy it to fuzz/regressions/fuzz_elf_read/NAME if it holds no corpus bytes"
	fi
}

# Ctrl-C (or SIGINT to the script) ends the run: libFuzzer stops with its
# stats, and the totals so far are printed.
stopped=0
trap 'stopped=1' INT

for target in "${targets[@]}"; do
	[ $stopped -eq 0 ] || break
	corpus=$kpp_fuzz_build/corpus/$target
	[ "$seeds" = pairs ] && corpus=$corpus.pairs
	findings=$kpp_fuzz_build/findings/$target
	mkdir -p "$corpus" "$findings"
	# A new corpus starts as the seeds, minimized: the smallest inputs that
	# cover what all of them cover.
	if [ -z "$(ls -A "$corpus")" ]; then
		nice -n "$nice_level" "$kpp_fuzz_build/$target" -merge=1 -close_fd_mask=2 \
			-max_len=2097152 "$corpus" "$inputs/seeds/$target" >"$inputs/$target.merge.log" 2>&1 ||
			{ tail -20 "$inputs/$target.merge.log"; exit 2; }
	fi
	echo "fuzz: $target: $(ls "$corpus" | wc -l) inputs in $corpus, budget ${budget[*]}"
	total=0 crashes=0 start=$SECONDS left_runs= deadline=
	case ${budget[0]} in
	-runs=*) left_runs=${budget[0]#-runs=} ;;
	*) deadline=$((SECONDS + ${budget[0]#-max_total_time=})) ;;
	esac
	round=0
	while :; do
		if [ -n "$deadline" ]; then
			left=$((deadline - SECONDS))
			[ "$left" -ge 5 ] || break
			limit=(-max_total_time="$left")
		else
			[ "$left_runs" -gt 0 ] || break
			limit=(-runs="$left_runs")
		fi
		round=$((round + 1))
		log=$inputs/$target.$round.log
		nice -n "$nice_level" "$kpp_fuzz_build/$target" "${limit[@]}" -rss_limit_mb=2048 -timeout=60 \
			-max_len=2097152 -print_final_stats=1 -close_fd_mask=2 \
			-artifact_prefix="$findings/" "$corpus" >"$log" 2>&1 || true
		read -r execs crashed < <(kpp_log_summary "$log")
		total=$((total + execs))
		[ -n "$left_runs" ] && left_runs=$((left_runs - execs))
		[ $stopped -eq 0 ] || break
		if [ "$crashed" -eq 0 ]; then
			[ "$execs" -gt 0 ] || { tail -20 "$log"; echo "fuzz: $target ran no executions"; exit 1; }
			continue
		fi
		crashes=$((crashes + crashed))
		echo "fuzz: $target: finding after $total executions:"
		kpp_log_findings "$log" | sed 's/^/    /'
		file=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		[ -n "$file" ] && advise "$target" "$file"
		# An input of the corpus itself that crashes would end every round.
		if [ -n "$file" ] && [ "$file" = "${last_file:-}" ]; then
			echo "fuzz: $target: the same input crashed twice in a row; fix it before fuzzing on"
			exit 1
		fi
		last_file=$file
	done
	secs=$((SECONDS - start))
	echo "fuzz: $target: executions $total, crashes $crashes, $secs s ($((total / (secs > 0 ? secs : 1))) a second), corpus $(ls "$corpus" | wc -l) inputs"
done
