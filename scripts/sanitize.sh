#!/usr/bin/env bash
# Builds a sanitizer preset (CMakePresets.json) and runs its tests; any
# sanitizer report fails the run.
#
#   scripts/sanitize.sh [--record] asan|tsan|all
#
#   asan  clang, AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer,
#         build-asan/: unit tests, the integration and e2e tests labelled
#         concurrency, bench smoke
#   tsan  clang, ThreadSanitizer, build-tsan/: the unit tests and the
#         integration tests labelled concurrency (only the executables they
#         start are built)
#   all   asan, then tsan
#   --record  also writes docs/reliability/sanitizers.json
#   IBS_CTEST_ARGS="-R test_server_api"  extra ctest arguments (one suite's subset)
#
# Every sanitized process writes its reports to <build>/sanitizer-reports/
# (log_path), the processes that tests start included, so a report from a
# server a test starts and stops fails the run even when the test itself
# passed. The options make the first report abort the process. Of the
# integration and e2e tests, only those labelled concurrency run (the others
# run once, in ./test.sh); tests labelled slow or package (the .deb installed
# with dpkg: the packaged, unsanitized programs) are left out.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: $0 [--record] asan|tsan|all" >&2
  exit 2
}
record=0
what=""
for a in "$@"; do
  case "$a" in
  --record) record=1 ;;
  asan | tsan | all) what="$a" ;;
  *) usage ;;
  esac
done
[ -n "$what" ] || usage
jobs="${IBS_JOBS:-2}"
supp="$PWD/tests/sanitizers"
results="$(mktemp)"
builds="$(mktemp)" # preset, build seconds
trap 'rm -f "$results" "$builds"' EXIT
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
status=0

# run_suite PRESET LABEL: runs the ctest tests labelled LABEL in build-PRESET
# and appends a results line: suite, preset, run, passed, reports, seconds.
run_suite() {
  local preset="$1" label="$2" build="build-$1"
  local reports="$PWD/$build/sanitizer-reports/$label"
  rm -rf "$reports"
  mkdir -p "$reports"
  local common="halt_on_error=1:abort_on_error=1:disable_coredump=1:print_stacktrace=1"
  local log="$build/ctest-$label.log" t0 t1 rc=0 only=""
  # Of the integration and e2e suites, the tests that exercise concurrency
  # (tests/CMakeLists.txt); every unit test.
  case "$label" in integration | e2e) only="-L ^concurrency\$" ;; esac
  echo "== $preset: ctest -L $label"
  t0=$(date +%s.%N)
  (cd "$build" && export IBS_SANITIZER="$preset" &&
    ASAN_OPTIONS="$common:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:log_path=$reports/$preset" \
    LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="$common:log_path=$reports/$preset" \
    TSAN_OPTIONS="$common:second_deadlock_stack=1:suppressions=$supp/tsan.supp:log_path=$reports/$preset" \
    ctest -L "^$label\$" $only -LE "^(slow|package)\$" ${IBS_CTEST_ARGS:-} --output-on-failure -j"$jobs" \
      --timeout 900) >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  tail -n 3 "$log"
  local summary run failed count
  summary="$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -n 1 || true)"
  run="$(grep -oE 'out of [0-9]+' <<<"$summary" | grep -oE '[0-9]+' || echo 0)"
  failed="$(grep -oE '[0-9]+ tests? failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)"
  count="$(find "$reports" -type f | wc -l)"
  if [ "$count" -gt 0 ]; then
    echo "sanitize: $count sanitizer report(s) in $reports:" >&2
    for f in $(find "$reports" -type f | sort | head -n 3); do
      echo "--- $f" >&2
      head -n 12 "$f" | cut -c1-300 >&2
      grep -m 1 '^SUMMARY' "$f" >&2 || true
    done
  fi
  if [ "$rc" -ne 0 ] || [ "$count" -gt 0 ] || { [ "$run" -eq 0 ] && [ -z "${IBS_CTEST_ARGS:-}" ]; }; then
    echo "sanitize: $preset $label FAILED (log $log)" >&2
    # What failed and why, in the run's own output (CI keeps only that).
    grep -E '\*\*\*(Failed|Timeout|Exception)|^(FAIL|ERROR): |Error: |^AssertionError' "$log" |
      head -n 40 | cut -c1-300 >&2 || true
    status=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$preset" "$run" "$((run - failed))" "$count" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')" >>"$results"
}

