#!/usr/bin/env bash
# Configures and builds in build/: everything (libraries, executables, tests,
# benchmarks), or with --server-only only ib-stream-server and what it links
# (what ./run.sh runs).
#
#   scripts/build.sh [--server-only]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
case "${1:-}" in
"") ;;
--server-only) targets=(--target ib-stream-server) ;;
*)
  echo "usage: $0 [--server-only]" >&2
  exit 2
  ;;
esac
build_type="${IBS_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j"${IBS_JOBS:-2}" "${targets[@]}"
