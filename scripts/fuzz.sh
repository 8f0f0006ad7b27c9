#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cpp) with clang and runs
# each for the given number of seconds (default 20) over a scratch copy of its
# seed corpus, so the committed corpus in tests/fuzz/corpus/<name>/ is never
# modified. Crash reproducers go to build-fuzz/artifacts/. Exits non-zero when
# a target fails.
#
#   scripts/fuzz.sh [seconds]
#   IBS_FUZZ_CXX=clang++-17 scripts/fuzz.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [seconds]  (a positive whole number, default 20)" >&2
  exit 2
fi
cxx="${IBS_FUZZ_CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; libFuzzer targets need clang" >&2
  exit 2
fi

build="build-fuzz"
cmake -S . -B "$build" -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build" -j"${IBS_JOBS:-2}"

artifacts="$build/artifacts"
mkdir -p "$artifacts"
status=0
shopt -s nullglob
targets=(tests/fuzz/*_fuzz.cpp)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no targets in tests/fuzz/" >&2
  exit 1
fi
for src in "${targets[@]}"; do
  target="$(basename "$src" .cpp)"  # frame_decoder_fuzz
  name="${target%_fuzz}"            # frame_decoder
  seeds="tests/fuzz/corpus/$name"
  scratch="tests/fuzz/corpus-run/$name"  # gitignored
  rm -rf "$scratch"
  mkdir -p "$scratch"
  if [ -d "$seeds" ]; then
    cp -R "$seeds"/. "$scratch"/
  fi
  echo "== $target: ${seconds}s over $(find "$scratch" -type f | wc -l) seed inputs"
  log="$build/$target.log"
  if "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$scratch" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  else
    tail -n 60 "$log" >&2
    echo "fuzz: $target FAILED (reproducers in $artifacts/, full log $log)" >&2
    status=1
  fi
done
exit "$status"
