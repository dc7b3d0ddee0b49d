#!/usr/bin/env bash
# One integration test: build the patch in patches/NAME with kpatch-build
# against the cached test kernel, boot it in QEMU, and run the check before
# loading, while loaded, and after unloading (guest/patch-test.sh).
# A folder's NAME.c files are guest helper programs, /test/NAME in the guest.
# A test with an `expect-refusal` file instead expects kpatch-build to refuse
# with exactly one output line containing that file's text, and to exit with
# status 1 (a refusal) or the one in `expect-status` (2: an error).
#   run-patch-test.sh KPATCH_BUILD NAME [--variant VARIANT] [--core]
# KPP_KEEP_WORK=1 keeps the work directory (module, console log).
# --variant: use that variant of the test kernel (build-test-kernel.sh
#   --variant). When its config enforces module signatures, the module is
#   signed with the tree's build key. VARIANT/host-checks.sh, if present,
#   runs after the build (KPATCH_BUILD TREE PATCH_DIR WORK MODULE SIGN_ARGS...)
#   and may leave files for the guest in WORK/variant/; VARIANT/variant.sh
#   goes to the guest, where patch-test.sh runs its variant_checks first.
#   A patch folder's expect-refusal-VARIANT expects a refusal on VARIANT only.
# --core: a module for kpatch.ko (docs/core.md), loaded through kpatch.ko in
#   the guest. On a kernel with CONFIG_LIVEPATCH this forces kpatch-build
#   --core; on one without (--variant nolivepatch) kpatch-build must choose
#   kpatch.ko by itself, so the flag is not passed and the choice is checked.
#   A patch folder's expect-refusal-core expects a refusal with --core only.
# A folder with `oot-module` patches an out-of-tree module: the file names its
#   source folder (relative to this directory) and, when the folder builds
#   several, the module to patch ("oot/kpp_export_pair kpp_consumer"). The
#   folder is built against the tree and handed to kpatch-build
#   (--oot-module, --oot-module-src); the guest gets its modules, and
#   check.sh loads them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kpatch_build=$1 name=$2
shift 2
variant='' core=()
while [ $# -gt 0 ]; do
	case "$1" in
	--variant) variant=$2; shift ;;
	--core) core=(--core) ;;
	*) echo "run-patch-test: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
dir=$here/patches/$name
module=$(echo "livepatch-$name" | tr - _)
work=$(mktemp -d -t "kpp-$name.XXXXXX")
trap '[ -n "${KPP_KEEP_WORK:-}" ] && echo "run-patch-test: kept $work" >&2 || rm -rf "$work"' EXIT

