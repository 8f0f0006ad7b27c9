#!/usr/bin/env bash
# One command from a fresh clone: install dependencies, build, and start
# ib-stream-server on 127.0.0.1:8000 with the built-in TWS simulator.
# Arguments replace the default `--simulate` and go to ib-stream-server as
# they are, e.g. `./run.sh --ports 7497` for a real TWS (see README).
# Builds only ib-stream-server (not the tests, fuzzers and benchmarks of
# ./test.sh).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh --server-only
if (($#)); then
  exec build/ib-stream-server "$@"
fi
echo "ib-stream-server on http://127.0.0.1:8000 with the simulator; try:" >&2
echo "  curl -N 'http://127.0.0.1:8000/stream/265598?tick_type=BidAsk&limit=5'" >&2
exec build/ib-stream-server --simulate
