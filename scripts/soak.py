#!/usr/bin/python3
"""Soak and churn test of ib-stream-server (run with Debian's /usr/bin/python3,
which has python3-requests and python3-websockets).

Starts `ib-stream-server --simulate` (raised --sim-rate, admin port) and, for
--seconds, runs --clients client slots on one asyncio loop: each opens SSE or
WebSocket streams of several contracts and tick types, reads them for a
random time, then drops or closes the connection, and often comes back with
`Last-Event-ID`. Meanwhile the simulator's admin port drops and restores TWS,
reports connectivity lost / restored, takes farms down and up, flaps them and
silences contracts, at random times. A few anchor clients (one SSE and one
WebSocket client per anchor stream) stay connected throughout.

At the end it checks, and exits 1 when one fails:
  - every SSE stream's ids are consecutive, within a connection and across a
    resume, except where a loss notice (info ticks_lost / resume_unknown,
    error TWS_DISCONNECTED) came before the jump; every WebSocket anchor's
    ticks are a contiguous run of the SSE anchor's of the same stream; no
    WebSocket tick after its subscription's `complete`;
  - no descriptor or memory leak: the churn runs in rounds (--rounds), each
    ending with every client gone and the lingers expired; then the server's
    open descriptors are back at the baseline measured the same way after a
    short warm-up, and its idle RSS is not still growing in the last round
    (within 10 % or 4 MiB of the highest of the earlier rounds: the
    allocator keeps what the busiest moment needed, a leak keeps growing);
  - the server never restarted: the same process throughout, /health always
    answered with an increasing uptime, and says healthy at the end.

    /usr/bin/python3 scripts/soak.py [--seconds 60] [--clients 60] [--record]

--record writes docs/reliability/soak.json (scripts/reliability.py renders
docs/RELIABILITY.md from it).
"""
import argparse
import asyncio
import collections
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

# Five streams: the simulator allows five tick-by-tick subscriptions at once.
STREAMS = [(265598, "BidAsk"), (265598, "Last"), (711280073, "AllLast"),
           (551601777, "MidPoint"), (12087792, "BidAsk")]
ANCHORS = [(265598, "BidAsk"), (711280073, "AllLast"), (12087792, "BidAsk")]
CONTRACTS = sorted({c for c, _ in STREAMS})
FARMS = ["usfarm", "usfuture", "cashfarm"]
LOSS = ("ticks_lost", "resume_unknown", "TWS_DISCONNECTED")
LINGER_MS = 1000


def log(msg):
    print(f"soak: {msg}", file=sys.stderr, flush=True)


class Tally:
    """Counts and failures of the whole run."""

    def __init__(self):
        self.count = collections.Counter()
        self.failures = []

    def fail(self, what):
        self.count["failures"] += 1
        if len(self.failures) < 50:
            self.failures.append(what)


class IdChecker:
    """The rule for one SSE stream's ids: consecutive, unless a loss notice
    came since the last tick (then a jump is explained)."""

    def __init__(self, tally, who, resume_from=None):
        self.tally, self.who = tally, who
        self.expect = None if resume_from is None else resume_from + 1
        self.excused = False
        self.last = resume_from

    def notice(self, code):
        self.excused = True
        self.tally.count[f"notice {code}"] += 1
        if code == "resume_unknown":
            self.expect = None  # a new subscription: its ids start over

    def tick(self, i):
        self.tally.count["sse ticks"] += 1
        if self.expect is not None and i != self.expect:
            if self.excused:
                self.tally.count["gaps after a loss notice"] += 1
            else:
                self.tally.fail(f"{self.who}: id {i} after {self.expect - 1} with no loss notice")
        self.expect, self.excused, self.last = i + 1, False, i


