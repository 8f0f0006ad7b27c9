"""ib-studies against a real ib-stream-server and a seeded ib-tws-sim.

The SSE and the WebSocket client run at the same time against one silenced
market; once both have subscribed the market is unsilenced, so both see the
very same ticks (same server timestamps). They must print the same trades
with the same deltas, and --replay of what each recorded must print exactly
what it printed live.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

from serverproc import Server, sim_admin
from simproc import Simulator, binary

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


if __name__ == "__main__":
    unittest.main()
