#!/usr/bin/env bash
# The man pages and the bash completion cover every option the programs
# accept: each long option of `kpatch-build --help` and of `kpatch VERB
# --help` must appear in the man page, and completing `--` (after the verb,
# for kpatch) must offer exactly the options --help lists. Run through the
# real completion functions under bash-completion.
# Usage: check-help-coverage.sh KPATCH_BUILD KPATCH SOURCE_TOP
set -euo pipefail
kpatch_build=${1:?usage: check-help-coverage.sh KPATCH_BUILD KPATCH SOURCE_TOP}
kpatch=${2:?usage}
top=${3:?usage}
fail=0
bad() { echo "FAIL $*"; fail=1; }

# Long options from a Boost.Program_options --help text: lines that start
# with "  --opt" or "  -x [ --opt ]".
help_options() { grep -oE '^ +(-[A-Za-z] \[ )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u; }

# complete_words WORDS...: what $completion offers for the last word.
complete_words() {
	bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		fn=$(complete -p "$1" | sed -E "s/.*-F ([^ ]+).*/\1/")
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@" | sort -u
}

# man_has PAGE OPTION: the option, with its hyphens escaped as roff wants.
man_has() { grep -qF -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$1"; }

check_tool() { # check_tool NAME MAN COMPLETION HELP-TEXT COMPLETION-WORDS...
	local name=$1 man=$2 help=$4 opt
	completion=$3
	shift 4
	local want got before=$fail
	want=$(printf '%s\n' "$help" | help_options)
	[ -n "$want" ] || bad "$name: no options found in --help"
	for opt in $want; do
		case $opt in --help) continue ;; esac
		man_has "$man" "$opt" || bad "$name: $opt is not in $(basename "$man")"
	done
	got=$(complete_words "$@" --)
	if [ "$got" != "$want" ]; then
		bad "$name: completing '$* --' offers"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    /' || true
	elif [ "$fail" = "$before" ]; then
		echo "PASS $name: $(echo "$want" | wc -l) options in --help, man page and completion"
	fi
}

check_tool kpatch-build "$top/kpatch-build/kpatch-build.1" "$top/kpatch-build/kpatch-build.bash-completion" \
	"$("$kpatch_build" --help)" kpatch-build

verbs=$("$kpatch" --help | awk '/^Verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$verbs" ] || bad "kpatch: no verbs in kpatch --help"
for verb in $verbs; do
	grep -qE "^\.BR? $verb( |$)" "$top/tools/kpatch.1" || bad "kpatch: verb $verb is not in kpatch.1"
	[ "$verb" != version ] || continue
	check_tool "kpatch $verb" "$top/tools/kpatch.1" "$top/tools/kpatch.bash-completion" \
		"$("$kpatch" "$verb" --help)" kpatch "$verb"
done
completion=$top/tools/kpatch.bash-completion
got=$(complete_words kpatch "" | grep -v -- '^--' | tr '\n' ' ')
[ "$got" = "$(echo $verbs | tr ' ' '\n' | sort | tr '\n' ' ')" ] || bad "kpatch: completing the verb offers '$got', not '$verbs'"
[ $fail -eq 0 ] || exit 1
echo "PASS kpatch verbs: $(echo $verbs)"
