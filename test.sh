#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, run every test
# (a short fuzzing pass, then unit, integration and conformance tests).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
scripts/fuzz.sh "${IBS_FUZZ_SECONDS:-15}"
(cd build && ctest --output-on-failure -j2 --timeout 600)
