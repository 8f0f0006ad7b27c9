"""The recorder and history scenarios of bench/run.py (Scenarios 8 and 9):
running them through ib-stream-bench, counting what the record holds on
disk, their sections and target rows in RESULTS.md, and the --update merge
of a new run's sections into an existing RESULTS.md.
"""
import glob
import os
import re
import shutil
import sqlite3
import statistics
import tempfile
import time

RECORD_TARGET = 200e3  # ticks/s committed
P99_MOVE = 0.10  # the clients' p99 may move by at most this fraction
HISTORY_TARGET = 500e3  # ticks/s out of /history
FLAT_RSS_MIB = 16  # RSS growth while reading a day that is "flat"
NOTES = ("Where the time goes (profiles and reasoning, not generated): "
         "[record-history-notes.md](record-history-notes.md).")


def load_average():
    return os.getloadavg()[0]


def wait_for_load(limit, log, max_wait=1200):
    """Waits until the 1-minute load average is below `limit`; the load seen."""
    if limit is None:
        return load_average()
    deadline = time.time() + max_wait
    while load_average() >= limit and time.time() < deadline:
        log(f"  load average {load_average():.2f} >= {limit}: waiting")
        time.sleep(30)
    return load_average()


def disk_usage(data_dir):
    """Rows in the day files' ticks tables and the files' bytes (-wal, -shm included)."""
    rows, size = 0, 0
    for path in glob.glob(os.path.join(data_dir, "ticks-*.sqlite*")):
        size += os.path.getsize(path)
    for path in glob.glob(os.path.join(data_dir, "ticks-*.sqlite")):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows += db.execute("SELECT count(*) FROM ticks").fetchone()[0]
    wal = sum(os.path.getsize(p) for p in glob.glob(os.path.join(data_dir, "*-wal")))
    return dict(rows=rows, bytes=size, wal_bytes=wal)


def fresh_dir(runner, kind):
    return tempfile.mkdtemp(prefix=f"{kind}-", dir=runner.log_dir)


def run_record(runner, log):
    """Scenario 8, each repeat in a fresh record directory: [(command, steps, total, disk)]."""
    clients, rate, tracked, ladder = runner.plan["record"]
    runs = []
    for _ in range(runner.plan["repeats"]):
        data = fresh_dir(runner, "record")
        args = ["--scenario", "record", "--transport", "sse", "--clients", str(clients),
                "--upstreams", "1", "--rates", str(rate), "--track-upstreams", str(tracked),
                "--track-rates", ",".join(f"{t:.0f}" for t in ladder),
                "--duration", str(runner.plan["duration"]), "--warmup", str(runner.plan["warmup"]),
                "--all-rates", "--data-dir", data]
        load0 = load_average()
        shown, rows = runner.harness(args)
        steps = [r for r in rows if r.get("scenario") == "record"]
        total = next((r for r in rows if r.get("scenario") == "record_total"), None)
        disk = disk_usage(data)
        log(f"    on disk: {disk['rows']} rows, {disk['bytes']} bytes")
        shutil.rmtree(data, ignore_errors=True)
        runs.append(dict(command=shown, steps=steps, total=total, disk=disk,
                         load=(load0, load_average())))
    return runs


def run_history(runner, log):
    """Scenario 9, each repeat recording its own day: [(command, fill, reads)]."""
    ticks, fill_rate, limit = runner.plan["history"]
    runs = []
    for _ in range(runner.plan["repeats"]):
        data = os.path.join(fresh_dir(runner, "history"), "data")
        load0 = load_average()
        shown, rows = runner.harness(["--scenario", "history", "--history-ticks", str(ticks),
                                      "--fill-rate", f"{fill_rate:.0f}", "--page-limit",
                                      str(limit), "--data-dir", data])
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)
        runs.append(dict(command=shown,
                         fill=next((r for r in rows if r.get("scenario") == "history_fill"), None),
                         reads=[r for r in rows if r.get("scenario") == "history"],
                         load=(load0, load_average())))
    return runs


