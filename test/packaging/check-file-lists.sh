#!/usr/bin/env bash
# The .rpm and the .deb come from the same install rules: they must hold the
# same files (regular files and symlinks, by path), and every directory the
# .rpm owns must be one the .deb has (the .rpm leaves /usr, /usr/lib/systemd,
# ... to the packages that own them).
# Usage: check-file-lists.sh PACKAGE.deb PACKAGE.rpm
set -euo pipefail
deb=${1:?usage: check-file-lists.sh PACKAGE.deb PACKAGE.rpm}
rpm=${2:?usage: check-file-lists.sh PACKAGE.deb PACKAGE.rpm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# dpkg -c: "MODE OWNER SIZE DATE TIME ./PATH[ -> TARGET]"
dpkg -c "$deb" | awk '{ t = substr($1, 1, 1); p = $6; sub(/^\./, "", p); sub(/\/$/, "", p);
	if (p == "") next; print (t == "d" ? "dir" : "file"), p }' | sort >"$tmp/deb"
# rpm: the same two kinds, from each file's mode.
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" |
	awk '{ print (substr($1, 1, 1) == "d" ? "dir" : "file"), $2 }' | sort >"$tmp/rpm"
rpm -qlp "$rpm" | sort >"$tmp/rpm-qlp"
cut -d' ' -f2 "$tmp/rpm" | sort | cmp -s - "$tmp/rpm-qlp" ||
	{ echo "file-lists: error: rpm -qlp and the rpm's file modes disagree" >&2; exit 1; }

grep '^file ' "$tmp/deb" | cut -d' ' -f2 >"$tmp/deb-files"
grep '^file ' "$tmp/rpm" | cut -d' ' -f2 >"$tmp/rpm-files"
grep '^dir ' "$tmp/deb" | cut -d' ' -f2 >"$tmp/deb-dirs"
grep '^dir ' "$tmp/rpm" | cut -d' ' -f2 >"$tmp/rpm-dirs"

status=0
if ! diff -u --label "dpkg -c $(basename "$deb")" --label "rpm -qlp $(basename "$rpm")" \
	"$tmp/deb-files" "$tmp/rpm-files"; then
	echo "file-lists: error: the .deb and the .rpm hold different files (above)" >&2
	status=1
fi
extra=$(comm -13 "$tmp/deb-dirs" "$tmp/rpm-dirs")
if [ -n "$extra" ]; then
	echo "file-lists: error: the .rpm owns directories the .deb does not have: $extra" >&2
	status=1
fi
[ "$(wc -l <"$tmp/deb-files")" -gt 0 ] || { echo "file-lists: error: no files in $deb" >&2; exit 1; }
[ $status -eq 0 ] || exit 1
echo "file-lists: identical: $(wc -l <"$tmp/deb-files") files in both;" \
	"directories: $(wc -l <"$tmp/deb-dirs") in the .deb, $(wc -l <"$tmp/rpm-dirs") owned by the .rpm"
