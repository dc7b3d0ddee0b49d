# Sourced by scripts/test-hardening.sh (the deterministic gate) and
# scripts/fuzz.sh (exploratory fuzzing): building the libFuzzer targets, the
# object pairs and seeds, regression inputs, and reading libFuzzer's log.
# docs/hardening.md describes them.
#
# Environment: KPP_CORPUS_DIR (the kernel object corpus' x86_64 folder,
# default ../shared/corpus/kpatch-unit-objs/x86_64; its aarch64 sibling is
# used too when present), KPP_FUZZ_BUILD_DIR (default build-fuzz/).

kpp_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kpp_corpus=${KPP_CORPUS_DIR:-$kpp_top/../shared/corpus/kpatch-unit-objs/x86_64}
kpp_fuzz_build=${KPP_FUZZ_BUILD_DIR:-$kpp_top/build-fuzz}
kpp_targets=(fuzz_elf_read fuzz_diff)

# Sanitizer reports must not look like an ordinary exit status.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

kpp_have_corpus() { [ -f "$kpp_corpus/EXPECT.tsv" ]; }

# Builds the fuzz targets (fuzz/CMakeLists.txt: clang, ASan+UBSan) into
# $kpp_fuzz_build, logging into LOG_DIR; exits 2 with the log's end on failure.
kpp_build_fuzzers() { # LOG_DIR
	CC=clang CXX=clang++ cmake -S "$kpp_top/fuzz" -B "$kpp_fuzz_build" >"$1/fuzz-configure.log" ||
		{ cat "$1/fuzz-configure.log"; exit 2; }
	cmake --build "$kpp_fuzz_build" -j "$(nproc)" >"$1/fuzz-build.log" 2>&1 ||
		{ tail -50 "$1/fuzz-build.log"; exit 2; }
}

# The folders of object pairs, in fuzz_diff's order (kpp_pair_dirs, also
# exported as KPP_FUZZ_PAIRS): the corpus first when it is present, so the
# selector byte of an input found on it keeps naming the same pair, then its
# aarch64 sibling, then the pairs fuzz/make-pairs.sh builds into WORK/pairs.
kpp_make_pairs() { # WORK
	kpp_pair_dirs=()
	if kpp_have_corpus; then
		kpp_corpus=$(cd "$kpp_corpus" && pwd)
		kpp_pair_dirs+=("$kpp_corpus")
		[ -f "$kpp_corpus/../aarch64/EXPECT.tsv" ] && kpp_pair_dirs+=("$(cd "$kpp_corpus/../aarch64" && pwd)")
	fi
	bash "$kpp_top/fuzz/make-pairs.sh" "$1/pairs" || { echo "fuzz: cannot build fuzz/pairs" >&2; exit 2; }
	kpp_own_pairs=$1/pairs
	kpp_pair_dirs+=("$kpp_own_pairs")
	KPP_FUZZ_PAIRS=$(IFS=:; echo "${kpp_pair_dirs[*]}")
	export KPP_FUZZ_PAIRS
}

# Rows of every pair folder in order: INDEX DIR PAIR EXPECT.
kpp_pair_rows() {
	local dir n=0 pair expect
	for dir in "${kpp_pair_dirs[@]}"; do
		while IFS=$'\t' read -r pair expect _; do
			case $pair in '#'* | '') continue ;; esac
			echo "$n $dir $pair $expect"
			n=$((n + 1))
		done <"$dir/EXPECT.tsv"
	done
}