def loss_code(msg):
    """The loss notice an SSE event or WebSocket message carries, or None."""
    if msg.get("type") == "error":
        code = (msg.get("error") or {}).get("code")
        return code if code == "TWS_DISCONNECTED" else None
    info = msg.get("info") if isinstance(msg.get("info"), dict) else {}
    if "ticks_lost" in info:
        return "ticks_lost"
    return info.get("code") if info.get("code") in LOSS else None


async def sse_events(reader, deadline):
    """Yields (id, parsed data) of each SSE event until the deadline or EOF."""
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            return
        if not chunk:
            return
        buf += chunk
        *blocks, buf = buf.split(b"\n\n")
        for block in blocks:
            ev_id, data = None, None
            for line in block.split(b"\n"):
                if line.startswith(b"id: "):
                    ev_id = int(line[4:])
                elif line.startswith(b"data: "):
                    data = json.loads(line[6:])
            if data is not None:
                yield ev_id, data


class Soak:
    def __init__(self, args, server):
        self.args, self.server = args, server
        self.host, self.port = server.host, server.port
        self.tally = Tally()
        self.anchor_data = {}
        self.samples = []  # (t, rss KiB, fds)
        self.uptimes = []
        self.faults = collections.Counter()
        self.end = 0.0

    # --- SSE -------------------------------------------------------------
    async def sse(self, stream, seconds, last_id=None, limit=None, record=None):
        """One SSE connection; returns the last tick id it saw (for a resume)."""
        con_id, tick_type = stream
        who = f"sse {con_id}/{tick_type}"
        path = f"/stream/{con_id}/{tick_type}" + (f"?limit={limit}" if limit else "")
        head = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n"
        if last_id is not None:
            head += f"Last-Event-ID: {last_id}\r\n"
            self.tally.count["resumes"] += 1
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write((head + "\r\n").encode())
            status = int((await reader.readuntil(b"\r\n\r\n")).split(b" ", 2)[1])
            if status != 200:
                self.tally.count[f"sse refused {status}"] += 1  # 503 while TWS is away
                return last_id
            self.tally.count["sse sessions"] += 1
            ids = IdChecker(self.tally, who, last_id)
            async for ev_id, msg in sse_events(reader, time.monotonic() + seconds):
                kind = msg.get("type")
                if kind == "tick":
                    ids.tick(ev_id)
                    if record is not None:
                        record.append(msg["data"])
                elif loss_code(msg):
                    ids.notice(loss_code(msg))
                elif kind in ("complete", "error"):
                    self.tally.count[f"sse {kind} " + str(msg.get("reason") or
                                                          (msg.get("error") or {}).get("code"))] += 1
                    break
            return ids.last
        finally:
            writer.close()

    # --- WebSocket -------------------------------------------------------
    async def ws(self, streams, seconds, limit=None, record=None):
        """One WebSocket connection: the path stream of streams[0] when
        `record` is given (an anchor), else /multi with one subscribe each."""
        import websockets
        base = f"ws://{self.host}:{self.port}"
        url = (f"{base}/ws/stream/{streams[0][0]}/{streams[0][1]}" if record is not None
               else f"{base}/ws/stream/{streams[0][0]}/multi")
        deadline = time.monotonic() + seconds
        try:
            async with websockets.connect(url, max_size=None, open_timeout=10,
                                          close_timeout=2) as ws:
                self.tally.count["ws sessions"] += 1
                if record is None:
                    for n, (con_id, tick_type) in enumerate(streams):
                        data = {"contract_id": con_id, "tick_type": tick_type}
                        if limit:
                            data["params"] = {"limit": limit}
                        await ws.send(json.dumps({"type": "subscribe", "id": f"s{n}",
                                                  "data": data}))
                done, counts = set(), collections.Counter()
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
                    except asyncio.TimeoutError:
                        break
                    rid = msg.get("request_id")
                    if msg.get("type") == "tick":
                        self.tally.count["ws ticks"] += 1
                        counts[rid] += 1
                        if rid in done:
                            self.tally.fail(f"ws {url}: tick of {rid} after its complete")
                        if record is not None:
                            record.append(msg["data"])
                    elif msg.get("type") == "complete":
                        done.add(rid)
                        if limit and msg["data"]["reason"] == "limit_reached" and \
                                counts[rid] != limit:
                            self.tally.fail(f"ws {url}: {counts[rid]} ticks for limit {limit}")
                    elif loss_code(msg):
                        self.tally.count[f"notice {loss_code(msg)}"] += 1
        except (OSError, asyncio.TimeoutError) as e:
            self.tally.count[f"ws failed {type(e).__name__}"] += 1
        except Exception as e:  # noqa: BLE001 - websockets' closes and handshake refusals
            self.tally.count[f"ws ended {type(e).__name__}"] += 1

    # --- the clients -----------------------------------------------------
    async def slot(self, i):
        rng = random.Random(self.args.seed * 1000 + i)
        last = {}
        while (left := self.end - time.monotonic()) > 0.5:
            seconds = min(left, rng.uniform(1, 12))
            stream = rng.choice(STREAMS)
            limit = rng.choice([None, None, None, rng.randint(5, 40)])
            if rng.random() < 0.5:
                resume = last.get(stream) if rng.random() < 0.6 else None
                last[stream] = await self.sse(stream, seconds, resume, limit)
            else:
                streams = [stream] + ([rng.choice(STREAMS)] if rng.random() < 0.4 else [])
                await self.ws(list(dict.fromkeys(streams)), seconds, limit)
            await asyncio.sleep(rng.uniform(0, 1.5))

    async def anchors(self):
        """An SSE and a WebSocket client per anchor stream, for the whole run."""
        jobs = []
        for stream in ANCHORS:
            sse_data, ws_data = [], []
            self.anchor_data[stream] = (sse_data, ws_data)
            seconds = self.end - time.monotonic()
            jobs.append(self.sse(stream, seconds, record=sse_data))
            jobs.append(self.ws([stream], seconds, record=ws_data))
        await asyncio.gather(*jobs)

    async def fault_driver(self):
        rng = random.Random(self.args.seed)
        while self.end - time.monotonic() > 10:
            await asyncio.sleep(rng.uniform(3, 8))
            kind = rng.choice(["drop", "lost", "farm", "flap", "silence"])
            self.faults[kind] += 1
            if kind == "drop":
                await self.admin("drop")
            elif kind == "lost":
                await self.admin("lost")
                await asyncio.sleep(rng.uniform(0.5, 3))
                await self.admin(f"restored {rng.choice(['lost', 'maintained'])}")
            elif kind == "farm":
                farm = rng.choice(FARMS)
                await self.admin(f"farm-down {farm}")
                await asyncio.sleep(rng.uniform(0.5, 3))
                await self.admin(f"farm-up {farm}")
            elif kind == "flap":
                silent = "silent " if rng.random() < 0.5 else ""
                await self.admin(f"farm-flap {silent}{rng.choice(FARMS)} {rng.randint(200, 1500)}")
            else:
                con_id = rng.choice(CONTRACTS)
                await self.admin(f"silence {con_id}")
                await asyncio.sleep(rng.uniform(1, 5))
                await self.admin(f"unsilence {con_id}")

    async def admin(self, command):
        reply = await asyncio.to_thread(self.server.sim_admin, command)
        if not reply.startswith("ok"):
            self.tally.fail(f"admin {command!r}: {reply}")

    async def sampler(self, until):
        """RSS, descriptors and /health uptime, once a second."""
        from streamwatch import fd_count, rss_kib
        pid = self.server.proc.pid
        while time.monotonic() < until:
            self.samples.append((time.monotonic(), rss_kib(pid), fd_count(pid)))
            await self.health()
            await asyncio.sleep(1.0)

    async def health(self):
        try:
            status, body = await asyncio.to_thread(self.server.json, "/health", timeout=5)
        except Exception as e:  # noqa: BLE001 - counted as a failure
            self.tally.fail(f"/health did not answer: {e!r}")
            return None
        if status != 200:
            self.tally.fail(f"/health answered {status}")
            return None
        if self.uptimes and body["uptime_seconds"] < self.uptimes[-1]:
            self.tally.fail(f"uptime went from {self.uptimes[-1]} to {body['uptime_seconds']}")
        self.uptimes.append(body["uptime_seconds"])
        return body

    async def run(self, seconds, clients, faults):
        self.end = time.monotonic() + seconds
        anchors = asyncio.ensure_future(self.anchors())
        await asyncio.sleep(1.0)  # the anchors' streams open first
        jobs = [self.slot(i) for i in range(clients)] + [self.sampler(self.end)]
        if faults:
            jobs.append(self.fault_driver())
        await asyncio.gather(anchors, *jobs)

    # --- idle state ------------------------------------------------------
    def idle_sample(self, settle=20):
        """Waits until no client and no upstream is left, then the median of
        a few samples of (RSS KiB, fds)."""
        from streamwatch import fd_count, rss_kib
        pid = self.server.proc.pid

        def idle():
            active = self.server.json("/stream/active")[1]
            ws = self.server.json("/ws/stats")[1]
            return not active["streams"] and not active["clients"] and ws["connections"] == 0
        self.server.wait_for(idle, timeout=settle + LINGER_MS / 1000, interval=0.5,
                             what="no client and no upstream left")
        time.sleep(1.0)
        taken = []
        for _ in range(5):
            taken.append((rss_kib(pid), fd_count(pid)))
            time.sleep(0.4)
        return (sorted(r for r, _ in taken)[2], sorted(f for _, f in taken)[2])

    def check_anchors(self):
        from streamwatch import window_offset
        for stream, (sse_data, ws_data) in self.anchor_data.items():
            if not ws_data or not sse_data:
                self.tally.fail(f"anchor {stream}: no ticks (SSE {len(sse_data)}, "
                                f"WebSocket {len(ws_data)})")
            # The two opened and closed at about the same time: their first
            # and last few ticks need not overlap.
            elif window_offset(ws_data[5:-5], sse_data) is None:
                self.tally.fail(f"anchor {stream}: the WebSocket's {len(ws_data)} ticks are not a "
                                f"contiguous run of the SSE anchor's {len(sse_data)}")


