#!/usr/bin/env bash
# The main job: install what is missing, build (release), and serve the HTTP API on the embedded
# store in ./tpwallet-data (created on the first run). The first start prints an admin API key
# and a curl line to try; Ctrl-C stops the server cleanly. Extra arguments go to `tpwallet serve`
# (e.g. scripts/run.sh --listen 0.0.0.0:8080). The ledger demonstration: ./build/tpwallet demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target tpwallet -j"$(nproc)"
data_dir="${TPWALLET_DATA_DIR:-./tpwallet-data}"
if [ ! -f "$data_dir/tpwallet-data" ]; then
  ./build/tpwallet init --data-dir "$data_dir"
fi
exec ./build/tpwallet serve --data-dir "$data_dir" "$@"
