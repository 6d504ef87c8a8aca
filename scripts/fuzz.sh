#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang 14, ASan+UBSan) in build-fuzz (or the --build
# directory) and runs each for a while, two at a time. Exits non-zero if any target crashes, leaks, times out or breaks one of
# its round-trip checks, and prints the saved input and the command that replays it.
#
#   scripts/fuzz.sh                    # brief: 10 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh --seconds 600      # long: 10 minutes per target
#   scripts/fuzz.sh --seconds 60 token batch   # only these targets
#   scripts/fuzz.sh --build build-asan # reuse a clang TPW_SANITIZE build (what scripts/test.sh does)
#
# Corpora: seeds are regenerated from the real encoders into build-fuzz/fuzz-seeds/<target>/;
# what the fuzzer finds accumulates in build-fuzz/corpus/<target>/ (kept between runs); inputs
# in fuzz/corpus/<target>/ (checked in: regressions) are always replayed. Crashes are saved in
# build-fuzz/artifacts/ (with --build DIR: under DIR instead). See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
parallel=2
build=build-fuzz
reuse=0
targets=()
while (($#)); do
  case "$1" in
    --build) build="$2"; reuse=1; shift 2 ;;
    --build=*) build="${1#*=}"; reuse=1; shift ;;
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --parallel) parallel="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds needs a positive integer" >&2; exit 2; }
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --parallel needs a positive integer" >&2; exit 2; }

command -v clang++-14 >/dev/null || scripts/deps.sh  # clang-14 + libclang-rt-14-dev (libFuzzer)
start=$(date +%s)
if ((reuse)); then
  # An existing build configured with CC=clang-14 CXX=clang++-14 -DTPW_SANITIZE=ON: its objects
  # carry the same instrumentation as a TPW_FUZZ build and it has the fuzz targets.
  [ -f "$build/fuzz/targets.txt" ] || { echo "fuzz.sh: $build has no fuzz targets (configure it" \
    "with CC=clang-14 CXX=clang++-14 -DTPW_SANITIZE=ON, or drop --build)" >&2; exit 2; }
else
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTPW_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target fuzz_all
built=$(date +%s)

if ((${#targets[@]} == 0)); then mapfile -t targets < "$build/fuzz/targets.txt"; fi
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/${t}_fuzz" ] || { echo "fuzz.sh: no target '$t' (see $build/fuzz/targets.txt)" >&2; exit 2; }
done

rm -rf "$build/fuzz-seeds" "$build/fuzz-logs"
"$build/fuzz/fuzz_seed_corpus" "$build/fuzz-seeds"
mkdir -p "$build/artifacts" "$build/corpus" "$build/fuzz-logs"

# One target: new inputs go to the first corpus directory; the others are only read.
run_target() {
  local t="$1" dirs=()
  mkdir -p "$build/corpus/$t"
  dirs=("$build/corpus/$t" "$build/fuzz-seeds/$t")
  [ -d "fuzz/corpus/$t" ] && dirs+=("fuzz/corpus/$t")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dirs[@]}" \
      >"$build/fuzz-logs/$t.log" 2>&1
}

echo "== fuzzing ${#targets[@]} targets, ${seconds} s each, $parallel at a time =="
# Each target runs in a background subshell that leaves its exit status in <target>.rc.
declare -A pid_of=()
failed=()
report() {
  local t="$1"
  if [ "$(cat "$build/fuzz-logs/$t.rc" 2>/dev/null)" = 0 ]; then
    printf '  %-16s ok  %10s runs\n' "$t" "$(grep -m1 -o 'number_of_executed_units: *[0-9]*' \
      "$build/fuzz-logs/$t.log" | grep -o '[0-9]*$')"
  else
    printf '  %-16s FAILED\n' "$t"
    failed+=("$t")
  fi
}
reap_finished() {
  local t
  for t in "${!pid_of[@]}"; do
    if [ -e "$build/fuzz-logs/$t.rc" ]; then
      wait "${pid_of[$t]}" 2>/dev/null || true
      unset "pid_of[$t]"
      report "$t"
    fi
  done
}
for t in "${targets[@]}"; do
  while ((${#pid_of[@]} >= parallel)); do
    sleep 0.2
    reap_finished
  done
  ( set +e; run_target "$t"; echo $? >"$build/fuzz-logs/$t.rc" ) &
  pid_of[$t]=$!
done
while ((${#pid_of[@]} > 0)); do
  sleep 0.2
  reap_finished
done

end=$(date +%s)
echo "fuzz: build $((built - start)) s, runs $((end - built)) s"
if ((${#failed[@]})); then
  for t in "${failed[@]}"; do
    echo
    echo "== $t failed; log: $build/fuzz-logs/$t.log =="
    tail -n 40 "$build/fuzz-logs/$t.log"
    grep -o "Test unit written to [^ ]*" "$build/fuzz-logs/$t.log" | sed 's/Test unit written to //' |
      while read -r artifact; do
        echo "reproducer: $artifact"
        echo "replay with: $build/fuzz/${t}_fuzz $artifact"
      done
  done
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean"