tree=$("$here/build-test-kernel.sh" --print-dir ${variant:+--variant "$variant"})
# kpatch-build's own choice on a kernel without the livepatch core.
want_core=${#core[@]}
grep -qx 'CONFIG_LIVEPATCH=y' "$tree/.config" || core=()
sign=()
if grep -qx 'CONFIG_MODULE_SIG_FORCE=y' "$tree/.config"; then
	sign=(--sign-key "$tree/certs/signing_key.pem" --sign-cert "$tree/certs/signing_key.x509")
fi

# oot-module: the patch is for an out-of-tree module, whose source folder
# (relative to this directory) is built against the tree first; kpatch-build
# patches it there (--oot-module-src) and the guest gets the module.
oot=()
if [ -f "$dir/oot-module" ]; then
	read -r oot_src oot_name <"$dir/oot-module"
	cp -r "$here/$oot_src" "$work/oot"
	make -C "$tree" M="$work/oot" modules >"$work/oot-build.log" 2>&1 ||
		{ cat "$work/oot-build.log"; echo "FAIL $name: the out-of-tree module did not build"; exit 1; }
	oot_kos=("$work"/oot/*.ko)
	oot_ko=${oot_kos[0]}
	[ -n "${oot_name:-}" ] && oot_ko=$work/oot/$oot_name.ko
	[ -f "$oot_ko" ] || { echo "FAIL $name: no $oot_ko"; exit 1; }
	oot=(--oot-module "$oot_ko" --oot-module-src "$work/oot")
fi
# expect-refusal-VARIANT: refused on that kernel variant only;
# expect-refusal-core: refused with --core only.
refusal=$dir/expect-refusal
[ -n "$variant" ] && [ -f "$dir/expect-refusal-$variant" ] && refusal=$dir/expect-refusal-$variant
[ "$want_core" -gt 0 ] && [ -f "$dir/expect-refusal-core" ] && refusal=$dir/expect-refusal-core
if [ -f "$refusal" ]; then
	expected=$(cat "$refusal")
	want_status=1
	[ -f "$dir/expect-status" ] && want_status=$(cat "$dir/expect-status")
	status=0
	# A refused build keeps its work directory: keep it in $work, removed on exit.
	TMPDIR=$work "$kpatch_build" "${core[@]+"${core[@]}"}" -s "$tree" "${oot[@]+"${oot[@]}"}" \
		-n "$module" -o "$work" "$dir"/*.patch >"$work/out" 2>&1 || status=$?
	cat "$work/out"
	[ "$status" = "$want_status" ] ||
		{ echo "FAIL $name: kpatch-build exited $status, expected $want_status"; exit 1; }
	# The reason is one line of the output, and said once.
	lines=$(grep -cF -- "$expected" "$work/out" || true)
	[ "$lines" = 1 ] || { echo "FAIL $name: $lines line(s) say '$expected', expected 1"; exit 1; }
	echo "PASS $name: refused (exit $status): $(grep -F -- "$expected" "$work/out")"
	exit 0
fi

"$kpatch_build" "${core[@]+"${core[@]}"}" -s "$tree" "${oot[@]+"${oot[@]}"}" -n "$module" \
	-o "$work" "${sign[@]+"${sign[@]}"}" "$dir"/*.patch
echo "$module" >"$work/patch-name"
extra=()
# A module for kpatch.ko comes with the kpatch.ko it was linked against.
if [ "$want_core" -gt 0 ]; then
	[ -f "$work/kpatch.ko" ] ||
		{ echo "FAIL $name: kpatch-build made no module for kpatch.ko (no $work/kpatch.ko)"; exit 1; }
	extra+=("$work/kpatch.ko")
elif [ -f "$work/kpatch.ko" ]; then
	echo "FAIL $name: kpatch-build made a module for kpatch.ko on a livepatch kernel"; exit 1
fi
# A module for the guest; signed like the patch when the kernel enforces
# signatures (the tree's modules are signed only at modules_install).
add_module() {
	local ko=$1
	if [ ${#sign[@]} -gt 0 ]; then
		mkdir -p "$work/modules"
		cp "$ko" "$work/modules/"
		ko=$work/modules/$(basename "$1")
		"$tree/scripts/sign-file" "$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$tree/.config")" \
			"${sign[1]}" "${sign[3]}" "$ko"
	fi
	extra+=("$ko")
}
[ -f "$dir/modules" ] && while read -r m; do add_module "$tree/$m"; done <"$dir/modules"
[ ${#oot[@]} -gt 0 ] && for ko in "${oot_kos[@]}"; do add_module "$ko"; done
# A folder's NAME.c is a guest helper program: built for the host (the
# guest is the same architecture) and put in the initramfs as /test/NAME.
for src in "$dir"/*.c; do
	[ -e "$src" ] || continue
	prog=$work/$(basename "$src" .c)
	gcc -O2 -Wall -Wextra -Werror -o "$prog" "$src"
	extra+=("$prog")
done
if [ -n "$variant" ]; then
	mkdir -p "$work/variant"
	if [ -x "$here/$variant/host-checks.sh" ]; then
		"$here/$variant/host-checks.sh" "$kpatch_build" "$tree" "$dir" "$work" "$module" "${sign[@]}"
	fi
	[ -f "$here/$variant/variant.sh" ] && extra+=("$here/$variant/variant.sh")
	for f in "$work"/variant/*; do [ -e "$f" ] && extra+=("$f"); done
fi
"$here/make-initramfs.sh" "$work/initramfs.cpio.gz" "$here/guest/patch-test.sh" \
	"$work/$module.ko" "$dir/check.sh" "$work/patch-name" "${extra[@]}"
"$here/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
	--initrd "$work/initramfs.cpio.gz" --log "$work/console.log" --timeout 240
