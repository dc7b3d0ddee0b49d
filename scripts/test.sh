#!/usr/bin/env bash
# The test command: installs what is missing, builds everything with
# warnings as errors, and runs the whole suite (unit tests, the kernel object
# corpus, and the QEMU integration tests) through ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KPP_BUILD_DIR:-$top/build}

bash "$top/scripts/setup.sh"
cmake -S "$top" -B "$build" -DKPP_WERROR=ON >/dev/null
cmake --build "$build" -j "$(($(nproc) + 1))"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
