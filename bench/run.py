#!/usr/bin/env python3
"""Runs the benchmark scenarios and writes bench/RESULTS.md.

    bench/run.py --quick            a few minutes, one repeat per scenario
    bench/run.py --full             the full ladders, three repeats
    bench/run.py --smoke --out F    a seconds-long run (the test suite's bench.smoke)
    bench/run.py --check F          only check that F is a well-formed results file

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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Delivered ticks/s (all clients together) tried in order; a rung's feed rate
# per upstream is delivered / clients (each client follows one upstream).
LADDER_FULL = [10e3, 20e3, 50e3, 100e3, 200e3, 500e3, 1e6, 1.5e6, 2e6, 3e6, 5e6]
LADDER_QUICK = [20e3, 100e3, 300e3, 1e6, 2e6, 5e6]

PLANS = {
    "smoke": dict(repeats=1, duration=0.3, warmup=0.1, fanout_n=[10], breadth=(3, 2),
                  idle_n=20, ladder=[2e3], decode_min_time=0.01),
    "quick": dict(repeats=1, duration=1.0, warmup=0.3, fanout_n=[100, 1000, 5000],
                  breadth=(50, 20), idle_n=10000, ladder=LADDER_QUICK, decode_min_time=0.2),
    "full": dict(repeats=3, duration=3.0, warmup=0.5, fanout_n=[100, 1000, 5000],
                 breadth=(50, 20), idle_n=10000, ladder=LADDER_FULL, decode_min_time=1.0),
}

SCENARIO_TITLES = [
    "Scenario 1: fan-out, SSE",
    "Scenario 2: fan-out, WebSocket",
    "Scenario 3: breadth",
    "Scenario 4: idle capacity",
    "Scenario 5: decode and encode",
    "Scenario 6: the ceiling (raw loopback writes, no server)",
]


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
    def __init__(self, bin_dir, plan, log_dir):
        self.bench = os.path.join(bin_dir, "bench", "ib-stream-bench")
        self.decode = os.path.join(bin_dir, "bench", "ib-stream-decode-bench")
        self.server = os.path.join(bin_dir, "ib-stream-server")
        self.plan = plan
        self.log_dir = log_dir
        self.failures = []

    def harness(self, args):
        """One ib-stream-bench process; returns (command, list of JSON results)."""
        cmd = [self.bench, "--server", self.server,
               "--server-log", os.path.join(self.log_dir, "server.log")] + args
        shown = " ".join(shlex.quote(rel(c)) for c in [self.bench] + args)
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


def summary(r):
    if r.get("scenario") == "idle":
        return (f"idle {r['transport']} {r['streaming']}/{r['clients']} in {r['accept_s']:.2f}s, "
                f"{r['rss_per_client_kib']:.1f} KiB/client")
    return (f"{r['scenario']} {r['transport']} N={r['clients']} rate={r['rate']:.0f} "
            f"delivered={r['delivered_per_s']:.0f}/s p50={r['p50_us']:.0f}us "
            f"p99={r['p99_us']:.0f}us drops={r['drops']} sustained={r['sustained']} "
            f"clean={r['clean']}")


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


def targets_section(sse, ceiling, idle, decode):
    def verdict(ok):
        return "-" if ok is None else ("met" if ok else "not met")

    rows = []
    s1000 = next((rep for (n, u), _, rep in sse if n == 1000), None)
    best = median_best(s1000) if s1000 else None
    rows.append(["SSE fan-out, 1,000 clients: >= 1,000,000 delivered/s, p99 < 10 ms, no drops",
                 f"{best:.0f}/s" if best else "-", verdict(None if best is None else best >= 1e6)])
    if s1000:
        p50 = median_at(s1000, 100e3, "p50_us")
        p99 = median_at(s1000, 100e3, "p99_us")
        ok = None if p50 is None else (p50 < 200 and p99 < 2000)
        rows.append(["at 100,000 delivered/s: p50 < 200 us, p99 < 2 ms",
                     "-" if p50 is None else f"p50 {p50:.0f} us, p99 {p99:.0f} us", verdict(ok)])
    for (n, u), _, rep in sse:
        c = ceiling.get(n)
        mine = median_best(rep, best_sustained)
        ok = None if not (c and mine) else mine * 2 >= c
        rows.append([f"within 2x of the ceiling at N = {n} (max sustained ticks/s)",
                     f"{mine:.0f} vs {c:.0f}/s" if (c and mine) else "-", verdict(ok)])
    for cmd, results in idle:
        got = [r for r in results if r]
        if got:
            r = got[0]
            rows.append([f"idle {r['transport']}: <= 16 KiB per client",
                         f"{r['rss_per_client_kib']:.1f} KiB", verdict(r["rss_per_client_kib"] <= 16)])
            rows.append([f"idle {r['transport']}: {r['clients']} clients in < 5 s",
                         f"{r['streaming']} in {r['accept_s']:.2f} s",
                         verdict(r["streaming"] == r["clients"] and r["accept_s"] < 5)])
    for name, goal in (("BM_DecodeTickByTickBidAsk", 10e6), ("BM_DecodeTickByTickLast", 10e6),
                       ("BM_EncodeTickJsonBidAsk", 5e6), ("BM_EncodeTickJsonLast", 5e6)):
        v = decode.get(name)
        m = statistics.median(v) if v else None
        rows.append([f"{name} >= {goal / 1e6:.0f} M/s per core",
                     "-" if m is None else f"{m / 1e6:.2f} M/s", verdict(None if m is None else m >= goal)])
    return ["## Targets", ""] + table(["target", "measured (median)", "verdict"], rows) + [""]


def generate(args, plan_name):
    plan = PLANS[plan_name]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    log_dir = os.path.join(args.bin_dir, "bench")
    os.makedirs(log_dir, exist_ok=True)
    runner = Runner(args.bin_dir, plan, log_dir)
    started = datetime.datetime.now(datetime.timezone.utc)
    m = machine()

    bt, bu = plan["breadth"]
    log("scenario 6: ceiling")
    ceiling_runs = [((n, 1),) + runner.ladder("ceiling", "sse", n, 1) for n in plan["fanout_n"]]
    ceiling = {n: median_best(rep, best_sustained) for (n, _), _, rep in ceiling_runs}
    log("scenario 1: fan-out SSE")
    sse_runs = [((n, 1),) + runner.ladder("fanout", "sse", n, 1) for n in plan["fanout_n"]]
    log("scenario 2: fan-out WebSocket")
    ws_runs = [((n, 1),) + runner.ladder("fanout", "ws", n, 1) for n in plan["fanout_n"]]
    log("scenario 3: breadth")
    breadth_runs = [((bt * bu, bt),) + runner.ladder("breadth", "sse", bt * bu, bt)]
    log("scenario 4: idle")
    idle_runs = []
    for transport in ("sse", "ws"):
        results, shown = [], ""
        for _ in range(plan["repeats"]):
            shown, rows = runner.harness(["--scenario", "idle", "--transport", transport,
                                          "--clients", str(plan["idle_n"])])
            results.append(rows[0] if rows else None)
        idle_runs.append((shown, results))
    log("scenario 5: decode")
    decode_cmd, decode = run_decode(runner)
    finished = datetime.datetime.now(datetime.timezone.utc)

    ceil_by_n = {n: c for n, c in ceiling.items()}
    command = "bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
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
    lines += targets_section(sse_runs, ceil_by_n, idle_runs, decode)
    lines += fanout_section(SCENARIO_TITLES[0], sse_runs, ceil_by_n)
    lines += fanout_section(SCENARIO_TITLES[1], ws_runs, ceil_by_n)
    lines += fanout_section(SCENARIO_TITLES[2] + f": {bt} upstreams x {bu} clients", breadth_runs)
    lines += idle_section(idle_runs)
    lines += decode_section(decode_cmd, decode)
    lines += fanout_section(SCENARIO_TITLES[5], ceiling_runs)
    if runner.failures:
        lines += ["## Harness failures", ""] + [f"- `{f}`" for f in runner.failures] + [""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {args.out}")
    return runner.failures


def check(path):
    """Structure only: the header, every scenario heading, each with a table."""
    problems = []
    text = open(path).read()
    for needed in ("# ib-stream benchmark results", "- command: `", "- date: ", "- machine: "):
        if needed not in text:
            problems.append(f"missing header line {needed!r}")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    titles = [s.splitlines()[0] for s in sections]
    for want in SCENARIO_TITLES:
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    mode.add_argument("--smoke", action="store_true")
    mode.add_argument("--check", metavar="FILE")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    if args.check:
        problems = check(args.check)
        for p in problems:
            log("malformed: " + p)
        return 1 if problems else 0
    plan = "smoke" if args.smoke else "quick" if args.quick else "full"
    failures = generate(args, plan)
    problems = check(args.out)
    for p in problems:
        log("malformed: " + p)
    return 1 if problems or (failures and plan == "smoke") else 0


if __name__ == "__main__":
    sys.exit(main())