# build PRESET [TARGET...]: configures and builds the preset; prints the time.
build() {
  local preset="$1" t0
  shift
  t0=$(date +%s)
  cmake --preset "$preset" >/dev/null
  cmake --build "build-$preset" -j"$jobs" ${1:+--target "$@"}
  echo "== $preset: built in $(($(date +%s) - t0)) s"
  printf '%s\t%s\n' "$preset" "$(($(date +%s) - t0))" >>"$builds"
}

if [ "$what" = asan ] || [ "$what" = all ]; then
  build asan
  for label in unit integration e2e bench; do run_suite asan "$label"; done
fi
if [ "$what" = tsan ] || [ "$what" = all ]; then
  # What the integration tests start from IBS_BIN_DIR, and the unit tests.
  build tsan ib-stream-server ib-tws-sim ib-stream ib-studies unit_tests
  for label in unit integration; do run_suite tsan "$label"; done
fi

echo "sanitize: suite preset run passed reports seconds"
column -t "$results" || cat "$results"

if [ "$record" -eq 1 ]; then
  mkdir -p docs/reliability
  cpu="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
  ccache_note="ccache on"
  [ -z "${CCACHE_DISABLE:-}" ] || ccache_note="CCACHE_DISABLE=1: cold"
  /usr/bin/python3 - "$results" "scripts/sanitize.sh --record $what" "$started" \
    "$(nproc) cores, $cpu" "$builds" "$ccache_note" >docs/reliability/sanitizers.json <<'PY'
import json, sys
results, command, started, machine, builds, ccache_note = sys.argv[1:7]
rows = []
for line in open(results):
    suite, preset, run, passed, reports, secs = line.rstrip("\n").split("\t")
    rows.append([suite, preset, int(run), int(passed), int(reports), int(secs)])
import glob
supp = [l for f in glob.glob("tests/sanitizers/*.supp") for l in open(f)
        if l.strip() and not l.startswith("#")]
supp_note = ("Suppressions (tests/sanitizers/*.supp, third-party false positives only): "
             + (f"{len(supp)} entries, each with its reason." if supp else "none needed."))
clean = all(r[2] == r[3] and r[4] == 0 for r in rows)
summary = (f"{sum(r[2] for r in rows)} test runs under ASan+UBSan+LSan and TSan: "
           + ("all passed with no sanitizer report." if clean else "FAILURES, see the rows."))
print(json.dumps({
    "section": "Sanitizers", "order": 0, "command": command, "date": started,
    "machine": machine, "summary": summary,
    "columns": ["suite", "preset", "tests run", "passed", "sanitizer reports", "wall seconds"],
    "rows": rows,
    "notes": [
        "Presets asan and tsan of CMakePresets.json (clang, libstdc++); the servers and "
        "simulators that integration and e2e tests start are the sanitized builds.",
        "Every sanitized process writes its reports to a file (log_path); a report from "
        "any process fails the run even when its test passed. The first report aborts "
        "the process (halt_on_error, abort_on_error).",
        "Tests run counts ctest entries: every unit test, but one entry per Python "
        "(integration) or Node (e2e) file, each of which holds many test cases.",
        supp_note,
        "Wall seconds: the ctest run of that suite (tests -j2), not the build. Builds (-j2, "
        + ccache_note + "): "
        + ", ".join(f"{p} {s} s" for p, s in (l.split() for l in open(builds))) + ".",
    ],
}, indent=2))
PY
  echo "sanitize: wrote docs/reliability/sanitizers.json"
fi
exit "$status"
