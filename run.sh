#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, and run
# ib-stream on the built-in TWS simulator. Arguments replace the default
# ib-stream arguments (see README).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
if (($#)); then
  exec build/ib-stream "$@"
fi
exec build/ib-stream --simulate 265598 --type BidAsk
