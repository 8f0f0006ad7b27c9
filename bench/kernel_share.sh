#!/bin/bash
# Where the server's CPU time goes at one fan-out step: user vs kernel
# cores (from /proc/PID/stat) and its socket writes per second (perf stat),
# measured over 3 s in the middle of an 8 s step of the harness.
#
#   bench/kernel_share.sh TRANSPORT CLIENTS TICKS_PER_S [SERVER]
#   bench/kernel_share.sh sse 1000 3500        # 3.5 M deliveries/s
#
# Needs perf (linux-perf) with access to the syscalls tracepoints (root).
set -eu
[ $# -ge 3 ] || { sed -n 2,8p "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
t=$1 n=$2 r=$3 srv=${4:-$root/build/ib-stream-server}
bench=$root/build/bench/ib-stream-bench
[ -x "$bench" ] && [ -x "$srv" ] || { echo "build first: $bench, $srv" >&2; exit 2; }
ulimit -n 20000
out=$(mktemp) perfout=$(mktemp)
trap 'rm -f "$out" "$perfout"' EXIT
"$bench" --scenario fanout --transport "$t" --clients "$n" --rates "$r" --duration 8 \
  --warmup 0.5 --all-rates --server "$srv" > "$out" 2>/dev/null &
job=$!
pid=
for _ in $(seq 1 100); do
  pid=$(pgrep -f "^$srv --ports" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "the server did not start" >&2; exit 1; }
sleep 4
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
perf stat -x, -e syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_writev \
  -p "$pid" -- sleep 3 2> "$perfout"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
wait "$job"
hz=$(getconf CLK_TCK)
awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" 'BEGIN {
  printf "server: user %.2f cores, kernel %.2f cores (%.0f%% kernel)\n", u/hz/3, s/hz/3, 100*s/(u+s) }'
awk -F, '$3 ~ /syscalls/ {printf "  %s: %.0f per s\n", $3, $1/3}' "$perfout"
/usr/bin/python3 -c "
import json, sys
for line in open(sys.argv[1]):
    if line.startswith('{'):
        d = json.loads(line)
        print('  step: delivered/s', d['delivered_per_s'], 'p99 us', d['p99_us'], 'sustained', d['sustained'])
" "$out"
