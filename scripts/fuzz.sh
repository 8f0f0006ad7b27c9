#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cpp) with clang and runs
# each, one after another, for the given number of seconds (default 20) over
# a scratch copy of its seed corpus, so the committed corpus in
# tests/fuzz/corpus/<name>/ is never modified. Crash reproducers go to
# build-fuzz/artifacts/. Exits non-zero when a target fails. IBS_FUZZ_BUILD
# names another build directory (a long campaign beside CI-sized runs).
#
#   scripts/fuzz.sh [seconds]                    CI: a short pass over every target
#   scripts/fuzz.sh --record [--runs N] [seconds]
#       a campaign that also writes docs/reliability/fuzz.json (per target:
#       seconds, executions, exec/s, final corpus size, peak RSS, findings);
#       --runs N stops a target after N executions (or at `seconds`, if first)
#   IBS_FUZZ_CXX=clang++-17 scripts/fuzz.sh 60
#   IBS_FUZZ_ONLY="ws_message http_request" scripts/fuzz.sh --record 900
#       only those targets; with --record their rows replace the ones in an
#       existing docs/reliability/fuzz.json, the others are kept
#
# Run a long campaign at low priority: nice -n 19 scripts/fuzz.sh --record 900
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: $0 [--record] [--runs N] [seconds]  (whole numbers; seconds default 20)" >&2
  exit 2
}
record=0
runs=""
seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
  --record) record=1 ;;
  --runs)
    [ $# -ge 2 ] || usage
    runs="$2"
    shift
    ;;
  *) seconds="$1" ;;
  esac
  shift
done
for n in "$seconds" ${runs:+"$runs"}; do
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then usage; fi
done
cxx="${IBS_FUZZ_CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; libFuzzer targets need clang" >&2
  exit 2
fi

build="${IBS_FUZZ_BUILD:-build-fuzz}"
cmake -S . -B "$build" -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$build" -j"${IBS_JOBS:-2}"

artifacts="$build/artifacts"
mkdir -p "$artifacts"
results="$build/results.tsv" # one line per target, for --record
: >"$results"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
status=0
total=0
shopt -s nullglob
targets=()
for src in tests/fuzz/*_fuzz.cpp; do
  name="$(basename "$src" _fuzz.cpp)"
  if [ -z "${IBS_FUZZ_ONLY:-}" ] || [[ " $IBS_FUZZ_ONLY " == *" $name "* ]]; then
    targets+=("$src")
  fi
done
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no targets in tests/fuzz/" >&2
  exit 1
fi
for src in "${targets[@]}"; do
  target="$(basename "$src" .cpp)"  # frame_decoder_fuzz
  name="${target%_fuzz}"            # frame_decoder
  seeds="tests/fuzz/corpus/$name"
  scratch="$build/corpus-run/$name"
  rm -rf "$scratch"
  mkdir -p "$scratch"
  if [ -d "$seeds" ]; then
    cp -R "$seeds"/. "$scratch"/
  fi
  echo "== $target: ${seconds}s${runs:+ or $runs runs} over $(find "$scratch" -type f | wc -l) seed inputs"
  log="$build/$target.log"
  rm -f "$artifacts/$target-"*
  t0=$(date +%s.%N)
  if "$build/$target" -max_total_time="$seconds" ${runs:+-runs="$runs"} -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
      "$scratch" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  else
    tail -n 60 "$log" >&2
    echo "fuzz: $target FAILED (reproducers in $artifacts/, full log $log)" >&2
    status=1
  fi
  t1=$(date +%s.%N)
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)"
  findings="$(cd "$artifacts" && ls "$target-"* 2>/dev/null | tr '\n' ' ' || true)"
  feeds="$(sed -n 's|^// Feeds: *||p' "$src" | head -n 1)"
  total=$((total + ${execs:-0}))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$feeds" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
    "${execs:-0}" "$(find "$scratch" -type f | wc -l)" "${rss:-0}" "${findings% }" >>"$results"
done
echo "fuzz: ${#targets[@]} targets, $total executions in total"

if [ "$record" -eq 1 ]; then
  mkdir -p docs/reliability
  command="scripts/fuzz.sh --record${runs:+ --runs $runs} $seconds"
  cpu="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
  out=docs/reliability/fuzz.json
  /usr/bin/python3 - "$results" "$command" "$started" "$(nproc) cores, $cpu" "$out" \
    "${IBS_FUZZ_ONLY:-}" <<'PY'
import json, os, sys
results, command, started, machine, out, only = sys.argv[1:7]
rows = []
for line in open(results):
    name, feeds, secs, execs, corpus, rss, findings = line.rstrip("\n").split("\t")
    secs, execs = float(secs), int(execs)
    rows.append([name, feeds, round(secs), execs, round(execs / secs) if secs else 0,
                 int(corpus), int(rss), findings or "none"])
extra_notes = []
if only and os.path.exists(out):
    # A partial run: its rows replace those of the recorded run, in place.
    old = json.load(open(out))
    fresh = {r[0]: r for r in rows}
    rows = [fresh.pop(r[0], r) for r in old["rows"]] + list(fresh.values())
    command, started, machine = old["command"], old["date"], old["machine"]
    extra_notes = [n for n in old["notes"] if n.startswith("Rerun: ")]
    extra_notes.append(f"Rerun: {', '.join(only.split())} on {sys.argv[3]} "
                       f"(IBS_FUZZ_ONLY=\"{only}\" {sys.argv[2]}).")
found = [r for r in rows if r[7] != "none"]
summary = (f"{len(rows)} libFuzzer targets (ASan + UBSan), {sum(r[3] for r in rows):,} "
           f"executions in all, at least {min(r[3] for r in rows):,} per target: "
           + (f"findings in {', '.join(r[0] for r in found)}." if found else "no findings."))
doc = {
    "section": "Fuzzing", "order": 1, "command": command, "date": started,
    "machine": machine, "summary": summary,
    "columns": ["target", "what it feeds", "seconds", "executions", "exec/s", "corpus",
                "peak RSS MiB", "findings"],
    "rows": rows,
    "notes": [
        "Each target starts from its committed seed corpus (tests/fuzz/corpus/<target>/); "
        "corpus is the number of inputs it held at the end.",
        "Targets run one after another on one core, at nice 19, beside other work: exec/s "
        "is a floor, not a benchmark.",
        "CI runs every target for a short pass (scripts/fuzz.sh, from ./test.sh); any crash, "
        "sanitizer report or broken invariant fails it.",
    ] + extra_notes,
}
with open(out, "w") as f:
    f.write(json.dumps(doc, indent=2) + "\n")
PY
  echo "fuzz: wrote $out"
fi
exit "$status"
