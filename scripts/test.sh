#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and run every test twice —
# a release build (assertions on) and an ASan+UBSan build — then a brief libFuzzer run of every
# decoder (scripts/fuzz.sh, clang). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs="$(nproc)"
start=$(date +%s)

echo "== release build (RelWithDebInfo) =="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan+UBSan build =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTPW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== libFuzzer, brief (scripts/fuzz.sh; --seconds 600 for a long run) =="
scripts/fuzz.sh

echo "== demo smoke run =="
./build/tpwallet demo >/dev/null && echo "demo: ok"
echo "tpwallet: all tests passed in $(( $(date +%s) - start )) s"
