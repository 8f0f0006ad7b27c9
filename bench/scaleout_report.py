"""The scale-out scenario of bench/run.py (Scenario 10): a publisher, nats-server
-js and one or two edges, run through `ib-stream-bench --scenario scaleout`
(bench/scaleout_scenario.cpp), the single-node baseline through `--scenario
fanout`, and the section of RESULTS.md with the projection to N machines.

plan["scaleout"] = (latency feed rates, clients per edge of the ladder,
                    ladder of deliveries/s per edge)
"""
import re
import shutil
import statistics

from record_report import fresh_dir, load_average, spread, table

PROJECTED_EDGES = [1, 2, 4, 8]
REFERENCE_TICKS = 10000  # ticks/s for the network column of the projection


def nats_server():
    for path in ("/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if shutil.os.access(path, shutil.os.X_OK):
            return path
    return shutil.which("nats-server")


def run_scaleout(runner, log):
    """Each repeat: the latency run, the single-node baseline, the one-edge and
    two-edge ladders. {"skipped": why} when nats-server is missing."""
    if not nats_server():
        log("    skipped: nats-server is not installed")
        return dict(skipped="nats-server is not installed (Debian package nats-server)")
    lat_rates, n, ladder = runner.plan["scaleout"]
    common = ["--duration", str(runner.plan["duration"]), "--warmup", str(runner.plan["warmup"])]
    rates = ",".join(f"{r:.0f}" for r in lat_rates)
    ladder_rates = ",".join(str(max(1, round(d / n))) for d in ladder)
    smoke = len(ladder) == 1  # the smoke plan: its one step whatever happens
    repeats = []
    load0 = load_average()
    for _ in range(runner.plan["repeats"]):
        run = {}
        data = fresh_dir(runner, "scaleout")
        run["latency"] = runner.harness(
            ["--scenario", "scaleout", "--edges", "1", "--clients", "1", "--pub-clients", "1",
             "--rates", rates] + common + ["--all-rates", "--data-dir", data])
        shutil.rmtree(data, ignore_errors=True)
        run["single"] = runner.harness(
            ["--scenario", "fanout", "--transport", "sse", "--clients", "1", "--upstreams", "1",
             "--rates", rates] + common + ["--all-rates"])
        for edges in (1, 2):
            data = fresh_dir(runner, "scaleout")
            run[f"edges{edges}"] = runner.harness(
                ["--scenario", "scaleout", "--edges", str(edges), "--clients", str(n),
                 "--pub-clients", "0", "--rates", ladder_rates] + common +
                (["--all-rates"] if smoke else []) + ["--data-dir", data])
            shutil.rmtree(data, ignore_errors=True)
        repeats.append(run)
    return dict(repeats=repeats, load=(load0, load_average()))


def shown(command):
    return re.sub(r"--data-dir [^ ]+", "--data-dir DIR", command)


def steps(runs, key):
    """[[step, ...] per repeat] of one kind of run."""
    return [[r for r in run[key][1] if r.get("scenario") in ("scaleout", "fanout")]
            for run in runs]


def at_rate(repeats, rate):
    return [s for steps_ in repeats for s in steps_ if round(s["rate"]) == round(rate)]


def per_tick_us(cores, feed_rate):
    return cores / feed_rate * 1e6 if feed_rate else None


def best_sustained(steps_):
    ok = [s for s in steps_ if s["sustained"]]
    return max(ok, key=lambda s: s["delivered_per_s"]) if ok else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def latency_rows(runs, lat_rates):
    lat, single = steps(runs, "latency"), steps(runs, "single")
    rows_lat, rows_cpu = [], []
    for rate in lat_rates:
        at, base = at_rate(lat, rate), at_rate(single, rate)
        added50 = [s["p50_us"] - s["pub_p50_us"] for s in at]
        added99 = [s["p99_us"] - s["pub_p99_us"] for s in at]
        rows_lat.append([f"{rate:.0f}", spread([s["feed_rate"] for s in at]),
                         spread([b["p50_us"] for b in base]), spread([b["p99_us"] for b in base]),
                         spread([s["pub_p50_us"] for s in at]),
                         spread([s["pub_p99_us"] for s in at]),
                         spread([s["p50_us"] for s in at]), spread([s["p99_us"] for s in at]),
                         spread(added50), spread(added99),
                         spread([s["drops"] + s["pub_drops"] for s in at])])
        pub = [per_tick_us(s["publisher_cpu"], s["feed_rate"]) for s in at]
        one = [per_tick_us(b["server_cpu"], b["feed_rate"]) for b in base]
        extra = [p - o for p, o in zip(pub, one) if p is not None and o is not None]
        rows_cpu.append([f"{rate:.0f}", spread(one, "{:.1f}"), spread(pub, "{:.1f}"),
                         spread(extra, "{:.1f}"),
                         spread([per_tick_us(s["nats_cpu"], s["feed_rate"]) for s in at],
                                "{:.1f}"),
                         spread([per_tick_us(s["edge_cpu"], s["feed_rate"]) for s in at],
                                "{:.1f}"),
                         spread([s["published"] for s in at]),
                         spread([s["publish_failures"] for s in at]),
                         spread([s["edge_msg_bytes"] / s["sent"] for s in at if s["sent"]]),
                         spread([s["edge_wire_bytes"] / s["sent"] for s in at if s["sent"]]),
                         spread([s["nats_in_bytes"] / s["sent"] for s in at if s["sent"]])])
    return rows_lat, rows_cpu


def ladder_rows(runs, n):
    summary, every = [], []
    for edges in (1, 2):
        reps = steps(runs, f"edges{edges}")
        best = [b for b in (best_sustained(s) for s in reps) if b]
        summary.append([edges, n, f"{len(best)} of {len(reps)}",
                        spread([b["delivered_per_s"] for b in best]),
                        spread([b["delivered_per_s"] / edges for b in best]),
                        spread([b["feed_rate"] for b in best]),
                        spread([b["p50_us"] for b in best]), spread([b["p99_us"] for b in best]),
                        spread([b["publisher_cpu"] for b in best], "{:.2f}"),
                        spread([b["nats_cpu"] for b in best], "{:.2f}"),
                        spread([b["edge_cpu"] for b in best], "{:.2f}"),
                        spread([b["harness_cpu"] for b in best], "{:.2f}")])
        for i, steps_ in enumerate(reps, 1):
            for s in steps_:
                every.append([edges, n, i, f"{s['rate']:.0f}", f"{s['feed_rate']:.0f}",
                              f"{s['delivered_per_s']:.0f}", f"{s['p50_us']:.0f}",
                              f"{s['p99_us']:.0f}", f"{s['max_us']:.0f}", s["drops"], s["gaps"],
                              f"{s['publisher_cpu']:.2f}", f"{s['nats_cpu']:.2f}",
                              f"{s['edge_cpu']:.2f}", f"{s['harness_cpu']:.2f}",
                              "yes" if s["sustained"] else "no"])
    return summary, every


def model(runs):
    """The measured inputs of the projection (medians over repeats), or None."""
    one, two = steps(runs, "edges1"), steps(runs, "edges2")
    # Publisher (no clients of its own) and nats-server per tick with one and
    # with two edges, at the largest feed rate both ladders sustained in the
    # same repeat.
    pub, n1, n2, bytes_edge, edge_cap, rates = [], [], [], [], [], []
    for s1, s2 in zip(one, two):
        ok2 = {round(s["rate"]) for s in s2 if s["sustained"]}
        common = [s for s in s1 if s["sustained"] and round(s["rate"]) in ok2]
        if common:
            a = max(common, key=lambda s: s["rate"])
            b = next(s for s in s2 if round(s["rate"]) == round(a["rate"]))
            rates.append(a["rate"])
            pub.append(per_tick_us(a["publisher_cpu"], a["feed_rate"]))
            n1.append(per_tick_us(a["nats_cpu"], a["feed_rate"]))
            n2.append(per_tick_us(b["nats_cpu"], b["feed_rate"]))
            bytes_edge.append(a["edge_wire_bytes"] / a["sent"] if a["sent"] else None)
        best = best_sustained(s1)
        edge_cap.append(best["delivered_per_s"] if best else None)
    pub_us, n1, n2 = median(pub), median(n1), median(n2)
    if None in (pub_us, n1, n2) or median(edge_cap) is None:
        return None
    per_edge = max(n2 - n1, 0.0)
    return dict(pub_us=pub_us, nats_base_us=max(n1 - per_edge, 0.0), nats_edge_us=per_edge,
                n1=n1, n2=n2, bytes_edge=median(bytes_edge), edge_cap=median(edge_cap),
                rate=median(rates), measured_max=max(s["feed_rate"] for r in one + two
                                                     for s in r))


def projection(m):
    if m is None:
        return ["Projection: not computed (a ladder sustained no common rate).", ""]
    lines = [
        "Projection to N edge machines. Assumptions, each from the measurements above "
        "(medians) or stated:",
        "",
        f"- The central machine (2 cores like this one) runs the publisher and nats-server "
        f"and nothing else; each process gets at most one core (the publisher's hub is one "
        f"strand; nats-server is not assumed to spread one subject over more). Costs per "
        f"tick are CPU / ticks per second at {m['rate']:.0f} ticks/s, the largest feed rate "
        "both ladders sustained (median over repeats). Per tick costs fall as the rate "
        "rises (compare the CPU table's rates: at low rates ticks go out one by one), "
        "so they overstate it at higher rates. Publisher (no clients of its own): "
        f"{m['pub_us']:.1f} core-us per tick published.",
        f"- nats-server: {m['n1']:.1f} core-us per tick with one edge, {m['n2']:.1f} with "
        f"two, read as {m['nats_base_us']:.1f} + {m['nats_edge_us']:.1f} x edges core-us "
        "per tick (a straight line through two points measured on a busy machine: the "
        "per-edge term is the weakest number here).",
        f"- An edge machine (2 cores) delivers {m['edge_cap']:.0f} ticks/s to its SSE "
        "clients: the one-edge ladder's max sustained, measured while that edge shared "
        "these 2 cores with the publisher, nats-server and the harness (the load "
        "generator alone takes most of a core), so a dedicated edge machine should do at "
        "least as well (the highest rung sustained: the ladder's steps are coarse). "
        "Scenario 1's max sustained at N = 100 (one node, no NATS work beside it) is "
        "the upper bound.",
        f"- Network per edge = ticks/s x {m['bytes_edge']:.0f} bytes per tick: the TCP "
        "bytes nats-server sent on the edge's connection per tick fed (`ss -ti` "
        "bytes_sent: the JetStream message, its headers, the NATS framing and the "
        "consumer's heartbeats), without the TCP/IP headers of a real network.",
        "- Edges are independent (no edge-to-edge traffic); clients spread evenly; "
        "deliveries scale with the number of edges until the central machine's ticks/s "
        "limit or its network binds.",
        f"- Nothing above {m['measured_max']:.0f} ticks/s (one contract) was measured here: "
        "central ticks/s beyond that are the cost model's extrapolation, and a real "
        "deployment spreads them over many contracts (one JetStream stream each).",
        "",
    ]
    rows = []
    for e in PROJECTED_EDGES:
        nats_us = m["nats_base_us"] + m["nats_edge_us"] * e
        max_ticks = 1e6 / max(m["pub_us"], nats_us)
        mbit = (lambda t: t * m["bytes_edge"] * e * 8 / 1e6)
        rows.append([e, f"{nats_us:.1f}", f"{max_ticks:.0f}", f"{mbit(max_ticks):.0f}",
                     f"{mbit(REFERENCE_TICKS):.1f}", f"{e * m['edge_cap']:.0f}",
                     f"{e * m['edge_cap'] / 100:.0f}"])
    lines += table(["edge machines", "nats-server core-us per tick", "central max ticks/s",
                    "central network out there (Mbit/s)",
                    f"central network out at {REFERENCE_TICKS} ticks/s (Mbit/s)",
                    "deliveries/s (edges x edge capacity)",
                    "SSE clients at 100 ticks/s each"], rows)
    return lines + [""]


def scaleout_section(title, result, plan, meta, machine_line):
    lines = [f"## {title}", ""]
    if "skipped" in (result or {}):
        return lines + [f"Not run: {result['skipped']}.", "",
                        "| status |", "|---|", "| skipped |", ""]
    runs = result["repeats"]
    lat_rates, n, _ = plan["scaleout"]
    lo, hi = min(result["load"]), max(result["load"])
    lines += [f"Measured {meta['date']} from source {meta['commit']} (`{meta['command']}`); "
              f"{machine_line}; 1-minute load average {lo:.2f} to {hi:.2f} around the runs. "
              "Everything below shares the same 2 cores: the harness (feed and clients), "
              "ib-stream-server as publisher and as edges, nats-server 2.9 with JetStream "
              "(file store in a fresh directory).", "",
              "Topology: the harness's TWS feed (stamped BidAsk ticks, as in Scenario 1) -> "
              "`ib-stream-server --role publisher` -> `nats-server -js` (one stream per "
              "contract and tick type) -> `ib-stream-server --role edge` (ordered consumer "
              "into its log) -> SSE clients. Latency is measured as in Scenario 1 (client "
              "read time - feed write time, one clock). In the latency runs one client reads "
              "the publisher itself and one reads an edge, the same ticks at the same time; "
              "the single-node baseline is `--scenario fanout` without NATS, one client.", "",
              "Latency (one contract; us):", ""]
    rows_lat, rows_cpu = latency_rows(runs, lat_rates)
    lines += table(["feed ticks/s", "achieved", "single node p50", "single node p99",
                    "publisher's client p50", "publisher's client p99", "edge's client p50",
                    "edge's client p99", "added by NATS p50", "added by NATS p99", "drops"],
                   rows_lat)
    lines += ["", "CPU per tick (core-us per tick fed = CPU cores / ticks per second; the "
              "publisher has one client and feeds one edge):", ""]
    lines += table(["feed ticks/s", "single node (no --nats)", "publisher (--nats)",
                    "publisher: added by publishing", "nats-server (1 edge)",
                    "edge (1 client)", "ticks published in the window",
                    "publish failures", "message bytes to the edge per tick",
                    "TCP bytes to the edge per tick", "nats-server message bytes in per tick"],
                   rows_cpu)
    summary, every = ladder_rows(runs, n)
    lines += ["", f"Deliveries per second, {n} SSE clients per edge, one contract, the "
              "publisher without clients; each ladder stops at the first step that is not "
              "sustained (no drops, no gap, every client served, the feed kept its rate, "
              "p99 <= 100 ms):", ""]
    lines += table(["edges", "clients per edge", "repeats with a sustained step",
                    "max sustained deliveries/s (all edges)",
                    "per edge", "feed ticks/s there", "p50 us there", "p99 us there",
                    "publisher CPU", "nats-server CPU", "edges CPU (sum)", "harness CPU"],
                   summary)
    lines += ["", "Every step:", ""]
    lines += table(["edges", "clients per edge", "repeat", "feed rate", "feed achieved/s",
                    "delivered/s", "p50 us", "p99 us", "max us", "drops", "gaps",
                    "publisher CPU", "nats-server CPU", "edges CPU", "harness CPU",
                    "sustained"], every)
    lines += ["", "Two edges here run on the same 2 cores as one: the two-edge ladder shows what "
              "a second edge costs (nats-server's work per edge, a second process's fan-out "
              "competing for the same cores), not the capacity a second machine adds; the "
              "projection below adds machines.", ""]
    lines += projection(model(runs))
    lines += ["Commands (DIR: a fresh empty directory under the build tree; every repeat "
              "runs all four):", ""]
    first = runs[0]
    lines += [f"    {shown(first[k][0])}" for k in ("latency", "single", "edges1", "edges2")]
    return lines + [""]
