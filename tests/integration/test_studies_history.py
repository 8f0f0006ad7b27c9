"""ib-studies reading the server's record (README "Recording and history"),
against a real ib-stream-server that records (--track CONTRACT:BidAsk,Last,
--data-dir a temporary directory) a wall-clock market of ib-tws-sim
(--clock wall --start-time now-2: the market is fixed by time).

StudiesHistory: `--since` over SSE and over WebSocket reads the record
through GET /replay (every tick type in one time-ordered stream), so its
history part is, object for object (classification, quote, summary,
statistics), what `--replay-from/--replay-to` prints over the same range;
its trades are the record's (read with GET /history/{id}/Last?format=ndjson:
the same prices, sizes and times in the same order) and then the live ones,
without a gap or a duplicate at the switch (SSE resumes after the last tick
applied with Last-Event-ID; WebSocket asks for its second and drops the
ticks of it already applied); a live run started at the same moment prints
a contiguous run of them. `--since` for a contract with nothing recorded
goes live (one notice). `--replay-from/--replay-to --speed max` gives exactly
the record's trades of that range and exits 0 (also delta, ISO-8601 times,
--output, --limit; speed 1 keeps the pace). Usage errors exit 2 naming the
option; a contract never recorded (404), a bad time (400) or no server exit
1 with one line; a replay that never completes (a fake server) exits 3.

StudiesBackfilledIds: `--since` over a gap the server backfilled after a
TWS outage: SSE ids `seq.sub`, every trade once, no gap reported.
"""
import datetime
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

from serverproc import Server
from simproc import free_port
from streamwatch import Sim
from test_studies import CONTRACT, DATA, json_lines, start_studies, studies

HIST_SEED, HIST_RATE = 11, 20.0
NOT_RECORDED = 265598  # AAPL: in the simulator's catalog, never tracked here


def trades_of(rows):
    """(price, size, unix_time) of each --json row's trade: the trade itself,
    whatever the study made of it."""
    return [(r["current_trade"]["price"], r["current_trade"]["size"],
             r["current_trade"]["unix_time"]) for r in rows]


def study_output(rows):
    """The --json rows without their `timestamp` (when the server sent the
    tick, which differs between two reads of the same record): what the
    study made of each trade, field for field."""
    return [{k: v for k, v in r.items() if k != "timestamp"} for r in rows]


def record_trades(ticks):
    """The same of the Last ticks of GET /history."""
    return [(t["price"], t["size"], t["unix_time"]) for t in ticks]


def index_of_run(seq, run):
    """Where `run` occurs in `seq` as a contiguous run, or -1."""
    for i in range(len(seq) - len(run) + 1):
        if seq[i:i + len(run)] == run:
            return i
    return -1


class FakeReplayServer:
    """An HTTP server that answers one request with the head of a replay
    (200, `info`, `ticks` tick events) and then closes the connection: a
    replay whose `complete` never comes. Keeps the request line."""

    def __init__(self, ticks):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.request_line = None
        self.ticks = ticks
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.request_line = head.split(b"\r\n", 1)[0].decode()
            body = "retry: 3000\n\n" + "data: " + json.dumps({
                "type": "info", "contract_id": CONTRACT, "timestamp": "2026-12-04T21:00:00.000Z",
                "info": {"message": "replay", "code": "replay"}}) + "\n\n"
            for i in range(self.ticks):
                body += "data: " + json.dumps({
                    "type": "tick", "contract_id": CONTRACT,
                    "timestamp": "2026-12-04T21:00:00.000Z",
                    "data": {"type": "time_sales", "tick_type": "Last",
                             "timestamp": "2026-12-04 21:00:00", "unix_time": 1796418000 + i,
                             "price": 100.25 + i, "size": 1.0, "exchange": "CME",
                             "conditions": "", "past_limit": False, "unreported": False,
                             "seq": i + 1, "source": "live"}}) + "\n\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Connection: close\r\n\r\n" + body.encode())

    def close(self):
        self.sock.close()
        self.thread.join(5)