def spread(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return (fmt.format(statistics.median(values)) + " (" + fmt.format(min(values)) + "-" +
            fmt.format(max(values)) + ")")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def off_p99(steps):
    """The clients' p99 with recording off: the median of the run's rate-0 steps."""
    off = [r["p99_us"] for r in steps if r["track_rate"] == 0]
    return statistics.median(off) if off else None


def rung(steps, rate):
    """The first step at tracked rate `rate` (> 0)."""
    return next((r for r in steps if r["track_rate"] == rate), None)


def max_recorded(run):
    ok = [r for r in run["steps"] if r["recorder_sustained"] and r["track_rate"] > 0]
    return max((r["recorded_per_s"] for r in ok), default=None)


def provenance(meta, runs):
    loads = [x for r in runs for x in r["load"]]
    return (f"Measured {meta['date']} from source {meta['commit']} (`{meta['command']}`); "
            f"1-minute load average {min(loads):.2f} to {max(loads):.2f} around the runs "
            f"(2 cores; the harness itself adds about 1).")


def record_section(title, runs, plan, meta):
    clients, rate, tracked, ladder = plan["record"]
    lines = [f"## {title}", "", provenance(meta, runs), "",
             f"{clients} SSE clients follow one upstream fed at {rate} ticks/s "
             f"({clients * rate / 1e6:g} M deliveries/s) while {tracked} more contracts are "
             "tracked (`--track`, BidAsk, recorded into a fresh `--data-dir` on the normal disk "
             "with `--retention-days 0`) and fed at the total rate of each step. Rate 0 is "
             "recording off (the tracked streams silent), measured first and last; the "
             "clients' p99 is compared with the median of those two. The recorder is read "
             "through GET /tracked: committed rows/s = ticks_recorded over the window, "
             "recorder_lag and pending sampled every 100 ms. Each step starts with the queue "
             "empty. Recorder sustained: the feed kept its rate, rows committed >= 95% of the "
             "ticks fed, recorder_lag.seconds <= 1, no gap opened, the recorder stayed ok.", ""]
    rows = []
    rates = sorted({t for t in ladder if t > 0})
    for t in rates:
        at = [r for r in (rung(run["steps"], t) for run in runs) if r]
        ratios = [rung(run["steps"], t)["p99_us"] / off_p99(run["steps"]) for run in runs
                  if rung(run["steps"], t) and off_p99(run["steps"])]
        sus = sum(1 for r in at if r["recorder_sustained"])
        rows.append([f"{t:.0f}", spread([r["track_fed_per_s"] for r in at]),
                     spread([r["recorded_per_s"] for r in at]),
                     spread([r["recorder_lag_s_max"] for r in at], "{:.2f}"),
                     spread([r["recorder_pending_max"] for r in at]),
                     spread([r["gaps_opened"] for r in at]), f"{sus} of {len(at)}",
                     spread([r["p50_us"] for r in at]), spread([r["p99_us"] for r in at]),
                     spread(ratios, "{:.2f}"), spread([r["drops"] for r in at]),
                     spread([r["server_cpu"] for r in at], "{:.2f}"),
                     spread([r["server_hwm_kib"] / 1024 for r in at], "{:.1f}")])
    offs = [r for run in runs for r in run["steps"] if r["track_rate"] == 0]
    rows.insert(0, ["0 (off)", "0", "0", "-", "-", "-", "-", spread([r["p50_us"] for r in offs]),
                    spread([r["p99_us"] for r in offs]), "1.00",
                    spread([r["drops"] for r in offs]),
                    spread([r["server_cpu"] for r in offs], "{:.2f}"),
                    spread([r["server_hwm_kib"] / 1024 for r in offs], "{:.1f}")])
    lines += table(["tracked ticks/s (requested)", "fed/s", "committed rows/s",
                    "recorder lag max (s)", "pending max (ticks)", "gaps opened",
                    "recorder sustained (repeats)", "clients p50 us", "clients p99 us",
                    "p99 / p99 off", "client drops", "server CPU (cores)",
                    "server peak RSS MiB"], rows)
    lines += ["", "The record on disk after each run (the server stopped cleanly: its WAL "
              "checkpointed into the day file):", ""]
    disk_rows = []
    for i, run in enumerate(runs, 1):
        d, tot = run["disk"], run["total"] or {}
        disk_rows.append([i, tot.get("fed", "-"), tot.get("ticks_recorded", "-"), d["rows"],
                          tot.get("gaps", "-"), tot.get("recorder_status", "-"), d["bytes"],
                          d["wal_bytes"],
                          f"{d['bytes'] / d['rows']:.1f}" if d["rows"] else "-"])
    lines += table(["repeat", "ticks fed (tracked)", "ticks_recorded (/tracked)",
                    "rows in the day file", "gaps at the end", "recorder at the end",
                    "day file bytes", "WAL bytes left", "bytes per stored tick"], disk_rows)
    lines += ["", NOTES, "", "Commands (DIR: a fresh empty directory under the build tree):", ""]
    lines += [f"    {re.sub(r'--data-dir [^ ]+', '--data-dir DIR', run['command'])}"
              for run in runs] + [""]
    return lines


def history_section(title, runs, plan, meta):
    ticks, fill_rate, limit = plan["history"]
    lines = [f"## {title}", "", provenance(meta, runs), "",
             f"One tracked BidAsk stream is recorded from the benchmark's TWS feed "
             f"({ticks} ticks at {fill_rate:.0f} ticks/s, one UTC day), the server stopped and "
             "a fresh one started on the record (tracked.json removed: it records nothing). "
             f"The harness then reads the whole day with GET /history/7001/BidAsk?start=DAY&"
             f"end=DAY+1&limit={limit}&format=F, following the cursor to the last page, on one "
             "keep-alive connection, counting ticks as the bytes arrive (json: `\"seq\":` keys; "
             "ndjson: lines; csv: lines after the header). Server RSS and RssAnon are read from "
             "/proc before, every 5 ms during (peak) and 0.5 s after each format; formats run "
             "one after another on the same server (json first).", ""]
    rows = []
    for fmt in ("json", "ndjson", "csv"):
        got = [r for run in runs for r in run["reads"] if r["format"] == fmt]
        if not got:
            continue
        rows.append([fmt, spread([r["ticks"] for r in got]), spread([r["pages"] for r in got]),
                     spread([r["ticks_per_s"] for r in got]),
                     spread([r["mib_per_s"] for r in got], "{:.1f}"),
                     spread([r["first_page_s"] for r in got], "{:.2f}"),
                     spread([r["server_cpu"] for r in got], "{:.2f}"),
                     spread([r["reader_cpu"] for r in got], "{:.2f}"),
                     spread([r["rss_before_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["rss_peak_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["rss_after_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["anon_before_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["anon_peak_kib"] / 1024 for r in got], "{:.1f}"),
                     spread([r["anon_after_kib"] / 1024 for r in got], "{:.1f}"),
                     "; ".join(sorted({r["error"] for r in got if r["error"]})) or "none"])
    lines += table(["format", "ticks read", "pages", "ticks/s", "MiB/s", "first page (s)",
                    "server CPU (cores)", "reader CPU (cores)", "RSS before MiB", "RSS peak MiB",
                    "RSS after MiB", "RssAnon before MiB", "RssAnon peak MiB",
                    "RssAnon after MiB", "errors"], rows)
    fills = [run["fill"] for run in runs if run["fill"]]
    lines += ["", "Recording the day (no clients):", ""]
    lines += table(["ticks recorded", "seconds", "committed rows/s", "server CPU (cores)",
                    "day file bytes", "bytes per stored tick", "gaps"],
                   [[f["recorded"], f"{f['seconds']:.2f}", f"{f['recorded_per_s']:.0f}",
                     f"{f['server_cpu']:.2f}", f["day_file_bytes"], f"{f['bytes_per_tick']:.1f}",
                     f["gaps_open"]] for f in fills])
    lines += ["", NOTES, "", "Commands (DIR: a fresh directory under the build tree):", ""]
    lines += [f"    {re.sub(r'--data-dir [^ ]+', '--data-dir DIR', run['command'])}"
              for run in runs] + [""]
    return lines


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "not met")


def target_rows(record, history, plan):
    rows = []
    if record is not None:
        clients, rate, _, _ = plan["record"]
        best = [m for m in (max_recorded(run) for run in record)]
        got = [b for b in best if b is not None]
        m = statistics.median(got) if got else None
        rows.append([f"record: >= {RECORD_TARGET:,.0f} ticks/s committed into SQLite, sustained, "
                     f"while {clients:,} SSE clients stream ({clients * rate / 1e6:g} M "
                     "deliveries/s)",
                     "-" if m is None else f"max sustained {m:.0f} rows/s",
                     verdict(None if m is None else m >= RECORD_TARGET)])
        at = [(rung(run["steps"], RECORD_TARGET), off_p99(run["steps"])) for run in record]
        at = [(r, off) for r, off in at if r and off]
        if at:
            ratio = statistics.median([r["p99_us"] / off for r, off in at])
            p99 = statistics.median([r["p99_us"] for r, _ in at])
            off = statistics.median([off for _, off in at])
            rec = statistics.median([r["recorded_per_s"] for r, _ in at])
            rows.append([f"record at {RECORD_TARGET:,.0f} ticks/s fed: the clients' p99 moves by "
                         f"<= {P99_MOVE:.0%} from recording off",
                         f"p99 {p99:.0f} vs {off:.0f} us off ({ratio:.2f}x; committed "
                         f"{rec:.0f} rows/s there)", verdict(ratio <= 1 + P99_MOVE)])
        per = [run["disk"]["bytes"] / run["disk"]["rows"] for run in record if run["disk"]["rows"]]
        rows.append(["record: bytes per stored tick reported",
                     "-" if not per else f"{statistics.median(per):.1f} bytes (day file / rows)",
                     "reported" if per else "-"])
    if history is not None:
        ticks = plan["history"][0]
        growth = []
        for fmt in ("json", "ndjson", "csv"):
            got = [r for run in history for r in run["reads"] if r["format"] == fmt]
            if not got:
                continue
            m = statistics.median([r["ticks_per_s"] for r in got])
            ok = all(not r["error"] for r in got) and m >= HISTORY_TARGET
            rows.append([f"history: a one-day range of {ticks:,} ticks streams out of /history "
                         f"at >= {HISTORY_TARGET:,.0f} ticks/s ({fmt})", f"{m:.0f} ticks/s",
                         verdict(ok)])
            growth += [(r["rss_peak_kib"] - r["rss_before_kib"]) / 1024 for r in got]
        if growth:
            g = max(growth)
            rows.append([f"history: flat RSS while reading the day (peak - before < "
                         f"{FLAT_RSS_MIB} MiB, every format)", f"at most +{g:.1f} MiB",
                         verdict(g < FLAT_RSS_MIB)])
    return rows


def split_sections(text):
    """(preamble, [(title, text)]) of a RESULTS.md."""
    parts = re.split(r"^(?=## )", text, flags=re.M)
    return parts[0], [(p.splitlines()[0][3:], p) for p in parts[1:]]


def merge_update(old, new, titles_run, update_line, keys_line):
    """`old` with the sections of `new` whose titles start with one of
    `titles_run` put in (replaced or added), its Targets rows merged by target
    name, the `- scenarios:` line replaced by `keys_line` and `update_line`
    added to the header."""
    old_pre, old_secs = split_sections(old)
    _, new_secs = split_sections(new)
    new_by = dict(new_secs)
    pre = re.sub(r"^- scenarios: .*$", keys_line, old_pre, count=1, flags=re.M)
    pre = re.sub(r"^(- noise: .*)$", update_line + r"\n\1", pre, count=1, flags=re.M)
    out = [pre]
    done = set()
    for title, body in old_secs:
        if title == "Targets" and "Targets" in new_by:
            out.append(merge_targets(body, new_by["Targets"]))
            done.add("Targets")
            continue
        match = [t for t in new_by if t != "Targets" and any(
            t.startswith(r) and title.startswith(r) for r in titles_run)]
        if match:
            out.append(new_by[match[0]])
            done.add(match[0])
        else:
            out.append(body)
    for title, body in new_secs:
        if title not in done:
            out.append(body)
    # Every section ends with one blank line (an old file may end without one).
    return "".join(out[:1] + [b.rstrip("\n") + "\n\n" for b in out[1:]]).rstrip("\n") + "\n"


def merge_targets(old, new):
    """The old Targets table with the new rows in place of the same targets, others added."""
    def rows(text):
        return [l for l in text.splitlines() if l.startswith("| ") and not l.startswith(
            "| target |")]
    new_rows = rows(new)
    name = (lambda l: l.split(" | ")[0])
    replaced = {name(l): l for l in new_rows}
    kept = [replaced.pop(name(l), l) for l in rows(old)]
    kept += [l for l in new_rows if name(l) in replaced]
    return "\n".join(["## Targets", "", "| target | measured (median) | verdict |",
                      "|---|---|---|"] + kept + ["", ""])
