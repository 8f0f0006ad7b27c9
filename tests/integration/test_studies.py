"""ib-studies against a real ib-stream-server and a seeded ib-tws-sim.

The SSE and the WebSocket client run at the same time against one silenced
market; once both have subscribed the market is unsilenced, so both see the
very same ticks (same server timestamps). They must print the same trades
with the same deltas, and --replay of what each recorded must print exactly
what it printed live.

The history features (--since, --replay-from) are in test_studies_history.

StudiesReconnect (live robustness): TWS (the simulator) or the
server itself killed under a running `ib-studies --json` and restarted on the
same port; ib-studies must keep running, say on stderr what happened (TWS
disconnected / reconnecting with backoff / resume id unknown / ticks lost),
print rows of ticks stamped after the restart, and on Ctrl+C print the final
summary (on stderr with --json) counting every row it printed, exit 0.
"""
import datetime
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from iohelpers import wait_on
from serverproc import Server, sim_admin
from simproc import Simulator, binary
from streamwatch import Sim

CONTRACT = 711280073  # MNQ in the simulator's catalog
DATA = os.path.join(os.path.dirname(__file__), "..", "data", "studies",
                    "mnq_711280073_seed7.jsonl")


def studies(*args, timeout=60):
    return subprocess.run([binary("ib-studies"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def start_studies(*args):
    return subprocess.Popen([binary("ib-studies"), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class StudiesReplay(unittest.TestCase):
    def test_committed_recording_gives_the_expected_summary(self):
        r = studies("multi-delta", "--contract", CONTRACT, "--replay", DATA, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json_lines(r.stdout)
        self.assertEqual(len(rows), 120)
        last = rows[-1]
        self.assertEqual(last["summary"], {
            "window_seconds": 60, "trade_count": 120, "total_buy_volume": 482,
            "total_sell_volume": 485, "total_neutral_volume": 137, "net_delta": -3,
            "cumulative_delta": -3, "buy_sell_ratio": 482 / 485,
            "buy_percentage": 482 / 967 * 100})
        self.assertEqual(last["calculation_stats"], {
            "trades": 120, "bid_hits": 49, "ask_hits": 63, "inside_spread": 8,
            "no_quote_trades": 0, "true_delta_percentage": 100})
        self.assertEqual(sum(row["current_trade"]["delta"] for row in rows), -3)
        # Deterministic: a second replay prints the same bytes.
        again = studies("multi-delta", "--contract", CONTRACT, "--replay", DATA, "--json")
        self.assertEqual(again.stdout, r.stdout)

    def test_human_output_limit_and_output_file(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.jsonl")
            r = studies("multi-delta", "--contract", CONTRACT, "--replay", DATA, "--limit", 30,
                        "--output", out, "--window", 5)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertIn("multi-delta study of contract 711280073", lines[0])
            self.assertIn("--- summary", r.stdout)            # after 25 trades
            self.assertIn("--- final summary", r.stdout)
            with open(out) as f:
                self.assertEqual(len(json_lines(f.read())), 30)

    def test_usage_errors_exit_2(self):
        for args in (["multi-delta"], ["multi-delta", "--contract", "0"],
                     ["delta", "--contract", "1", "--tick-types", "BidAsk,Last"],
                     ["multi-delta", "--contract", "1", "--tick-types", "Last"],
                     ["multi-delta", "--contract", "1", "--neutral-zone", "50"],
                     ["multi-delta", "--contract", "1", "--transport", "x"], []):
            self.assertEqual(studies(*args).returncode, 2, args)

    def test_no_server_exits_1(self):
        from serverproc import closed_port
        for transport in ("sse", "ws"):
            r = studies("multi-delta", "--contract", CONTRACT, "--transport", transport,
                        "--server", f"http://127.0.0.1:{closed_port()}", timeout=20)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot connect", r.stderr)


class StudiesLive(unittest.TestCase):
    def test_sse_and_ws_agree_and_replay_matches(self):
        limit = 40
        with Simulator(seed=7, start_time=1700000000, rate=10,
                       extra=("--admin-port", "0")) as sim, \
                tempfile.TemporaryDirectory() as d:
            # Silenced: subscriptions are accepted but get nothing until both
            # clients are in, so both see the same ticks from the same one.
            self.assertTrue(sim_admin(sim.admin_port, f"silence {CONTRACT}").startswith("ok"))
            with Server(sim=sim) as server:
                rec = {t: os.path.join(d, f"{t}.jsonl") for t in ("sse", "ws")}
                procs = {t: start_studies("multi-delta", "--contract", CONTRACT, "--server",
                                          server.base_url, "--transport", t, "--json",
                                          "--limit", limit, "--record", rec[t])
                         for t in ("sse", "ws")}
                try:
                    server.wait_for(lambda: server.json("/stream/active")[1]["total_clients"] >= 4,
                                    timeout=20, what="4 client streams")
                    self.assertTrue(sim_admin(sim.admin_port,
                                              f"unsilence {CONTRACT}").startswith("ok"))
                    out = {}
                    for t, p in procs.items():
                        stdout, stderr = p.communicate(timeout=90)
                        self.assertEqual(p.returncode, 0, f"{t}: {stderr}")
                        out[t] = json_lines(stdout)
                        self.assertEqual(len(out[t]), limit, t)
                finally:
                    for p in procs.values():
                        if p.poll() is None:
                            p.kill()
                            p.communicate()
            # The same trades, deltas, quotes, windows and stats.
            self.assertEqual(out["sse"], out["ws"])
            self.assertEqual(out["sse"][-1]["calculation_stats"]["trades"], limit)
            # Each recording replays to exactly what was printed live.
            for t in ("sse", "ws"):
                r = studies("multi-delta", "--contract", CONTRACT, "--replay", rec[t], "--json")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(json_lines(r.stdout), out[t], t)

    def test_ctrl_c_prints_the_final_summary(self):
        with Server(simulate=True, args=("--sim-rate", "20")) as server:
            p = start_studies("multi-delta", "--contract", CONTRACT, "--server", server.base_url)
            try:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    st, body = server.json("/stream/active")
                    if body["total_clients"] >= 2:
                        break
                    time.sleep(0.1)
                time.sleep(1.5)
                p.send_signal(2)
                stdout, stderr = p.communicate(timeout=20)
            finally:
                if p.poll() is None:
                    p.kill()
            self.assertEqual(p.returncode, 0, stderr)
            self.assertIn("--- final summary", stdout)
            self.assertIn("ask hit", stdout)


# --------------------------------------------------------------------------
# Live robustness: TWS or the server restarted under a running ib-studies.

def iso_epoch(text):
    """Unix time of an ISO-8601 UTC timestamp ("2026-11-25T18:35:41.218Z")."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def backoff_bounds(k):
    """[lo, hi] ms of the k-th delay after a live connection (tick_source.hpp
    Backoff: 250 ms doubling up to 10 s, drawn from [d/2, d])."""
    d = min(10000, 250 << min(k, 6))
    return d // 2, d


class LiveStudies:
    """A running ib-studies; its stdout and stderr are read on threads and
    every line is kept with its arrival time (time.monotonic())."""

    def __init__(self, test, *args):
        self.proc = start_studies(*args)
        self.cond = threading.Condition()
        self.out, self.err = [], []
        self.threads = [threading.Thread(target=self._read, args=(f, into), daemon=True)
                        for f, into in ((self.proc.stdout, self.out),
                                        (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()
        test.addCleanup(self.kill)

    def _read(self, f, into):
        for line in f:
            with self.cond:
                into.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()

    def rows(self, after=0.0):
        """[(arrival, row)] of the JSON rows that arrived after `after`."""
        with self.cond:
            return [(t, json.loads(line)) for t, line in self.out if t > after and line.strip()]

    def err_lines(self, after=0.0):
        with self.cond:
            return [(t, line) for t, line in self.err if t > after]

    def stderr_text(self):
        return "\n".join(line for _, line in self.err_lines())

    def matches(self, pattern, after=0.0):
        """[(arrival, match)] of the stderr lines after `after` that match."""
        rx = re.compile(pattern)
        return [(t, m) for t, line in self.err_lines(after) for m in [rx.search(line)] if m]

    def wait(self, pred, timeout, what):
        return wait_on(self.cond, pred, timeout, lambda: (
            f"ib-studies: timed out after {timeout}s waiting for {what}; "
            f"{len(self.out)} rows, exit code {self.proc.poll()}, stderr tail:\n"
            + "\n".join(line for _, line in self.err[-25:])))

    def wait_rows(self, n, after=0.0, timeout=20):
        return self.wait(lambda: len(self.rows(after)) >= n and self.rows(after), timeout,
                         f"{n} rows")

    def wait_stderr(self, pattern, after=0.0, timeout=20):
        """The first stderr line after `after` that matches, as (arrival, match)."""
        return self.wait(lambda: self.matches(pattern, after)[:1], timeout, repr(pattern))[0]

    def _join(self):
        for t in self.threads:
            t.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()

    def interrupt(self, timeout=20):
        """Ctrl+C: SIGINT, then its exit code once it has exited."""
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=timeout)
        self._join()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stdout.closed:
            self._join()


class StudiesReconnect(unittest.TestCase):
    """ib-studies --json over a restart of TWS (the simulator) or of the
    server; each test ends with Ctrl+C and checks the final summary."""

    SERVER_ARGS = ("--backoff-max-ms", "1000")

    def new_sim(self, port=0):
        sim = Sim(port=port, seed=7, rate=20)
        self.addCleanup(sim.stop)
        return sim

    def new_server(self, sim, port=0):
        server = Server(sim=sim, args=self.SERVER_ARGS, listen=f"127.0.0.1:{port}")
        self.addCleanup(server.cleanup)
        return server

    def run_studies(self, server, transport):
        return LiveStudies(self, "multi-delta", "--contract", CONTRACT, "--server",
                           server.base_url, "--transport", transport, "--json")

    def assert_rows_after(self, st, after, after_wall, n=5, who=""):
        """n rows arrive after `after`, every one of a trade the server stamped
        after `after_wall` (time.time()): ticks of the new connection, not
        replayed or stale ones."""
        st.wait_rows(n, after=after)
        late = st.rows(after)
        self.assertIsNone(st.proc.poll(), f"{who}: ib-studies exited:\n{st.stderr_text()}")
        stale = [r["timestamp"] for _, r in late if iso_epoch(r["timestamp"]) <= after_wall]
        self.assertEqual(stale, [], f"{who}: rows printed after the restart with ticks stamped "
                                    f"before it (restart at {after_wall:.3f})")
        return late

    def assert_backoff(self, st, pattern, after, until, who):
        """The "reconnecting ... in N ms" notices between `after` and `until`:
        at least one and not many, each delay within the k-th backoff bounds,
        and each attempt (roughly) the announced delay after the previous one."""
        seen = [(t, int(m.group("ms"))) for t, m in st.matches(pattern, after) if t <= until]
        self.assertTrue(seen, f"{who}: no 'reconnecting ... in N ms' notice:\n"
                              f"{st.stderr_text()}")
        for k, (t, ms) in enumerate(seen):
            lo, hi = backoff_bounds(k)
            self.assertTrue(lo <= ms <= hi, f"{who}: delay {k} is {ms} ms, not in [{lo}, {hi}]: "
                                            f"{[d for _, d in seen]}")
        # The server is down for about 1-2 s: a handful of attempts.
        self.assertLessEqual(len(seen), 8, f"{who}: {[d for _, d in seen]}")
        for (t0, ms), (t1, _) in zip(seen, seen[1:]):
            # The reader thread may see a line late: 0.25 s of slack, so only
            # the longer delays are checked.
            if ms >= 400:
                self.assertGreaterEqual(t1 - t0, ms / 1000 - 0.25,
                                        f"{who}: retried before the announced {ms} ms")
        return seen

    def interrupt_and_check_summary(self, st):
        """Ctrl+C: exit 0, the final summary on stderr (--json), counting
        every row printed; stdout nothing but the rows."""
        self.assertIsNone(st.proc.poll(), f"ib-studies exited early:\n{st.stderr_text()}")
        rc = st.interrupt()
        err = st.stderr_text()
        self.assertEqual(rc, 0, err)
        self.assertIn("ib-studies: interrupted (signal 2)", err)
        self.assertIn("--- final summary", err)
        rows = [r for _, r in st.rows()]  # raises if stdout has anything but JSON
        m = re.search(r"since start: trades (\d+) ", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)), len(rows), "the summary counts every row printed")
        self.assertEqual(rows[-1]["calculation_stats"]["trades"], len(rows))
        self.assertEqual([r["calculation_stats"]["trades"] for r in rows],
                         list(range(1, len(rows) + 1)))
        return rows

    def test_sse_rides_through_a_tws_restart(self):
        sim = self.new_sim()
        server = self.new_server(sim)
        st = self.run_studies(server, "sse")
        st.wait_rows(5)
        port = sim.port
        killed = time.monotonic()
        sim.kill()
        # The server keeps both SSE streams open and tells each of them.
        for t in ("BidAsk", "Last"):
            st.wait_stderr(rf"the {t} SSE stream: server error TWS_DISCONNECTED", after=killed,
                           timeout=15)
        # Down long enough for the server's first reconnect attempt to fail.
        time.sleep(max(0.0, killed + 1.0 - time.monotonic()))
        restart_wall = time.time()
        self.new_sim(port=port)
        restarted = time.monotonic()
        for t in ("BidAsk", "Last"):
            st.wait_stderr(rf"the {t} SSE stream: server notice: Reconnected to TWS",
                           after=killed, timeout=20)
        self.assert_rows_after(st, restarted, restart_wall, who="after the TWS restart")
        self.assertEqual(st.matches(r"reconnecting the|connection lost"), [],
                         "the SSE streams stay open through a TWS restart")
        self.interrupt_and_check_summary(st)

    def test_sse_reconnects_with_backoff_after_a_server_restart(self):
        sim = self.new_sim()
        server = self.new_server(sim)
        st = self.run_studies(server, "sse")
        st.wait_rows(5)
        port = server.port
        killed = time.monotonic()
        server.proc.kill()
        server.proc.wait()
        last_ids = {}
        for t in ("BidAsk", "Last"):
            st.wait_stderr(rf"the {t} SSE stream: connection lost", after=killed, timeout=10)
            _, m = st.wait_stderr(rf"reconnecting the {t} SSE stream in \d+ ms", after=killed,
                                  timeout=10)
            # Last-Event-ID: the id of the last tick it got.
            m = re.search(r"\(resuming after id (\d+)\)", m.string)
            self.assertIsNotNone(m, f"{t}: the first reconnect resumes after an id")
            last_ids[t] = int(m.group(1))
        time.sleep(max(0.0, killed + 1.0 - time.monotonic()))  # a few refused attempts
        restart_wall = time.time()
        self.new_server(sim, port=port)
        restarted = time.monotonic()
        for t in ("BidAsk", "Last"):
            back, _ = st.wait_stderr(rf"the {t} SSE stream: reconnected", after=killed,
                                     timeout=20)
            self.assertGreater(back, killed)
            self.assert_backoff(st, rf"reconnecting the {t} SSE stream in (?P<ms>\d+) ms",
                                killed, back, t)
            # The new server never numbered that id: it says so (the gap).
            st.wait_stderr(rf"the {t} SSE stream: server notice: the resume id "
                           r"\(Last-Event-ID\) is unknown", after=killed, timeout=10)
        self.assertTrue(st.matches(r"SSE stream: Connection refused", killed),
                        "attempts while the server was down")
        self.assert_rows_after(st, restarted, restart_wall, who="after the server restart")
        self.interrupt_and_check_summary(st)

    def test_ws_reconnects_with_backoff_after_a_server_restart(self):
        sim = self.new_sim()
        server = self.new_server(sim)
        st = self.run_studies(server, "ws")
        st.wait_rows(5)
        port = server.port
        killed = time.monotonic()
        server.proc.kill()
        server.proc.wait()
        st.wait_stderr(r"WebSocket: connection lost", after=killed, timeout=10)
        st.wait_stderr(r"reconnecting the WebSocket in \d+ ms", after=killed, timeout=10)
        time.sleep(max(0.0, killed + 1.0 - time.monotonic()))
        restart_wall = time.time()
        self.new_server(sim, port=port)
        restarted = time.monotonic()
        back, _ = st.wait_stderr(r"WebSocket reconnected: ticks sent while it was down are lost",
                                 after=killed, timeout=20)
        self.assert_backoff(st, r"reconnecting the WebSocket in (?P<ms>\d+) ms", killed, back,
                            "ws")
        self.assert_rows_after(st, restarted, restart_wall, who="after the server restart")
        self.interrupt_and_check_summary(st)


if __name__ == "__main__":
    unittest.main()
