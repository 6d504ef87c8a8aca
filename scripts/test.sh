#!/usr/bin/env bash
# The whole test suite: install what is missing, build the release program (g++, -O2, assertions
# on) and run the demo on it, then build and run every test in an ASan+UBSan build (clang), then
# fuzz every decoder briefly with libFuzzer (scripts/fuzz.sh). Exits non-zero on any failure.
#
# The ASan+UBSan build is a clang TPW_SANITIZE build: its objects also carry libFuzzer's coverage
# instrumentation and it builds the fuzz targets, so the fuzzing stage needs no third build.
# Timings per stage: docs/benchmarks.md, "Test-suite duration (CI)".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs="$(nproc)"
start=$(date +%s)
# Each stage header shows the wall time so far and the CPU time (user+sys) the stages before it
# used (this shell's cutime + cstime: all finished child processes), so a log shows where the
# time went.
cpu_so_far() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($16 + $17) / hz }' /proc/$$/stat; }
stage() { echo "== $1 (at $(( $(date +%s) - start )) s wall, $(cpu_so_far) s CPU) =="; }

# The release build is the program people run (scripts/run.sh builds the same): g++ compiles every
# library and the CLI with -Werror, and the demo runs on it. The tests run once, in the stricter
# ASan+UBSan build below; building them twice cost ~8 of CI's minutes (docs/benchmarks.md,
# "Test-suite duration").
stage "release build of the tpwallet program (RelWithDebInfo: -O2 -g1, g++)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" --target tpwallet

stage "demo smoke run (release build)"
./build/tpwallet demo >/dev/null && echo "demo: ok"

stage "ASan+UBSan build (clang-14, -O1; also the fuzz targets)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DTPW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
stage "ASan+UBSan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# 6 s per target (29 targets, two at a time: ~90 s of the ~18-minute run); the seed
# corpus runs in full first, so every recorded case is still checked. Long runs: --seconds 600.
stage "libFuzzer, brief (scripts/fuzz.sh --build build-asan --seconds 6; --seconds 600 for a long run)"
scripts/fuzz.sh --build build-asan --seconds 6

echo "tpwallet: all tests passed in $(( $(date +%s) - start )) s wall, $(cpu_so_far) s CPU"
