#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, run every test
# (unit, integration, conformance) and a short fuzzing pass.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 600)
scripts/fuzz.sh "${IBS_FUZZ_SECONDS:-20}"
