#!/usr/bin/env bash
# lintian on the .deb: fails on any error (warnings are printed, not fatal).
# Usage: check-lintian.sh PACKAGE.deb
set -euo pipefail
deb=${1:?usage: check-lintian.sh PACKAGE.deb}
# lintian warns that it runs as root; that line is not about the package.
out=$(lintian --fail-on error --display-info "$deb" 2>&1) && rc=0 || rc=$?
out=$(printf '%s\n' "$out" | grep -v '^running with root privileges is not recommended!$' || true)
[ -z "$out" ] || printf '%s\n' "$out"
errors=$(printf '%s\n' "$out" | grep -c '^E: ' || true)
warnings=$(printf '%s\n' "$out" | grep -c '^W: ' || true)
infos=$(printf '%s\n' "$out" | grep -c '^I: ' || true)
echo "lintian: $errors error(s), $warnings warning(s), $infos info(s) for $(basename "$deb")"
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ]; then
	echo "lintian: error: $(basename "$deb") has lintian errors (exit $rc); fix them in packaging/" >&2
	exit 1
fi
