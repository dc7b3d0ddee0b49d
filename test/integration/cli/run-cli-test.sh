#!/usr/bin/env bash
# integration.cli: the kpatch CLI on the test kernel in QEMU.
# Builds the meminfo-string patch with kpatch-build, boots the test kernel
# with the real kpatch binary (and its libraries) in the initramfs, runs
# guest-cli.sh (install, info, load, list, unload, refusals), then parses
# the `list --json` / `info --json` output the guest printed. stall.patch
# (kernel_wait4) makes a transition stall on the guest's shells.
#
# Usage: run-cli-test.sh --kpatch-build FILE --kpatch FILE [--workdir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
integ=$(dirname "$here")
kpatch_build='' kpatch='' workdir=''
module=livepatch_cli_meminfo

die() { echo "run-cli-test: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kpatch-build) kpatch_build=$2; shift ;;
	--kpatch) kpatch=$2; shift ;;
	--workdir) workdir=$2; shift ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
[ -x "$kpatch_build" ] || die "--kpatch-build FILE required"
[ -x "$kpatch" ] || die "--kpatch FILE required"
[ -n "$workdir" ] || workdir=$(mktemp -d -t kpp-cli.XXXXXX)
rm -rf "$workdir"
mkdir -p "$workdir"

tree=$("$integ/build-test-kernel.sh" --print-dir)
release=$(cat "$tree/include/config/kernel.release")
[ -f "$tree/fs/binfmt_misc.ko" ] || die "$tree/fs/binfmt_misc.ko missing (CONFIG_BINFMT_MISC=m?)"

"$kpatch_build" -s "$tree" -n "$module" -o "$workdir" "$integ/patches/meminfo-string/fix.patch"
echo "$module" >"$workdir/patch-name"
"$kpatch_build" -s "$tree" -n livepatch_cli_stall -o "$workdir" "$here/stall.patch"

# The host side of the same binary: info of the module just built.
"$kpatch" info --json "$workdir/$module.ko" >"$workdir/info-host.json"

"$integ/make-initramfs.sh" "$workdir/initramfs.cpio.gz" "$here/guest-cli.sh" \
	"$kpatch" "$workdir/$module.ko" "$tree/fs/binfmt_misc.ko" "$workdir/patch-name" "$workdir/livepatch_cli_stall.ko" \
	"$(dirname "$integ")/../tools/kpatch.service.in"
"$integ/run-guest.sh" --kernel "$tree/arch/x86/boot/bzImage" \
	--initrd "$workdir/initramfs.cpio.gz" --log "$workdir/console.log" --timeout 300

python3 - "$workdir/console.log" "$workdir/info-host.json" "$module" "$release" <<'PY'
import json, sys

log, host_info, module, release = sys.argv[1:]
docs, cur, tag = {}, None, None
for raw in open(log, errors="replace"):
    line = raw.rstrip("\r\n")
    if line.startswith("KPP-JSON-BEGIN "):
        tag, cur = line.split(" ", 1)[1], []
    elif line.startswith("KPP-JSON-END ") and cur is not None:
        docs[tag] = json.loads("\n".join(cur))  # raises on anything but JSON
        cur = None
    elif cur is not None and line.startswith("KPP-JSON"):
        cur.append(line[len("KPP-JSON "):])

failed = 0
def check(name, ok, detail):
    global failed
    print(f"HOST-CHECK {name} {'PASS' if ok else 'FAIL'} {detail}")
    failed += not ok

for t in ("list", "info", "list-after"):
    check(f"json-{t}-present", t in docs, f"guest printed {sorted(docs)}")
lst = docs.get("list", {})
loaded = {p["name"]: p for p in lst.get("loaded", [])}
p = loaded.get(module, {})
check("list-json-loaded", bool(p), f"loaded: {sorted(loaded)}")
check("list-json-state", p.get("enabled") is True and p.get("transition") is False,
      f"enabled={p.get('enabled')} transition={p.get('transition')}")
funcs = [(o["name"], f["name"]) for o in p.get("objects", []) for f in o["functions"]]
check("list-json-functions", ("vmlinux", "meminfo_proc_show") in funcs, f"{funcs}")
check("list-json-release", lst.get("kernel_release") == release, f"{lst.get('kernel_release')} vs {release}")
inst = [i for i in lst.get("installed", []) if i["name"] == module]
check("list-json-installed", len(inst) == 1 and inst[0]["release"] == release and inst[0]["running_kernel"],
      f"{inst}")

info = docs.get("info", {})
check("info-json-module", info.get("name") == module and info.get("livepatch") is True
      and info.get("release") == release, f"{info.get('name')} {info.get('release')}")
ifuncs = [(f["objname"], f["name"]) for f in info.get("functions", [])]
check("info-json-functions", ifuncs == [("vmlinux", "meminfo_proc_show")], f"{ifuncs}")
check("info-json-loaded", (info.get("loaded") or {}).get("enabled") is True, f"{info.get('loaded')}")

after = docs.get("list-after", {})
check("list-after-json-empty", after.get("loaded") == [], f"{after.get('loaded')}")

host = json.load(open(host_info))
check("host-info-matches-guest", host.get("functions") == info.get("functions"),
      f"{host.get('functions')}")
sys.exit(1 if failed else 0)
PY
echo "PASS integration.cli ($workdir)"
