#!/usr/bin/env bash
# The test command: installs what is missing, builds everything with
# warnings as errors, runs the hardening step (fuzzers, sanitizers), then the
# whole suite (unit tests, the kernel object corpus, and the QEMU
# integration tests) through ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KPP_BUILD_DIR:-$top/build}

bash "$top/scripts/setup.sh"
cmake -S "$top" -B "$build" -DKPP_WERROR=ON >/dev/null
cmake --build "$build" -j "$(($(nproc) + 1))"
# The regression inputs, the fuzzers from fixed seeds for fixed run counts
# (the same commit gives the same answer) and the ASan+UBSan build over the
# unit and corpus tests: docs/hardening.md.
bash "$top/scripts/test-hardening.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