def main():
    ap = argparse.ArgumentParser(description="Soak and churn test of ib-stream-server.")
    ap.add_argument("--seconds", type=int, default=60, help="length of the churn (default 60)")
    ap.add_argument("--clients", type=int, default=60, help="client slots (default 60)")
    ap.add_argument("--sim-rate", type=float, default=20.0,
                    help="simulator events per second per contract (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the clients' and faults' choices")
    ap.add_argument("--warmup", type=int, default=8, help="seconds of warm-up churn (default 8)")
    ap.add_argument("--rounds", type=int, default=0,
                    help="the churn is cut into rounds, each ending with every client gone and "
                         "the server idle (default: one per 120 s, at least 2)")
    ap.add_argument("--bin-dir", default=os.environ.get("IBS_BIN_DIR",
                                                         os.path.join(ROOT, "build")))
    ap.add_argument("--record", action="store_true", help="write docs/reliability/soak.json")
    args = ap.parse_args()
    if not 10 <= args.seconds <= 3000 or args.clients < 1:
        ap.error("--seconds must be 10..3000 and --clients at least 1")
    os.environ["IBS_BIN_DIR"] = os.path.abspath(args.bin_dir)
    from serverproc import Server

    started = time.monotonic()
    server = Server(simulate=True, env={"IB_STREAM_STREAM_TIMEOUT": 3600}, args=(
        "--sim-rate", args.sim_rate, "--sim-admin-port", "0", "--linger-ms", LINGER_MS,
        "--backoff-max-ms", 2000, "--watchdog-silence-ms", 3000,
        "--ws-max-connections-per-ip", 100000, "--ws-tws-grace", 0, "--max-streams", 100))
    try:
        return soak(args, server, started)
    finally:
        server.cleanup()


