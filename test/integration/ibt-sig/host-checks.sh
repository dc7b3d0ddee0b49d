#!/usr/bin/env bash
# Host half of the ibt-sig kernel variant (run-patch-test.sh --variant
# ibt-sig; kernel/variant-ibt-sig.fragment: X86_KERNEL_IBT + MODULE_SIG_FORCE).
#  1. The module kpatch-build signed carries a signature.
#  2. Its replacement functions keep their ENDBR64 and are not sealed
#     (check-ko-ibt.sh): QEMU TCG does not emulate CET, so the guest cannot
#     prove this by faulting, and this inspection is the proof.
#  3. The same patch built without --sign-key makes kpatch-build warn that
#     the kernel will refuse it; that module goes to the guest as
#     WORK/variant/unsigned.ko, where variant.sh checks the refusal.
#   host-checks.sh KPATCH_BUILD TREE PATCH_DIR WORK MODULE SIGN_ARGS...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kpatch_build=$1 tree=$2 dir=$3 work=$4 module=$5
shift 5
sign=("$@")

fail() { echo "FAIL ibt-sig: $*" >&2; exit 1; }

# Does the file end with the kernel's module signature marker?
is_signed() { [ "$(tail -c 28 "$1" | tr -d '\0\n')" = "~Module signature appended~" ]; }

[ ${#sign[@]} -gt 0 ] || fail "the variant's config does not enforce signatures, nothing was signed"
ko=$work/$module.ko
is_signed "$ko" || fail "$ko carries no module signature"
echo "ibt-sig: $(basename "$ko") is signed ($(grep -x 'CONFIG_MODULE_SIG_HASH=.*' "$tree/.config"))"

grep -qx 'CONFIG_X86_KERNEL_IBT=y' "$tree/.config" || fail "$tree is not an IBT kernel"
kernel_files=("$tree/vmlinux")
[ -f "$dir/modules" ] && while read -r m; do kernel_files+=("$tree/$m"); done <"$dir/modules"
"$here/check-ko-ibt.sh" "$ko" "${kernel_files[@]}" || fail "IBT rules broken in $ko (see IBT-KO lines)"

mkdir -p "$work/unsigned"
if ! "$kpatch_build" -s "$tree" -n "$module" -o "$work/unsigned" "$dir"/*.patch \
	>"$work/unsigned/out" 2>&1; then
	cat "$work/unsigned/out"
	fail "kpatch-build without --sign-key failed"
fi
grep -F 'warning' "$work/unsigned/out" | grep -F 'CONFIG_MODULE_SIG_FORCE' ||
	{ cat "$work/unsigned/out"; fail "kpatch-build did not warn that the kernel refuses unsigned modules"; }
! is_signed "$work/unsigned/$module.ko" || fail "the module built without --sign-key is signed"
cp "$work/unsigned/$module.ko" "$work/variant/unsigned.ko"
