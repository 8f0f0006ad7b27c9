#!/usr/bin/env python3
"""Runs the benchmark scenarios and writes bench/RESULTS.md.

    bench/run.py --quick            a few minutes, one repeat per scenario
    bench/run.py --full             the full ladders, three repeats
    bench/run.py --smoke --out F    a seconds-long run (the test suite's bench.smoke)
    bench/run.py --check F          only check that F is a well-formed results file

    --server PATH     measure another ib-stream-server binary with the same harness
    --server-source REV   the revision that binary was built from (recorded)
    --only KEYS       run only some scenarios (comma separated: fanout-sse, fanout-ws,
                      breadth, idle, decode, ceiling, allocs, record, history, scaleout); the file
                      then holds only their sections and the targets they feed
    --update          keep the other sections of --out: replace (or add) only the
                      sections of the scenarios run and their rows of the Targets table;
                      the header gets an `- updated:` line saying what was rerun
    --wait-load L     before each scenario, wait (up to 20 min) until the 1-minute
                      load average is below L (the machine is shared)

Every number in the output comes from ib-stream-bench / ib-stream-decode-bench
runs made here; nothing is typed by hand.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys

import record_report
import scaleout_report

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Delivered ticks/s (all clients together) tried in order; a rung's feed rate
# per upstream is delivered / clients (each client follows one upstream).
LADDER_FULL = [10e3, 20e3, 50e3, 100e3, 200e3, 500e3, 1e6, 1.5e6, 2e6, 2.5e6, 3e6, 3.5e6, 4e6,
               4.5e6, 5e6, 6e6, 8e6]
LADDER_QUICK = [20e3, 100e3, 300e3, 1e6, 2e6, 5e6]

# allocs: (clients, delivered ticks/s tried) of the allocation count; the
# target is read at the largest rate.
# record: (SSE clients, their upstream's ticks/s, tracked contracts, total
# tracked ticks/s per step); 0 is recording off (the tracked streams silent),
# first and last. history: (ticks recorded then read, ticks/s while recording
# them, limit of each page). scaleout: (feed ticks/s of the latency runs, SSE
# clients per edge of the ladders, deliveries/s per edge tried in order).
RECORD_LADDER = [0, 50e3, 100e3, 150e3, 200e3, 250e3, 300e3, 0]
SCALEOUT_QUICK = ([1000, 10000], 100, [100e3, 500e3, 1e6, 2e6, 3e6, 4e6])
SCALEOUT_FULL = ([1000, 10000], 100, [100e3, 500e3, 1e6, 1.5e6, 2e6, 2.5e6, 3e6, 3.5e6, 4e6])
PLANS = {
    "smoke": dict(repeats=1, duration=0.3, warmup=0.1, fanout_n=[10], breadth=(3, 2),
                  idle_n=20, ladder=[2e3], decode_min_time=0.01, allocs=(10, [2e3]),
                  record=(10, 100, 2, [0, 2000, 0]), history=(3000, 50e3, 1000),
                  scaleout=([500], 5, [2e3])),
    "quick": dict(repeats=1, duration=1.0, warmup=0.3, fanout_n=[100, 1000, 5000],
                  breadth=(50, 20), idle_n=10000, ladder=LADDER_QUICK, decode_min_time=0.2,
                  allocs=(1000, [100e3, 1e6]), record=(1000, 1000, 20, RECORD_LADDER),
                  history=(1000000, 100e3, 100000), scaleout=SCALEOUT_QUICK),
    "full": dict(repeats=3, duration=3.0, warmup=0.5, fanout_n=[100, 1000, 5000],
                 breadth=(50, 20), idle_n=10000, ladder=LADDER_FULL, decode_min_time=1.0,
                 allocs=(1000, [100e3, 1e6]), record=(1000, 1000, 20, RECORD_LADDER),
                 history=(1000000, 100e3, 100000), scaleout=SCALEOUT_FULL),
}

SCENARIO_TITLES = [
    "Scenario 1: fan-out, SSE",
    "Scenario 2: fan-out, WebSocket",
    "Scenario 3: breadth",
    "Scenario 4: idle capacity",
    "Scenario 5: decode and encode",
    "Scenario 6: the ceiling (raw loopback writes, no server)",
    "Scenario 7: heap allocations in the fan-out steady state",
    "Scenario 8: recording while clients stream",
    "Scenario 9: a recorded day read back from /history",
    "Scenario 10: scale-out on NATS JetStream",
]

# --only keys, each naming one section (SCENARIO_TITLES, same order).
SCENARIO_KEYS = ["fanout-sse", "fanout-ws", "breadth", "idle", "decode", "ceiling", "allocs",
                 "record", "history", "scaleout"]

ALLOCS_TARGET = 0.01  # heap allocations per delivered tick


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return dict(cores=os.cpu_count(), model=model, kernel=platform.release(), commit=commit)


def rel(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT) else path


class Runner:
    def __init__(self, bin_dir, plan, log_dir, server=None):
        self.bench = os.path.join(bin_dir, "bench", "ib-stream-bench")
        self.decode = os.path.join(bin_dir, "bench", "ib-stream-decode-bench")
        # A server given with --server is part of every command shown: the
        # commands must reproduce the numbers.
        self.shown_server = ["--server", server] if server else []
        self.server = server or os.path.join(bin_dir, "ib-stream-server")
        self.plan = plan
        self.log_dir = log_dir
        self.failures = []

    def harness(self, args):
        """One ib-stream-bench process; returns (command, list of JSON results)."""
        cmd = [self.bench, "--server", self.server,
               "--server-log", os.path.join(self.log_dir, "server.log")] + args
        shown = " ".join(shlex.quote(rel(c)) for c in [self.bench] + self.shown_server + args)
        log("  $ " + shown)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        if p.returncode != 0 or not rows:
            self.failures.append(f"{shown}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
            log("    failed: " + p.stderr.strip()[-400:])
        for r in rows:
            log("    " + summary(r))
        return shown, rows

    def ladder(self, scenario, transport, clients, upstreams):
        rates = [max(1, round(d / clients)) for d in self.plan["ladder"]]
        args = ["--scenario", scenario, "--transport", transport, "--clients", str(clients),
                "--upstreams", str(upstreams), "--rates", ",".join(str(r) for r in rates),
                "--duration", str(self.plan["duration"]), "--warmup", str(self.plan["warmup"])]
        if self.plan is PLANS["smoke"]:
            args.append("--all-rates")
        repeats = []
        for _ in range(self.plan["repeats"]):
            shown, rows = self.harness(args)
            repeats.append(rows)
        return shown, repeats

    def allocs(self, transport, counted):
        """Scenario 7: every rate of the plan's allocs entry in one run (all
        of them, sustained or not: the count is what is measured)."""
        clients, delivered = self.plan["allocs"]
        rates = [max(1, round(d / clients)) for d in delivered]
        args = ["--scenario", "fanout", "--transport", transport, "--clients", str(clients),
                "--upstreams", "1", "--rates", ",".join(str(r) for r in rates),
                "--duration", str(self.plan["duration"]), "--warmup", str(self.plan["warmup"]),
                "--all-rates"] + (["--count-allocs"] if counted else [])
        repeats = []
        shown = ""
        for _ in range(self.plan["repeats"]):
            shown, rows = self.harness(args)
            repeats.append(rows)
        return shown, repeats


def summary(r):
    kind = r.get("scenario")
    if kind == "scaleout":
        return (f"scaleout edges={r['edges']} N={r['clients']}+{r['pub_clients']} "
                f"rate={r['rate']:.0f} delivered={r['delivered_per_s']:.0f}/s "
                f"edge p50={r['p50_us']:.0f}us p99={r['p99_us']:.0f}us | publisher's "
                f"p50={r['pub_p50_us']:.0f}us p99={r['pub_p99_us']:.0f}us | drops={r['drops']}"
                f"+{r['pub_drops']} cpu pub={r['publisher_cpu']:.2f} nats={r['nats_cpu']:.2f} "
                f"edges={r['edge_cpu']:.2f} sustained={r['sustained']}")
    if kind == "record_total":
        return (f"record total: fed {r['fed']}, recorded {r['ticks_recorded']}, gaps {r['gaps']}, "
                f"recorder {r['recorder_status']}")
    if kind == "history_fill":
        return (f"history fill: {r['recorded']} ticks at {r['recorded_per_s']:.0f}/s, "
                f"{r['bytes_per_tick']:.1f} bytes/tick")
    if kind == "history":
        return (f"history {r['format']}: {r['ticks']} ticks in {r['seconds']:.2f}s = "
                f"{r['ticks_per_s']:.0f}/s, RSS {r['rss_before_kib']}->{r['rss_peak_kib']}->"
                f"{r['rss_after_kib']} KiB {r['error']}")
    if kind == "record":
        return (f"record track={r['track_rate']:.0f} fed={r['track_fed_per_s']:.0f} "
                f"recorded={r['recorded_per_s']:.0f}/s lag={r['recorder_lag_s_max']:.2f}s "
                f"gaps={r['gaps_opened']} rec_sustained={r['recorder_sustained']} | "
                f"N={r['clients']} p50={r['p50_us']:.0f}us p99={r['p99_us']:.0f}us "
                f"drops={r['drops']}")
    if kind == "idle":
        return (f"idle {r['transport']} {r['streaming']}/{r['clients']} in {r['accept_s']:.2f}s, "
                f"{r['rss_per_client_kib']:.1f} KiB/client")
    allocs = ""
    if r.get("allocs") is not None:
        per = r.get("allocs_per_delivered")
        allocs = f" allocs={r['allocs']} ({'-' if per is None else f'{per:.4g}'}/delivered)"
    return (f"{r['scenario']} {r['transport']} N={r['clients']} rate={r['rate']:.0f} "
            f"delivered={r['delivered_per_s']:.0f}/s p50={r['p50_us']:.0f}us "
            f"p99={r['p99_us']:.0f}us drops={r['drops']} sustained={r['sustained']} "
            f"clean={r['clean']}{allocs}")


def best_clean(rows):
    clean = [r for r in rows if r["clean"]]
    return max(clean, key=lambda r: r["delivered_per_s"]) if clean else None


def best_sustained(rows):
    ok = [r for r in rows if r["sustained"]]
    return max(ok, key=lambda r: r["delivered_per_s"]) if ok else None


def spread(values, fmt="{:.0f}"):
    """median (min-max) of repeated runs; a single run is shown alone."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return (fmt.format(statistics.median(values)) + " (" + fmt.format(min(values)) + "-" +
            fmt.format(max(values)) + ")")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return out