def soak(args, server, started):
    pid = server.proc.pid
    warm = Soak(args, server)
    log(f"server pid {pid} on port {server.port}; warm-up {args.warmup} s")
    asyncio.run(warm.run(args.warmup, min(args.clients, 20), faults=False))
    base_rss, base_fds = warm.idle_sample()
    log(f"baseline after the warm-up: RSS {base_rss} KiB, {base_fds} descriptors")

    s = Soak(args, server)
    s.uptimes = warm.uptimes
    rounds = args.rounds or max(2, args.seconds // 120)
    log(f"churn: {args.clients} clients for {args.seconds} s in {rounds} rounds, faults on")
    idle = []  # (RSS KiB, fds) once every client of a round has left
    for n in range(rounds):
        asyncio.run(s.run(args.seconds / rounds, args.clients, faults=True))
        s.check_anchors()
        server.sim_admin("restored maintained")
        idle.append(s.idle_sample())
        log(f"round {n + 1}/{rounds} over, idle: RSS {idle[-1][0]} KiB, {idle[-1][1]} descriptors")
    health = asyncio.run(s.health()) or {}
    if health.get("status") != "healthy":
        s.tally.fail(f"/health at the end: {health}")
    if server.proc.poll() is not None or server.proc.pid != pid:
        s.tally.fail("the server process ended")
    peak_rss = max(r for _, r, _ in s.samples)
    peak_fds = max(f for _, _, f in s.samples)
    end_rss, end_fds = idle[-1]
    # The allocator keeps what the busiest moment needed (freed memory is
    # reused, not returned), so idle RSS climbs to a plateau: a leak is idle
    # RSS still growing in the last round.
    before_rss = max(r for r, _ in idle[:-1])
    rss_slack = max(4 * 1024, before_rss // 10)
    for n, (_, fds) in enumerate(idle):
        if fds > base_fds + 2:
            s.tally.fail(f"descriptors: {base_fds} at the baseline, {fds} once every client of "
                         f"round {n + 1} left")
    # Under a sanitizer (scripts/sanitize.sh sets IBS_SANITIZER) RSS says
    # nothing about the server: ASan holds freed memory in its quarantine
    # (256 MiB) and TSan keeps shadow memory; leaks are LeakSanitizer's job.
    if end_rss > before_rss + rss_slack and not os.environ.get("IBS_SANITIZER"):
        s.tally.fail(f"RSS: at most {before_rss} KiB idle after the earlier rounds, {end_rss} KiB "
                     f"after the last (allowed {rss_slack} KiB more)")

    c = s.tally.count
    notices = {k[7:]: v for k, v in sorted(c.items()) if k.startswith("notice ")}
    summary = {
        "seconds": args.seconds, "clients": args.clients, "sim_rate": args.sim_rate,
        "sse_sessions": c["sse sessions"], "ws_sessions": c["ws sessions"],
        "resumes": c["resumes"], "sse_ticks": c["sse ticks"], "ws_ticks": c["ws ticks"],
        "faults": dict(s.faults), "loss_notices": notices,
        "gaps_after_a_loss_notice": c["gaps after a loss notice"],
        "refused": {k: v for k, v in c.items() if "refused" in k or "failed" in k},
        "rss_kib": {"baseline": base_rss, "peak": peak_rss, "end": end_rss},
        "idle_rss_kib_per_round": [r for r, _ in idle],
        "idle_fds_per_round": [f for _, f in idle],
        "fds": {"baseline": base_fds, "peak": peak_fds, "end": end_fds},
        "uptime_seconds": [s.uptimes[0], s.uptimes[-1]] if s.uptimes else None,
        "pid": pid, "failures": s.tally.failures,
    }
    print(json.dumps(summary, indent=2))
    ok = not s.tally.failures
    log(("PASS" if ok else f"FAIL ({c['failures']} failures)") +
        f" after {time.monotonic() - started:.0f} s")
    if args.record:
        record(args, summary, ok)
    return 0 if ok else 1


def record(args, m, ok):
    import reliability
    verdict = "pass" if ok else "FAIL"
    mib = {k: f"{v / 1024:.1f}" for k, v in m["rss_kib"].items()}
    faults = ", ".join(f"{k} {v}" for k, v in sorted(m["faults"].items()))
    notices = ", ".join(f"{k} {v}" for k, v in m["loss_notices"].items()) or "none"
    path = reliability.write_fragment("soak", {
        "section": "Soak and churn",
        "order": 3,
        "command": f"/usr/bin/python3 scripts/soak.py --seconds {args.seconds} "
                   f"--clients {args.clients} --record",
        "date": reliability.utc_now(),
        "machine": reliability.machine(),
        "summary": f"{args.clients} clients connected, streamed and left at random for "
                   f"{args.seconds} s (SSE and WebSocket, {len(STREAMS)} streams of "
                   f"{len(CONTRACTS)} contracts, Last-Event-ID resumes) while TWS was dropped, "
                   f"lost, its farms flapped and contracts silenced: {verdict}.",
        "columns": ["check", "result", "measured"],
        "rows": [
            ["churn", "-", f"{m['sse_sessions']} SSE and {m['ws_sessions']} WebSocket "
                           f"connections, {m['resumes']} Last-Event-ID resumes; "
                           f"{m['sse_ticks']} SSE and {m['ws_ticks']} WebSocket ticks"],
            ["faults injected", "-", faults],
            ["ids gap-free or after a loss notice", verdict if not any(
                "id " in f for f in m["failures"]) else "FAIL",
             f"{m['gaps_after_a_loss_notice']} jumps, each after a loss notice; "
             f"notices: {notices}"],
            ["no descriptor leak", "pass" if not any("descriptors" in f for f in m["failures"])
             else "FAIL", f"{m['fds']['baseline']} at the baseline, peak {m['fds']['peak']}; "
                          "idle after each round: " +
             ", ".join(map(str, m["idle_fds_per_round"]))],
            ["no memory leak", "pass" if not any("RSS" in f for f in m["failures"]) else "FAIL",
             f"RSS {mib['baseline']} MiB at the baseline, peak {mib['peak']} MiB; idle after "
             "each round: " + ", ".join(f"{r / 1024:.1f}" for r in m["idle_rss_kib_per_round"]) +
             " MiB"],
            ["no restart", "pass" if not any("uptime" in f or "ended" in f or "health" in f
                                             for f in m["failures"]) else "FAIL",
             f"pid {m['pid']} throughout; /health uptime {m['uptime_seconds'][0]:.0f} -> "
             f"{m['uptime_seconds'][1]:.0f} s, always increasing; healthy at the end"],
        ],
        "notes": [
            f"Baseline: the server idle (no client, no upstream) after an {args.warmup} s "
            f"warm-up churn; the {len(m['idle_rss_kib_per_round'])} rounds of the churn each end "
            "with every client gone, measured the same way once the 1 s lingers expired.",
            f"Server: --simulate --sim-rate {args.sim_rate:g} --linger-ms {LINGER_MS} "
            "--backoff-max-ms 2000 --watchdog-silence-ms 3000.",
            "WebSocket anchors (connected throughout) received a contiguous run of the ticks of "
            "the SSE anchor of the same stream; refusals while TWS was away (503) are "
            "expected and counted, not failures.",
        ] + [f"failure: {f}" for f in m["failures"][:10]],
    })
    log(f"wrote {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
