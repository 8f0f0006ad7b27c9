#!/usr/bin/env bash
# Configures and builds everything (libraries, executables, tests) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build_type="${IBS_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j"${IBS_JOBS:-2}"