def fanout_section(title, runs, ceiling_best=None):
    """runs: [(label, command, repeats)], repeats: list of step lists."""
    lines = [f"## {title}", ""]
    header = ["clients", "upstreams", "best clean delivered ticks/s", "p50 us", "p99 us",
              "p99.9 us", "server CPU (cores)", "server peak RSS MiB", "harness CPU (cores)",
              "load generator CPU (cores)", "max sustained ticks/s", "p99 us there"]
    if ceiling_best is not None:
        header.append("fraction of ceiling")
    rows = []
    for label, _, repeats in runs:
        bests = [best_clean(steps) for steps in repeats]
        got = [b for b in bests if b]
        first = repeats[0][0] if repeats and repeats[0] else {}
        row = [first.get("clients", label[0]), first.get("upstreams", label[1]),
               spread([b["delivered_per_s"] for b in got]),
               spread([b["p50_us"] for b in got]), spread([b["p99_us"] for b in got]),
               spread([b["p999_us"] for b in got]),
               spread([b["server_cpu"] for b in got], "{:.2f}"),
               spread([b["server_hwm_kib"] / 1024 for b in got], "{:.1f}"),
               spread([b["harness_cpu"] for b in got], "{:.2f}"),
               spread([b["loadgen_cpu"] for b in got], "{:.2f}")]
        sus = [b for b in (best_sustained(steps) for steps in repeats) if b]
        row += [spread([b["delivered_per_s"] for b in sus]), spread([b["p99_us"] for b in sus])]
        if ceiling_best is not None:
            c = ceiling_best.get(row[0])
            mine = statistics.median([b["delivered_per_s"] for b in sus]) if sus else None
            row.append(f"{mine / c:.2f}" if (c and mine) else "-")
        rows.append(row)
    lines += table(header, rows)
    lines += ["", "Clean: no drops, every client served, the feed kept its rate, p99 <= 10 ms. "
              "Sustained: the same without the p99 bound (p99 <= 100 ms). The fraction of the "
              "ceiling compares max sustained ticks/s at the same N.", "",
              "Every step (all repeats; a ladder stops at the first step that is not sustained):",
              ""]
    step_rows = []
    for label, _, repeats in runs:
        for i, steps in enumerate(repeats, 1):
            for r in steps:
                step_rows.append([r["clients"], r["upstreams"], i, f"{r['rate']:.0f}",
                                  f"{r['feed_rate']:.0f}", f"{r['delivered_per_s']:.0f}",
                                  f"{r['p50_us']:.0f}", f"{r['p99_us']:.0f}",
                                  f"{r['p999_us']:.0f}", f"{r['max_us']:.0f}", r["drops"],
                                  r["gaps"], f"{r['server_cpu']:.2f}", f"{r['harness_cpu']:.2f}",
                                  f"{r['mib_per_s']:.1f}", "yes" if r["sustained"] else "no",
                                  "yes" if r["clean"] else "no"])
    lines += table(["clients", "upstreams", "repeat", "feed rate/upstream", "feed achieved/s",
                    "delivered/s", "p50 us", "p99 us", "p99.9 us", "max us", "drops", "gaps",
                    "server CPU", "harness CPU", "client MiB/s", "sustained", "clean"],
                   step_rows)
    lines += ["", "Commands:", ""] + [f"    {cmd}" for _, cmd, _ in runs] + [""]
    return lines