class RecordedContract(unittest.TestCase):
    """A seeded wall-clock simulator (HIST_SEED, HIST_RATE) and an
    ib-stream-server recording CONTRACT's BidAsk and Last for the whole
    class, which starts once `min_recorded` of each are recorded."""

    min_recorded = 40

    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="ibs-record-")
        cls.start_time = int(time.time()) - 2
        cls.sim = Sim(seed=HIST_SEED, start_time=cls.start_time, rate=HIST_RATE,
                      extra=("--clock", "wall"))
        try:
            cls.server = Server(cls.sim, args=("--data-dir", cls.data_dir, "--linger-ms", 200,
                                               "--track", f"{CONTRACT}:BidAsk,Last"))
        except BaseException:
            cls.sim.stop()
            raise
        try:
            n = cls.min_recorded
            cls.server.wait_for(lambda: cls.recorded("Last") >= n and cls.recorded("BidAsk") >= n,
                                timeout=30, what=f"{n} trades and {n} quotes recorded")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.sim.stop()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    @classmethod
    def recorded(cls, tick_type):
        _, body = cls.server.json("/tracked")
        return next((t["ticks_recorded"] for t in body["tracked"]
                     if t["contract_id"] == CONTRACT and t["tick_type"] == tick_type), 0)


class StudiesHistory(RecordedContract):
    """One wall-clock market (--clock wall: fixed by time) recorded by one
    ib-stream-server (--track CONTRACT:BidAsk,Last) for the whole class."""

    def history(self, **params):
        """The record's Last ticks (GET /history/{id}/Last, ndjson), in record order."""
        r = self.server.get(f"/history/{CONTRACT}/Last",
                            params={"format": "ndjson", "limit": 100000, **params})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertNotIn("x-next-cursor", {k.lower() for k in r.headers}, "one page")
        return [json.loads(line) for line in r.text.splitlines() if line.strip()]

    def base(self, study="multi-delta", transport="sse"):
        return (study, "--contract", CONTRACT, "--server", self.server.base_url,
                "--transport", transport, "--json")

    def check_since(self, transport, since):
        """`--since` and, started at the same moment, a live run. The --since
        run's trades are the record's from its first trade on, without a gap
        or a duplicate at the switch to live (the record holds the live ones
        too once they are in); the live run's trades are a contiguous run of
        them; a replay of the record's range (the reference: one time-ordered
        stream) gives the same objects, classification included."""
        before = self.history()
        limit = len(before) + 40  # the record so far, then about 40 live trades
        since_p = start_studies(*self.base(transport=transport), "--since", since,
                                "--limit", limit)
        live_p = start_studies(*self.base(transport=transport), "--limit", 10)
        out = {}
        for name, p in (("since", since_p), ("live", live_p)):
            try:
                stdout, stderr = p.communicate(timeout=90)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
            self.assertEqual(p.returncode, 0, f"{transport} {name}: {stderr}")
            out[name] = json_lines(stdout)
            if name == "since":
                self.assertNotRegex(stderr, r"gap|restarted|missing|nothing recorded", transport)
        since_rows = out["since"]
        got, live = trades_of(out["since"]), trades_of(out["live"])
        self.assertEqual(len(got), limit)
        self.assertEqual(len(live), 10)
        # Every trade the --since run printed is in the record by now.
        self.server.wait_for(lambda: len(self.history()) >= limit, timeout=10,
                             what=f"{limit} trades recorded")
        record = record_trades(self.history())
        self.assertEqual(got[:len(before)], record_trades(before),
                         f"{transport}: the history part is the record")
        self.assertEqual(got, record[:limit], f"{transport}: record, then live: no gap, "
                                              "no duplicate at the switch")
        self.assertGreaterEqual(index_of_run(got, live), len(before) - 40,
                                f"{transport}: the live run's trades are among the --since "
                                "run's live ones")
        # The same range through /replay: the same trades, each classified
        # against the same quote, the same summaries, field for field.
        t1 = before[-1]["unix_time"]
        r = studies(*self.base(), "--replay-from", self.start_time - 5, "--replay-to", t1)
        self.assertEqual(r.returncode, 0, r.stderr)
        reference = json_lines(r.stdout)
        self.assertEqual(trades_of(reference), [t for t in got if t[2] < t1])
        self.assertGreater(len(reference), 20)
        self.assertGreater(reference[-1]["calculation_stats"]["true_delta_percentage"], 90,
                           "the reference classifies against quotes")
        self.assertEqual(study_output(since_rows[:len(reference)]), study_output(reference),
                         f"{transport}: the history part is the replay of its range")

    def test_since_over_sse_is_the_record_then_live(self):
        self.check_since("sse", str(self.start_time - 5))  # Unix seconds

    def test_since_over_websocket_is_the_record_then_live(self):
        self.check_since("ws", "1h")  # that long ago

    def test_since_without_a_record_goes_live(self):
        for transport in ("sse", "ws"):
            with self.subTest(transport=transport):
                r = studies("multi-delta", "--contract", NOT_RECORDED, "--server",
                            self.server.base_url, "--transport", transport, "--json",
                            "--since", "1m", "--limit", 3, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(len(json_lines(r.stdout)), 3)
                notices = [line for line in r.stderr.splitlines() if "nothing recorded" in line]
                self.assertEqual(notices, [
                    "ib-studies: nothing recorded to read first (CONTRACT_NOT_FOUND: nothing "
                    f"recorded for contract {NOT_RECORDED}): live, since 1m"], r.stderr)

    def test_replay_range_is_exactly_the_record_of_that_range(self):
        record = self.history()
        # Whole seconds inside the record: from its second second on.
        t0, t1 = record[0]["unix_time"] + 1, record[-1]["unix_time"]
        want = record_trades(self.history(start=t0, end=t1))
        self.assertGreater(len(want), 10)
        r = studies(*self.base(), "--replay-from", t0, "--replay-to", t1, "--speed", "max")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json_lines(r.stdout)
        self.assertEqual(trades_of(rows), want)
        # Quotes and trades interleaved in time order by the server: the
        # trades are classified against the quotes of their time.
        stats = rows[-1]["calculation_stats"]
        self.assertEqual(stats["trades"], len(want))
        self.assertGreater(stats["true_delta_percentage"], 90, stats)
        self.assertIn("--- final summary", r.stderr)
        # delta (Last only), ISO-8601 times, human output, --output, --limit.
        iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "trades.jsonl")
            r = studies("delta", "--contract", CONTRACT, "--server", self.server.base_url,
                        "--replay-from", iso(t0), "--replay-to", iso(t1), "--output", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("--- final summary", r.stdout)
            with open(out) as f:
                self.assertEqual(trades_of(json_lines(f.read())), want)
        r = studies(*self.base(), "--replay-from", t0, "--replay-to", t1, "--limit", 5)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(trades_of(json_lines(r.stdout)), want[:5])

    def test_replay_at_speed_1_keeps_the_recorded_pace(self):
        record = self.history()
        t0 = record[0]["unix_time"] + 1
        begun = time.monotonic()
        r = studies(*self.base(), "--replay-from", t0, "--replay-to", t0 + 2, "--speed", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(trades_of(json_lines(r.stdout)),
                         record_trades(self.history(start=t0, end=t0 + 2)))
        self.assertGreaterEqual(time.monotonic() - begun, 0.9, "2 s of record at speed 1")

    def test_usage_errors_exit_2_naming_the_option(self):
        base = ("multi-delta", "--contract", CONTRACT, "--server", self.server.base_url)
        for args, option in (
                (("--replay-from", 1), "--replay-from"),
                (("--replay-to", 1), "--replay-to"),
                (("--speed", 10), "--speed"),
                (("--replay-from", 1, "--replay-to", 2, "--since", "1h"), "--replay-from"),
                (("--replay-from", 1, "--replay-to", 2, "--replay", DATA), "--replay-from"),
                (("--replay-from", 1, "--replay-to", 2, "--duration", 5), "--replay-from"),
                (("--replay-from", 1, "--replay-to", 2, "--speed", "fast"), "--speed"),
                (("--replay-from", 1, "--replay-to", 2, "--speed", 0), "--speed"),
                (("--since", "1h", "--replay", DATA), "--since"),
                (("--since", ""), "--since")):
            with self.subTest(args=args):
                r = studies(*base, *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertTrue(r.stderr.startswith(option + ": "), r.stderr)

    def test_server_errors_exit_1_with_one_line(self):
        now = int(time.time())
        # A contract never recorded: the server's 404, as it said it.
        r = studies("multi-delta", "--contract", NOT_RECORDED, "--server", self.server.base_url,
                    "--json", "--replay-from", now - 60, "--replay-to", now)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr.splitlines(), [
            "error: the server refused the replay: HTTP 404 CONTRACT_NOT_FOUND: "
            f"nothing recorded for contract {NOT_RECORDED}"])
        # A bad time: the server's 400 naming it.
        r = studies(*self.base(), "--replay-from", "yesterday", "--replay-to", now)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertRegex(r.stderr, r"^error: the server refused the replay: HTTP 400 "
                                   r"INVALID_PARAMETER: .*'yesterday'")
        # Nothing listening.
        from serverproc import closed_port
        r = studies(*self.base()[:3], "--server", f"http://127.0.0.1:{closed_port()}", "--json",
                    "--replay-from", now - 60, "--replay-to", now)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertRegex(r.stderr, r"^error: cannot connect to ib-stream-server at "
                                   r"http://127\.0\.0\.1:\d+ for the replay: ")
        # A bad --since: the server refuses the stream (SSE: 400; ws: the subscription).
        for transport in ("sse", "ws"):
            r = studies(*self.base(transport=transport), "--since", "soon", "--limit", 1,
                        timeout=30)
            self.assertEqual(r.returncode, 1, f"{transport}: {r.stderr}")
            self.assertRegex(r.stderr, r"error: the server refused the .*since", transport)

    def test_a_replay_without_its_end_exits_3(self):
        fake = FakeReplayServer(ticks=2)
        try:
            r = studies("multi-delta", "--contract", CONTRACT, "--server",
                        f"http://127.0.0.1:{fake.port}", "--json", "--replay-from", 1,
                        "--replay-to", 2, timeout=30)
        finally:
            fake.close()
        self.assertEqual(fake.request_line,
                         f"GET /replay/{CONTRACT}?tick_types=BidAsk%2CLast&start=1&end=2"
                         "&speed=max HTTP/1.1")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(json_lines(r.stdout)), 2, "the ticks that came were studied")
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        self.assertEqual(errors, ["error: the replay stopped without its end: the server closed "
                                  "the connection after 2 ticks, before `complete`"], r.stderr)


class StudiesBackfilledIds(unittest.TestCase):
    """--since over a record with a backfilled gap (TWS lost for 3 s, the
    server filled the gap with historical ticks): the SSE ids of the gap's
    ticks are `seq.sub`; ib-studies takes each of them once, in order, and
    reports no gap."""

    def test_since_over_a_backfilled_gap(self):
        data_dir = tempfile.mkdtemp(prefix="ibs-studies-gap-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        start_time = int(time.time()) - 2
        port = free_port()

        def sim():
            s = Sim(port=port, seed=HIST_SEED, start_time=start_time, rate=HIST_RATE,
                    extra=("--clock", "wall", "--hist-pacing", "off"))
            self.addCleanup(s.stop)
            return s

        first = sim()
        server = Server(first, args=("--data-dir", data_dir, "--track", f"{CONTRACT}:Last"))
        self.addCleanup(server.cleanup)

        def last_stream():
            _, body = server.json("/tracked")
            return next(t for t in body["tracked"] if t["tick_type"] == "Last")

        server.wait_for(lambda: last_stream()["ticks_recorded"] >= 20, timeout=30,
                        what="20 trades recorded")
        first.kill()
        time.sleep(3)  # the market goes on; nobody records it
        sim()          # the same market, continued at the current time
        server.wait_for(lambda: last_stream()["gaps"]["list"] and
                        last_stream()["gaps"]["open"] == 0, timeout=60, interval=0.3,
                        what="the gap filled")

        def read_record():
            h = server.get(f"/history/{CONTRACT}/Last", params={"format": "ndjson",
                                                                "limit": 100000})
            return [json.loads(line) for line in h.text.splitlines() if line.strip()]

        record = read_record()
        backfilled = [t for t in record if t["source"] == "backfill"]
        self.assertGreater(len(backfilled), 0, "the gap has backfilled trades")
        limit = len(record) + 5
        r = studies("delta", "--contract", CONTRACT, "--server", server.base_url, "--json",
                    "--since", start_time - 5, "--limit", limit)
        self.assertEqual(r.returncode, 0, r.stderr)
        record = server.wait_for(lambda: len(read_record()) >= limit and read_record(),
                                 timeout=10, what=f"{limit} trades recorded")
        self.assertEqual(trades_of(json_lines(r.stdout)), record_trades(record)[:limit])
        self.assertNotRegex(r.stderr, r"gap|restarted|missing", "no gap reported")


if __name__ == "__main__":
    unittest.main()
