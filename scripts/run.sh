#!/usr/bin/env bash
# The main job: install what is missing, build (release), and run the ledger demonstration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target tpwallet -j"$(nproc)"
exec ./build/tpwallet demo "$@"