def idle_section(runs):
    lines = [f"## {SCENARIO_TITLES[3]}", ""]
    rows = []
    for cmd, results in runs:
        got = [r for r in results if r]
        if not got:
            continue
        r0 = got[0]
        rows.append([r0["transport"], r0["clients"],
                     spread([r["streaming"] for r in got]),
                     spread([r["accept_s"] for r in got], "{:.2f}"),
                     spread([r["rss_per_client_kib"] for r in got], "{:.1f}"),
                     spread([r["server_rss_after_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["server_hwm_kib"] / 1024 for r in got], "{:.1f}")])
    lines += table(["transport", "clients", "connected", "time to accept all (s)",
                    "server RSS per client (KiB)", "server RSS (MiB)", "server peak RSS (MiB)"],
                   rows)
    lines += ["", "Commands:", ""] + [f"    {cmd}" for cmd, _ in runs] + [""]
    return lines


def run_decode(runner):
    cmd = [runner.decode, f"--benchmark_min_time={runner.plan['decode_min_time']}",
           f"--benchmark_repetitions={runner.plan['repeats']}", "--benchmark_format=json"]
    shown = " ".join(shlex.quote(rel(c)) for c in cmd)
    log("  $ " + shown)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    per = {}
    try:
        for b in json.loads(p.stdout)["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration":
                continue
            per.setdefault(b["run_name"] if "run_name" in b else b["name"], []).append(
                b["items_per_second"])
    except (ValueError, KeyError) as e:
        runner.failures.append(f"{shown}: {e}: {p.stderr[-400:]}")
    for name, v in per.items():
        log(f"    {name}: {statistics.median(v) / 1e6:.2f} M/s")
    return shown, per


def decode_section(shown, per):
    lines = [f"## {SCENARIO_TITLES[4]}", ""]
    rows = [[name, spread([x / 1e6 for x in v], "{:.2f}")] for name, v in per.items()]
    lines += table(["benchmark (one core)", "million items/s"], rows)
    lines += ["", "Decode items are TICK_BY_TICK frames split from a byte stream and decoded "
              "(FrameReader + decode_message); encode items are ticks.", "", "Command:", "",
              f"    {shown}", ""]
    return lines


def median_best(repeats, pick=best_clean):
    got = [b for b in (pick(s) for s in repeats) if b]
    return statistics.median([b["delivered_per_s"] for b in got]) if got else None


def median_at(repeats, delivered, key):
    """Median of `key` at the step closest to `delivered` ticks/s (any cleanliness)."""
    vals = []
    for steps in repeats:
        near = [r for r in steps if abs(r["rate"] * r["clients"] - delivered)
                <= 0.05 * delivered]
        if near:
            vals.append(near[0][key])
    return statistics.median(vals) if vals else None


def before_fanout(before, key, n):
    """The repeats of the before run's fan-out ladder at N = n, or None."""
    for (bn, _), _, rep in before.get(key) or []:
        if bn == n:
            return rep
    return None


def before_section(before, sse, ws, ceiling_runs, allocs, idle, plan):
    """The same harness against the server measured before (--before)."""
    lines = ["## Before and after", "",
             f"The server before: `{before.get('server')}` (built from source "
             f"{before.get('server_source') or 'not recorded'}; harness at {before.get('source')}), "
             f"measured {before.get('date')} with the same harness and plan ({before.get('command')}). "
             "Its fractions are of the ceiling measured in this run (Scenario 6).",
             ""]
    ceil_rep = {n: rep for (n, _), _, rep in ceiling_runs or []}
    rows = []
    for name, key, runs in (("SSE", "fanout-sse", sse), ("WebSocket", "fanout-ws", ws)):
        for (n, _), _, rep in runs or []:
            old = before_fanout(before, key, n)
            c = median_best(ceil_rep.get(n, []), best_sustained)
            was = median_best(old, best_sustained) if old else None
            now = median_best(rep, best_sustained)
            p99_was = median_at(old, 1e6, "p99_us") if old else None
            p99_now = median_at(rep, 1e6, "p99_us")
            cpu_was = median_at(old, 1e6, "server_cpu") if old else None
            cpu_now = median_at(rep, 1e6, "server_cpu")
            frac = (lambda v: "-" if not (v and c) else f"{v / c:.2f}")
            num = (lambda v, f="{:.0f}": "-" if v is None else f.format(v))
            rows.append([name, n, num(was), num(now), num(c), frac(was), frac(now),
                         num(p99_was), num(p99_now), num(cpu_was, "{:.2f}"),
                         num(cpu_now, "{:.2f}")])
    lines += table(["transport", "clients", "max sustained/s before", "after", "ceiling",
                    "fraction before", "fraction after", "p99 us at 1 M/s before", "after",
                    "server CPU at 1 M/s before", "after"], rows)
    lines += [""]
    if allocs is not None and before.get("allocs"):
        clients, delivered = plan["allocs"]
        rows = []
        old_by_t = {t: rep for t, _, rep in before["allocs"]}
        for t, _, rep in allocs:
            for d in delivered:
                now = [r.get("allocs_per_delivered") for r in (step_at(s, d) for s in rep) if r]
                was = [r.get("allocs_per_delivered") for r in
                       (step_at(s, d) for s in old_by_t.get(t, [])) if r]
                rows.append([t, clients, rate_label(d), spread(was, "{:.4f}"),
                             spread(now, "{:.4f}")])
        lines += table(["transport", "clients", "delivered", "allocations per delivered tick "
                        "before", "after"], rows) + [""]
    if idle is not None and before.get("idle"):
        rows = []
        for (_, now), (_, was) in zip(idle, before["idle"]):
            got = [r for r in now if r]
            if got:
                rows.append([got[0]["transport"], got[0]["clients"],
                             spread([r["rss_per_client_kib"] for r in was if r], "{:.1f}"),
                             spread([r["rss_per_client_kib"] for r in got], "{:.1f}")])
        lines += table(["transport", "idle clients", "KiB per client before", "after"], rows)
        lines += [""]
    return lines


def rate_label(delivered):
    """1e6 -> '1 M/s', 2e3 -> '2 k/s'."""
    if delivered >= 1e6:
        return f"{delivered / 1e6:g} M/s"
    if delivered >= 1e3:
        return f"{delivered / 1e3:g} k/s"
    return f"{delivered:g}/s"


def step_at(steps, delivered):
    """The step of one run whose requested delivered ticks/s is `delivered`."""
    near = [r for r in steps if abs(r["rate"] * r["clients"] - delivered) <= 0.05 * delivered]
    return near[0] if near else None


def allocs_section(runs, plan, counted):
    """runs: [(transport, command, repeats)], repeats: list of step lists."""
    clients, delivered = plan["allocs"]
    lines = [f"## {SCENARIO_TITLES[6]}", ""]
    rows = []
    for transport, _, repeats in runs:
        for d in delivered:
            got = [r for r in (step_at(steps, d) for steps in repeats) if r]
            sus = sum(1 for r in got if r["sustained"])
            rows.append([transport, clients, f"{d:.0f}",
                         spread([r["delivered_per_s"] for r in got]),
                         spread([r.get("allocs") for r in got]),
                         spread([r.get("allocs_per_delivered") for r in got], "{:.4f}"),
                         spread([r["server_cpu"] for r in got], "{:.2f}"),
                         f"{sus} of {len(got)}" if got else "-"])
    lines += table(["transport", "clients", "delivered ticks/s (requested)", "delivered/s measured",
                    "allocations in the window", "allocations per delivered tick",
                    "server CPU (cores)", "sustained (repeats)"], rows)
    lines += ["", "Allocations: the server's successful malloc, calloc, growing realloc, "
              "reallocarray, posix_memalign, aligned_alloc, memalign, valloc and pvalloc calls "
              "(operator new included: it calls malloc), counted by bench/alloc_count.cpp, which "
              "`ib-stream-bench --count-allocs` LD_PRELOADs into the server, over the step's "
              "measurement window (read at its start and end, the moments server CPU is measured "
              "at). Per delivered tick: allocations / ticks that reached the clients in the "
              "window (every client counts each tick). One upstream, each rate measured whether "
              f"sustained or not; the target (< {ALLOCS_TARGET}) is read at the largest rate.", ""]
    if not counted:
        lines += [f"Not counted in this run: under a sanitizer (IBS_SANITIZER="
                  f"{os.environ.get('IBS_SANITIZER')}) the sanitizer's runtime owns malloc, so "
                  "the preloaded counter would not see the server's allocations.", ""]
    lines += ["Commands:", ""] + [f"    {cmd}" for _, cmd, _ in runs] + [""]
    return lines


def targets_section(sse, ceiling, idle, decode, allocs, plan, ws=None, ceiling_runs=None,
                    before=None, extra_rows=()):
    """Rows only for the scenarios that ran (None: not run)."""
    def verdict(ok):
        return "-" if ok is None else ("met" if ok else "not met")

    rows = []
    # Streams as logs: fractions of the ceiling, latency against the ceiling's,
    # and against the server measured before (--before).
    ceil_rep = {n: rep for (n, _), _, rep in ceiling_runs or []}
    for name, runs in (("SSE", sse), ("WebSocket", ws)):
        if runs is None or not ceil_rep:
            continue
        for (n, _), _, rep in runs:
            c = median_best(ceil_rep.get(n, []), best_sustained)
            mine = median_best(rep, best_sustained)
            goal = {1000: 0.8, 5000: 0.9}.get(n)
            if goal is not None:
                frac = mine / c if (mine and c) else None
                rows.append([f"{name}, N = {n:,}: max sustained deliveries/s >= {goal} of the "
                             f"ceiling at the same N",
                             "-" if frac is None else f"{mine:.0f} vs {c:.0f}/s = {frac:.2f}",
                             verdict(None if frac is None else frac >= goal)])
            if n == 1000:
                p99 = median_at(rep, 1e6, "p99_us")
                cp99 = median_at(ceil_rep.get(n, []), 1e6, "p99_us")
                ok = None if (p99 is None or cp99 is None) else p99 <= 1.5 * cp99
                rows.append([f"{name}, N = 1,000 at 1 M deliveries/s: p99 <= 1.5x the ceiling's",
                             "-" if ok is None else f"{p99:.0f} vs {cp99:.0f} us "
                             f"({p99 / cp99:.2f}x)", verdict(ok)])
            if n == 100 and before is not None:
                old = before_fanout(before, "fanout-sse" if name == "SSE" else "fanout-ws", n)
                was = median_best(old, best_sustained) if old else None
                ok = None if (was is None or mine is None) else mine >= was
                rows.append([f"{name}, N = 100: max sustained deliveries/s unchanged or better "
                             f"than before", "-" if ok is None else f"{mine:.0f} vs {was:.0f}/s",
                             verdict(ok)])
    if idle is not None and before is not None:
        for (cmd, results), (_, old) in zip(idle, before.get("idle") or []):
            now = [r["rss_per_client_kib"] for r in results if r]
            was = [r["rss_per_client_kib"] for r in old if r]
            if now and was:
                a, b = statistics.median(now), statistics.median(was)
                t = next(r for r in results if r)["transport"]
                rows.append([f"idle {t}: memory per client unchanged or lower than before",
                             f"{a:.1f} vs {b:.1f} KiB", verdict(a <= b)])
    s1000 = next((rep for (n, u), _, rep in sse if n == 1000), None) if sse is not None else None
    if sse is not None:
        best = median_best(s1000) if s1000 else None
        rows.append(["SSE fan-out, 1,000 clients: >= 1,000,000 delivered/s, p99 < 10 ms, no drops",
                     f"{best:.0f}/s" if best else "-",
                     verdict(None if best is None else best >= 1e6)])
    if s1000:
        p50 = median_at(s1000, 100e3, "p50_us")
        p99 = median_at(s1000, 100e3, "p99_us")
        ok = None if p50 is None else (p50 < 200 and p99 < 2000)
        rows.append(["at 100,000 delivered/s: p50 < 200 us, p99 < 2 ms",
                     "-" if p50 is None else f"p50 {p50:.0f} us, p99 {p99:.0f} us", verdict(ok)])
    if sse is not None and ceiling is not None:
        for (n, u), _, rep in sse:
            c = ceiling.get(n)
            mine = median_best(rep, best_sustained)
            ok = None if not (c and mine) else mine * 2 >= c
            rows.append([f"within 2x of the ceiling at N = {n} (max sustained ticks/s)",
                         f"{mine:.0f} vs {c:.0f}/s" if (c and mine) else "-", verdict(ok)])
    for cmd, results in idle or []:
        got = [r for r in results if r]
        if got:
            r = got[0]
            rows.append([f"idle {r['transport']}: <= 16 KiB per client",
                         f"{r['rss_per_client_kib']:.1f} KiB", verdict(r["rss_per_client_kib"] <= 16)])
            rows.append([f"idle {r['transport']}: {r['clients']} clients in < 5 s",
                         f"{r['streaming']} in {r['accept_s']:.2f} s",
                         verdict(r["streaming"] == r["clients"] and r["accept_s"] < 5)])
    if decode is not None:
        for name, goal in (("BM_DecodeTickByTickBidAsk", 10e6), ("BM_DecodeTickByTickLast", 10e6),
                           ("BM_EncodeTickJsonBidAsk", 5e6), ("BM_EncodeTickJsonLast", 5e6)):
            v = decode.get(name)
            m = statistics.median(v) if v else None
            rows.append([f"{name} >= {goal / 1e6:.0f} M/s per core",
                         "-" if m is None else f"{m / 1e6:.2f} M/s",
                         verdict(None if m is None else m >= goal)])
    if allocs is not None:
        clients, delivered = plan["allocs"]
        top = max(delivered)
        for transport, _, repeats in allocs:
            vals = [r["allocs_per_delivered"] for r in (step_at(s, top) for s in repeats)
                    if r and r.get("allocs_per_delivered") is not None]
            m = statistics.median(vals) if vals else None
            rows.append([f"heap allocations per delivered tick in the fan-out steady state "
                         f"< {ALLOCS_TARGET} ({transport}, N={clients}, {rate_label(top)})",
                         "-" if m is None else f"{m:.4f}",
                         verdict(None if m is None else m < ALLOCS_TARGET)])
    rows += list(extra_rows)
    if not rows:
        return []
    return ["## Targets", ""] + table(["target", "measured (median)", "verdict"], rows) + [""]


def generate(args, plan_name):
    plan = PLANS[plan_name]
    only = args.only
    log_dir = os.path.join(args.bin_dir, "bench")
    os.makedirs(log_dir, exist_ok=True)
    runner = Runner(args.bin_dir, plan, log_dir, args.server)
    started = datetime.datetime.now(datetime.timezone.utc)
    m = machine()

    # None: the scenario was not asked for (--only).
    ceiling_runs = sse_runs = ws_runs = breadth_runs = idle_runs = alloc_runs = None
    record_runs = history_runs = scaleout_runs = None
    decode_cmd, decode = None, None
    command = "bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    meta = dict(date=f"{started:%Y-%m-%d %H:%M} UTC", commit=m["commit"], command=command)
    load_seen = [record_report.wait_for_load(args.wait_load, log)]
    bt, bu = plan["breadth"]
    if "ceiling" in only:
        log("scenario 6: ceiling")
        ceiling_runs = [((n, 1),) + runner.ladder("ceiling", "sse", n, 1)
                        for n in plan["fanout_n"]]
    ceil_by_n = ({n: median_best(rep, best_sustained) for (n, _), _, rep in ceiling_runs}
                 if ceiling_runs is not None else None)
    if "fanout-sse" in only:
        log("scenario 1: fan-out SSE")
        sse_runs = [((n, 1),) + runner.ladder("fanout", "sse", n, 1) for n in plan["fanout_n"]]
    if "fanout-ws" in only:
        log("scenario 2: fan-out WebSocket")
        ws_runs = [((n, 1),) + runner.ladder("fanout", "ws", n, 1) for n in plan["fanout_n"]]
    # A sanitizer's runtime owns malloc (scripts/sanitize.sh sets IBS_SANITIZER):
    # the steps still run, uncounted, so the section keeps its shape.
    counted = not os.environ.get("IBS_SANITIZER")
    if "allocs" in only:
        log("scenario 7: heap allocations" + ("" if counted else " (not counted: sanitizer)"))
        alloc_runs = [(t,) + runner.allocs(t, counted) for t in ("sse", "ws")]
    if "breadth" in only:
        log("scenario 3: breadth")
        breadth_runs = [((bt * bu, bt),) + runner.ladder("breadth", "sse", bt * bu, bt)]
    if "idle" in only:
        log("scenario 4: idle")
        idle_runs = []
        for transport in ("sse", "ws"):
            results, shown = [], ""
            for _ in range(plan["repeats"]):
                shown, rows = runner.harness(["--scenario", "idle", "--transport", transport,
                                              "--clients", str(plan["idle_n"])])
                results.append(rows[0] if rows else None)
            idle_runs.append((shown, results))
    if "decode" in only:
        log("scenario 5: decode")
        decode_cmd, decode = run_decode(runner)
    if "record" in only:
        load_seen.append(record_report.wait_for_load(args.wait_load, log))
        log(f"scenario 8: recording while clients stream (load {load_seen[-1]:.2f})")
        record_runs = record_report.run_record(runner, log)
    if "history" in only:
        load_seen.append(record_report.wait_for_load(args.wait_load, log))
        log(f"scenario 9: history (load {load_seen[-1]:.2f})")
        history_runs = record_report.run_history(runner, log)
    if "scaleout" in only:
        load_seen.append(record_report.wait_for_load(args.wait_load, log))
        log(f"scenario 10: scale-out on NATS JetStream (load {load_seen[-1]:.2f})")
        scaleout_runs = scaleout_report.run_scaleout(runner, log)
    load_seen.append(record_report.load_average())
    finished = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        "# ib-stream benchmark results",
        "",
        "Generated by `bench/run.py`; do not edit by hand (regenerate with `bench/run.sh --quick`"
        " or `bench/run.sh --full`).",
        "",
        f"- command: `{command}` ({plan_name} plan: {plan['repeats']} repeat(s), "
        f"{plan['duration']} s per step)",
        f"- date: {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC",
        f"- machine: {m['cores']} cores, {m['model']}, Linux {m['kernel']}",
        f"- source: {m['commit']}",
        f"- load: 1-minute load average {min(load_seen):.2f} to {max(load_seen):.2f} at the "
        "scenarios' starts and the end",
    ]
    if args.server:
        lines.append(f"- server measured: `{os.path.abspath(args.server)}` (--server, built "
                     f"from source {args.server_source or 'not recorded'}; the source line above "
                     "is the harness's)")
    lines += [
        f"- scenarios: {', '.join(k for k in SCENARIO_KEYS if k in only)}",
        "- noise: cells of repeated runs read `median (min-max)`",
        "",
        "How it measures: the harness is TWS (a loopback TWS API server built from "
        "`src/tws/messages`) and the clients (one epoll thread, 256 KiB reads). Each BidAsk "
        "tick carries its send time (CLOCK_MONOTONIC ns) in `bid_size` and its sequence number "
        "in `ask_size`; the server prints sizes as JSON numbers digit for digit, so a client "
        "reads both back from the event text. Latency = time the client's read returned - "
        "time just before the feed's write to the TWS socket. Drops = ticks written in the "
        "window that a client never received (sequence numbers). A step is clean when nothing "
        "dropped, no client failed, p99 <= 10 ms and the feed kept its rate. The harness, the "
        "server and the clients share the machine's cores: harness CPU (feed + clients) is "
        "reported beside the server's.",
        "",
    ]
    before = None
    if args.before:
        with open(args.before) as f:
            before = json.load(f)
    lines += targets_section(sse_runs, ceil_by_n, idle_runs, decode, alloc_runs, plan, ws_runs,
                             ceiling_runs, before,
                             record_report.target_rows(record_runs, history_runs, plan))
    if before is not None:
        lines += before_section(before, sse_runs, ws_runs, ceiling_runs, alloc_runs, idle_runs,
                                plan)
    # The fraction-of-ceiling column stays (as "-") when the ceiling did not run.
    if sse_runs is not None:
        lines += fanout_section(SCENARIO_TITLES[0], sse_runs, ceil_by_n or {})
    if ws_runs is not None:
        lines += fanout_section(SCENARIO_TITLES[1], ws_runs, ceil_by_n or {})
    if breadth_runs is not None:
        lines += fanout_section(SCENARIO_TITLES[2] + f": {bt} upstreams x {bu} clients",
                                breadth_runs)
    if idle_runs is not None:
        lines += idle_section(idle_runs)
    if decode is not None:
        lines += decode_section(decode_cmd, decode)
    if ceiling_runs is not None:
        lines += fanout_section(SCENARIO_TITLES[5], ceiling_runs)
    if alloc_runs is not None:
        lines += allocs_section(alloc_runs, plan, counted)
    if record_runs is not None:
        lines += record_report.record_section(SCENARIO_TITLES[7], record_runs, plan, meta)
    if history_runs is not None:
        lines += record_report.history_section(SCENARIO_TITLES[8], history_runs, plan, meta)
    if scaleout_runs is not None:
        lines += scaleout_report.scaleout_section(
            SCENARIO_TITLES[9], scaleout_runs, plan, meta,
            f"machine: {m['cores']} cores, {m['model']}, Linux {m['kernel']}")
    if runner.failures:
        lines += ["## Harness failures", ""] + [f"- `{f}`" for f in runner.failures] + [""]
    text = "\n".join(lines)
    if args.update and os.path.exists(args.out):
        with open(args.out) as f:
            old = f.read()
        listed = re.search(r"^- scenarios: (.*)$", old, flags=re.M)
        had = {k.strip() for k in listed.group(1).split(",")} if listed else set(SCENARIO_KEYS[:6])
        keys = [k for k in SCENARIO_KEYS if k in had | only]
        ran = [k for k in SCENARIO_KEYS if k in only]
        update = (f"- updated: {meta['date']}, source {m['commit']}: sections "
                  f"{', '.join(ran)} rerun with `{command}` (1-minute load average "
                  f"{min(load_seen):.2f} to {max(load_seen):.2f}); the other sections are "
                  "those of the run above")
        text = record_report.merge_update(
            old, text, [t for k, t in zip(SCENARIO_KEYS, SCENARIO_TITLES) if k in only],
            update, "- scenarios: " + ", ".join(keys))
    with open(args.out, "w") as f:
        f.write(text)
    log(f"wrote {args.out}")
    if args.raw:
        # Every step of every run, for a later comparison (--before).
        with open(args.raw, "w") as f:
            json.dump({"server": os.path.abspath(args.server) if args.server else runner.server,
                       "source": m["commit"], "server_source": args.server_source or m["commit"],
                       "date": f"{started:%Y-%m-%d %H:%M} UTC",
                       "command": command,
                       "fanout-sse": sse_runs, "fanout-ws": ws_runs, "ceiling": ceiling_runs,
                       "breadth": breadth_runs, "allocs": alloc_runs, "idle": idle_runs,
                       "record": record_runs, "history": history_runs,
                       "scaleout": scaleout_runs}, f)
        log(f"wrote {args.raw}")
    return runner.failures


def check(path):
    """Structure only: the header, every scenario heading the header's
    `- scenarios:` line lists, each with a table."""
    problems = []
    text = open(path).read()
    for needed in ("# ib-stream benchmark results", "- command: `", "- date: ", "- machine: "):
        if needed not in text:
            problems.append(f"missing header line {needed!r}")
    # A file without the scenarios line predates it (and Scenario 7): 1 to 6.
    wanted = SCENARIO_TITLES[:6]
    listed = re.search(r"^- scenarios: (.*)$", text, flags=re.M)
    if listed:
        keys = [k.strip() for k in listed.group(1).split(",") if k.strip()]
        unknown = [k for k in keys if k not in SCENARIO_KEYS]
        if unknown or not keys:
            problems.append(f"bad scenarios line {listed.group(0)!r}")
        wanted = [t for k, t in zip(SCENARIO_KEYS, SCENARIO_TITLES) if k in keys]
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    titles = [s.splitlines()[0] for s in sections]
    for want in wanted:
        match = [s for s, t in zip(sections, titles) if t.startswith(want)]
        if not match:
            problems.append(f"missing section {want!r}")
            continue
        rows = [l for l in match[0].splitlines() if l.startswith("|")]
        if len(rows) < 3 or not re.fullmatch(r"\|(---\|)+", rows[1]):
            problems.append(f"{want}: no table with a header, separator and a row")
            continue
        width = rows[0].count("|")
        # The first table of the section: rows up to the first non-table line.
        first = []
        for l in match[0].splitlines()[2:]:
            if not l.startswith("|"):
                break
            first.append(l)
        if any(l.count("|") != width for l in first):
            problems.append(f"{want}: rows of different widths")
        if any(re.search(r"\|\s*\|", l) for l in first):
            problems.append(f"{want}: empty cells")
    return problems


def scenario_keys(value):
    keys = [k.strip() for k in value.split(",") if k.strip()]
    bad = [k for k in keys if k not in SCENARIO_KEYS]
    if bad or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(bad) or value!r}; keys: {', '.join(SCENARIO_KEYS)}")
    return set(keys)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    mode.add_argument("--smoke", action="store_true")
    mode.add_argument("--check", metavar="FILE")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--server", metavar="PATH",
                    help="the ib-stream-server binary to measure (default: BIN_DIR's)")
    ap.add_argument("--server-source", metavar="REV",
                    help="the source revision --server was built from (recorded in the output)")
    ap.add_argument("--raw", metavar="FILE",
                    help="also write every step's results as JSON (for --before)")
    ap.add_argument("--before", metavar="FILE",
                    help="a --raw file of the server measured before: adds the comparison")
    ap.add_argument("--update", action="store_true",
                    help="replace only the sections of the scenarios run in --out")
    ap.add_argument("--wait-load", metavar="L", type=float,
                    help="wait until the 1-minute load average is below L before scenarios")
    ap.add_argument("--only", metavar="SCENARIOS", type=scenario_keys,
                    default=set(SCENARIO_KEYS),
                    help="comma separated: " + ",".join(SCENARIO_KEYS))
    args = ap.parse_args()
    if args.check:
        problems = check(args.check)
        for p in problems:
            log("malformed: " + p)
        return 1 if problems else 0
    if args.server and not os.access(args.server, os.X_OK):
        ap.error(f"--server {args.server}: not an executable file")
    plan = "smoke" if args.smoke else "quick" if args.quick else "full"
    failures = generate(args, plan)
    problems = check(args.out)
    for p in problems:
        log("malformed: " + p)
    return 1 if problems or (failures and plan == "smoke") else 0


if __name__ == "__main__":
    sys.exit(main())
