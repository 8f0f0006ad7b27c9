#!/bin/sh
# Builds the harness and the server, then runs the benchmark and rewrites
# bench/RESULTS.md:  bench/run.sh --quick  (a few minutes)  |  bench/run.sh --full
# BUILD_DIR (default build/) is the CMake build tree to use.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
mode=${1:---quick}
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target ib-stream-bench ib-stream-decode-bench ib-stream-server
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec /usr/bin/python3 "$here/run.py" "$mode" --bin-dir "$build" --out "$here/RESULTS.md"
