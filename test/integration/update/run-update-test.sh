#!/usr/bin/env bash
# integration.update: kpatch-build --update-to on the smallest real update
# the archive has (adjacent_update: the installed linux-source-6.1 version
# and the next lower one, for the cloud release built from the lower one).
# The report's counts must add up to its changed files (text and JSON
# agreeing), and the cumulative module must load into that release's own
# kernel under QEMU: every livepatch function the report names is replaced
# (no more, no fewer), every object it patches is patched once its stock
# module is loaded, then the patch is disabled and unloaded.
#
# Usage: run-update-test.sh KPATCH_BUILD [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integration=$(dirname "$here")

KPP_PROG=run-update-test
# shellcheck source=../host-lib.sh
. "$integration/host-lib.sh"
# shellcheck source=../stock/stock-lib.sh
. "$integration/stock/stock-lib.sh"

[ $# -ge 1 ] || die "usage: run-update-test.sh KPATCH_BUILD [--workdir DIR]"
kpatch_build=$1
shift
parse_workdir_args "$@"

read -r rel from to <<<"$(adjacent_update)"
module=livepatch_update
echo "$KPP_PROG: $rel (built from $from), update to $to"
start=$SECONDS
"$kpatch_build" -a "$rel" --update-to "$to" -n "$module" -o "$workdir" 2>&1 | tee "$workdir/build.log"
echo "$KPP_PROG: kpatch-build --update-to took $((SECONDS - start)) s"
grep -q "review it" "$workdir/build.log" || die "kpatch-build did not say that the module is to be reviewed"

# The report: counts add up, the text agrees, and the lists for the guest.
python3 - "$workdir/$module.update.json" "$workdir/$module.update.txt" "$workdir" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
out = sys.argv[3]
files = report["files"]
counts = report["counts"]
assert sum(counts.values()) == report["changed_files"] == len(files) > 0, counts
for outcome, n in counts.items():
    assert n == sum(f["outcome"] == outcome for f in files), outcome
assert counts["patched"] > 0, "nothing patched"
assert text.startswith(report["summary"] + "\n"), "the text report does not start with the summary"
assert report["notice"] in text
refused = sum(report["refused_by_reason"].values())
assert refused == counts["refused"], (refused, counts)
functions, parents = [], set()
for obj in report["objects"]:
    if obj["outcome"] != "patched":
        continue
    parents.add(obj["parent"])
    functions += ["%s/%s" % (obj["parent"], f["name"]) for f in obj["functions"] if not f["part_of"]]
assert functions, "no livepatch function in the patched objects"
open(out + "/functions", "w").write("".join(f + "\n" for f in sorted(functions)))
open(out + "/parents", "w").write("".join(p + "\n" for p in sorted(parents)))
print("report: %d changed files, counts %s" % (len(files), counts))
PY
echo "$KPP_PROG: the report's counts add up to its changed files"

# The stock modules of the patched objects, with their dependencies.
root=$(stock_root "$rel")
modules=()
: >"$workdir/dependencies"
while read -r parent; do
	[ "$parent" = vmlinux ] && continue
	path=$(cd "$root/lib/modules/$rel/kernel" && find . -name "$parent.ko" -o -name "${parent//_/-}.ko" | head -1)
	[ -n "$path" ] || die "no stock module $parent.ko in $root/lib/modules/$rel"
	mapfile -t list < <(stock_module_with_dependencies "$rel" "${path#./}")
	modules+=("${list[@]}")
	for f in "${list[@]}"; do basename "$f" >>"$workdir/dependencies"; done
done <"$workdir/parents"
echo "$module" >"$workdir/patch-name"
"$integration/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest.sh" \
	"$workdir/dependencies" "$workdir/functions" "$workdir/parents" "$workdir/patch-name" \
	"$workdir/$module.ko" "${modules[@]}"
"$integration/run-guest.sh" --kernel "$(stock_kernel_image "$rel")" \
	--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 300
echo "$KPP_PROG: PASS ($rel, $from -> $to)"
