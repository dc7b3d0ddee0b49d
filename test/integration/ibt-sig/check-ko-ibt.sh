#!/usr/bin/env bash
# Inspect a patch module built for an IBT kernel (CONFIG_X86_KERNEL_IBT):
# every function the module puts in place of a kernel function (the targets
# of .kpatchpp.funcs) must start with ENDBR64 when the kernel's own copy
# (the first of the KERNEL_FILEs, vmlinux or module .ko files, that has it)
# does (always, without KERNEL_FILEs), and must not be listed in the
# module's .ibt_endbr_seal, which the loader would turn into a NOP
# (apply_ibt_endbr()). Prints one IBT-KO line per function; exit 1 if any
# rule is broken.
#   check-ko-ibt.sh MODULE.ko [KERNEL_FILE...]
set -euo pipefail

ko=$1
shift
kernel_files=("$@")
fail=0

die() { echo "check-ko-ibt: error: $*" >&2; exit 2; }
[ -f "$ko" ] || die "no module $ko"
for k in "${kernel_files[@]}"; do [ -f "$k" ] || die "no kernel file $k"; done
for t in readelf objdump awk; do
	command -v "$t" >/dev/null || die "'$t' not found; install binutils"
done

# The first instruction of FUNC in FILE, empty if FILE lacks it.
first_insn() {
	objdump -d --disassemble="$2" "$1" |
		awk -v n="<$2>:" 'found { print; exit } index($0, n) { found = 1 }'
}

# yes/no: does FUNC start with ENDBR64 in the first FILE that has it?
starts_with_endbr64() {
	local func=$1 file first
	shift
	for file in "$@"; do
		first=$(first_insn "$file" "$func")
		if [ -n "$first" ]; then
			[[ $first == *endbr64* ]] && echo yes || echo no
			return
		fi
	done
	die "$func not found in $*"
}

# Each function symbol's section and offset (decimal): fsec[F], foff[F].
declare -A fsec=() foff=()
while read -r value _ kind section _ name; do
	[ "$kind" = F ] || continue
	fsec[$name]=$section foff[$name]=$((16#$value))
done < <(objdump -t "$ko" | awk '$3 == "F" { print $1, $2, $3, $4, $5, $6 }')

# .kpatchpp.funcs entries are 48 bytes; the first field (new_addr) points
# at the replacement function.
replacements=()
while read -r offset name; do
	(( 16#$offset % 48 == 0 )) && replacements+=("$name")
done < <(readelf -rW "$ko" | awk '
	/^Relocation section/ { in_funcs = ($0 ~ /\.rela\.kpatchpp\.funcs/); next }
	in_funcs && $1 ~ /^[0-9a-f]+$/ { print $1, $5 }')
[ ${#replacements[@]} -gt 0 ] || die "$ko has no .kpatchpp.funcs relocations: not a kpatch++ patch module"

# Where each seal entry points, as "SECTION OFFSET" (objdump prints the
# target as SECTION, SECTION+0xOFF or SYMBOL[+0xOFF]).
seals=()
while read -r _ type target; do
	[[ $type == R_X86_64_* ]] || continue
	add=0
	if [[ $target =~ ^(.*)([+-])0x([0-9a-f]+)$ ]]; then
		target=${BASH_REMATCH[1]}
		add=$((${BASH_REMATCH[2]}16#${BASH_REMATCH[3]}))
	fi
	if [ -n "${fsec[$target]+set}" ]; then
		seals+=("${fsec[$target]} $((foff[$target] + add))")
	else
		seals+=("$target $add")
	fi
done < <(objdump -r -j .ibt_endbr_seal "$ko" 2>/dev/null)
echo "IBT-KO ${#seals[@]} .ibt_endbr_seal entries in $(basename "$ko")"

for f in "${replacements[@]}"; do
	[ -n "${fsec[$f]+set}" ] || die "$f: no function symbol in $ko"
	endbr=$(starts_with_endbr64 "$f" "$ko")
	want=yes
	[ ${#kernel_files[@]} -eq 0 ] || want=$(starts_with_endbr64 "$f" "${kernel_files[@]}")
	sealed=no
	for s in "${seals[@]}"; do
		[ "$s" = "${fsec[$f]} ${foff[$f]}" ] && sealed=yes
	done
	echo "IBT-KO $f: starts with endbr64: $endbr (kernel's copy: $want); sealed: $sealed"
	if [ "$endbr" != "$want" ] || [ "$sealed" != no ]; then fail=1; fi
done
exit "$fail"