# The file a recipe's base names, or nothing: fuzz/pairs/FILE is an object
# fuzz/make-pairs.sh built, any other FILE one of the corpus' folders.
kpp_pair_file() { # NAME
	local dir
	case $1 in
	fuzz/pairs/*)
		[ -f "$kpp_own_pairs/${1#fuzz/pairs/}" ] && echo "$kpp_own_pairs/${1#fuzz/pairs/}"
		return
		;;
	esac
	for dir in "${kpp_pair_dirs[@]}"; do
		[ "$dir" != "$kpp_own_pairs" ] && [ -f "$dir/$1" ] && { echo "$dir/$1"; return; }
	done
}

# Writes fuzz_diff's input: the selector byte of the pair FILE (a pair
# folder's file) belongs to and SIDE (orig|patched), then the bytes of BODY.
kpp_diff_input() { # FILE SIDE BODY OUT
	local dir name pair idx
	dir=$(dirname "$1")
	name=$(basename "$1")
	pair=${name%.PATCHED.FAIL.o}
	pair=${pair%.PATCHED.o}
	pair=${pair%.ORIG.o}
	idx=$(kpp_pair_rows | awk -v d="$dir" -v p="$pair" '$2 == d && $3 == p { print $1; exit }')
	[ -n "$idx" ] || { echo "fuzz: $pair is not a pair of $dir/EXPECT.tsv" >&2; return 1; }
	[ "$2" = orig ] && idx=$((idx + 128))
	{ printf "\\$(printf %03o "$idx")"; cat "$3"; } >"$4"
}

# Seeds in WORK/seeds/TARGET: every object of the pair folders for the ELF
# reader; every pair, both ways, for the diff.
kpp_make_seeds() { # WORK
	local idx dir pair expect patched tag
	rm -rf "$1/seeds"
	mkdir -p "$1/seeds/fuzz_elf_read" "$1/seeds/fuzz_diff"
	while read -r idx dir pair expect; do
		patched=$dir/$pair.PATCHED.o
		[ "$expect" = fail ] && patched=$dir/$pair.PATCHED.FAIL.o
		tag=$idx-$pair
		cp "$dir/$pair.ORIG.o" "$1/seeds/fuzz_elf_read/$tag.ORIG.o"
		cp "$patched" "$1/seeds/fuzz_elf_read/$tag.PATCHED.o"
		kpp_diff_input "$patched" patched "$patched" "$1/seeds/fuzz_diff/$tag.patched"
		kpp_diff_input "$dir/$pair.ORIG.o" orig "$dir/$pair.ORIG.o" "$1/seeds/fuzz_diff/$tag.orig"
	done < <(kpp_pair_rows)
}

# Rebuilds a regression input from its recipe (fuzz/regressions/README.md).
# Prints the reason and returns 3 when the recipe's base is a corpus file and
# there is no corpus; 1 on a broken recipe.
kpp_recipe_input() { # TARGET RECIPE OUT
	local target=$1 recipe=$2 out=$3 base="" side=patched key a b hex
	local body="$out.body"
	while read -r key a b; do
		case $key in
		'' | '#'*) ;;
		base)
			base=$(kpp_pair_file "$a")
			if [ -z "$base" ]; then
				kpp_have_corpus && { echo "fuzz: $recipe: no pair folder has $a" >&2; return 1; }
				echo "its base $a is a file of the kernel object corpus, which is not at $kpp_corpus"
				return 3
			fi
			cp "$base" "$body"
			chmod u+w "$body"
			;;
		as) side=$a ;;
		poke)
			hex=$(printf '%s' "$b" | sed 's/../\\x&/g')
			printf "$hex" | dd of="$body" bs=1 seek=$((a)) conv=notrunc status=none
			;;
		truncate) truncate -s $((a)) "$body" ;;
		*) echo "fuzz: $recipe: unknown line $key" >&2; return 1 ;;
		esac
	done <"$recipe"
	[ -n "$base" ] || { echo "fuzz: $recipe names no base" >&2; return 1; }
	if [ "$target" = fuzz_diff ]; then
		# The pair is the base's; the bytes are the edited copy.
		kpp_diff_input "$base" "$side" "$body" "$out"
	else
		mv "$body" "$out"
	fi
	rm -f "$body"
}

# Makes every regression input of fuzz/regressions/TARGET/ replayable in
# OUT_DIR. A fuzz_diff input kept as is (not a recipe) selects its pair by
# index, among the corpus' rows first: it is replayed only with the corpus.
# Each input left out is a line "NAME: why" in OUT_DIR.left-out.
kpp_regression_inputs() { # TARGET OUT_DIR
	local target=$1 out=$2 src=$kpp_top/fuzz/regressions/$1 f name why status
	rm -rf "$out"
	mkdir -p "$out"
	: >"$out.left-out"
	[ -d "$src" ] || return 0
	for f in "$src"/*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		case $name in
		*.md) ;;
		*.recipe)
			status=0
			why=$(kpp_recipe_input "$target" "$f" "$out/${name%.recipe}") || status=$?
			case $status in
			0) ;;
			3) echo "$target/$name: $why" >>"$out.left-out" ;;
			*) echo "fuzz: broken regression recipe $f" >&2; return 1 ;;
			esac
			;;
		*)
			if [ "$target" = fuzz_diff ] && ! kpp_have_corpus; then
				echo "$target/$name: its selector byte names a pair of the kernel object corpus, which is not at $kpp_corpus" >>"$out.left-out"
			else
				cp "$f" "$out/$name"
			fi
			;;
		esac
	done
}

# What libFuzzer's log LOG says: "EXECUTIONS CRASHES". Executions are its
# final stat::number_of_executed_units (printed on a crash too), else the
# last progress line; crashes are the crash-/leak-/timeout-/oom- inputs it
# wrote, or 1 if it reported a deadly signal, a sanitizer error or a
# finding of the target without writing one.
kpp_log_summary() { # LOG
	local execs crashes
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
	[ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$1" | tail -1 | tr -d '#')
	crashes=$(grep -cE 'Test unit written to .*(crash|leak|timeout|oom)-' "$1" || true)
	if [ "$crashes" -eq 0 ] && grep -qE "$(kpp_crash_pattern)" "$1"; then
		crashes=1
	fi
	echo "${execs:-0} $crashes"
}

kpp_crash_pattern() {
	echo 'ERROR: libFuzzer: |ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|kpp-fuzz finding|deadly signal|Test unit written to .*(crash|leak|timeout|oom)-'
}

# The lines of LOG that say what crashed and where its input went.
kpp_log_findings() { # LOG
	grep -E "$(kpp_crash_pattern)" "$1" | head -6
}

# The command that runs libFuzzer target TARGET, into the array kpp_cmd:
# with address-space randomisation off when the system lets us, so that
# hash tables keyed by pointers iterate the same way each time and a fixed
# -seed gives the same run.
kpp_fuzzer_cmd() { # TARGET
	kpp_cmd=("$kpp_fuzz_build/$1")
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		kpp_cmd=(setarch "$(uname -m)" -R "${kpp_cmd[@]}")
	fi
}
