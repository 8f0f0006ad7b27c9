"""ib-stream, the command-line streamer, as a real process against ib-tws-sim."""
import json
import re
import signal
import subprocess
import time
import unittest

from simproc import Simulator, binary, free_port, run_stream

TYPES = ["Last", "AllLast", "BidAsk", "MidPoint"]
AAPL = 265598


class JsonOutput(unittest.TestCase):
    def check_type(self, tick_type, con_id=AAPL, n=20):
        with Simulator(seed=11, rate=200) as sim:
            r = run_stream([str(con_id), "-n", str(n), "--type", tick_type, "--json",
                            "--port", str(sim.port), "--client-id", "21"])
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertEqual(len(lines), n, r.stdout)
            got = [json.loads(line) for line in lines]  # nothing but JSON on stdout
            expected = sim.dump(con_id, n, tick_type)
            self.assertEqual(len(expected), n)
            for i, (g, e) in enumerate(zip(got, expected)):
                self.assertEqual(g, e, f"{tick_type} tick {i}")
            self.assertIn("Reached limit of", r.stderr)
            return got

    def test_bid_ask(self):
        ticks = self.check_type("BidAsk")
        for t in ticks:
            self.assertEqual(t["type"], "bid_ask")
            self.assertLess(t["bid_price"], t["ask_price"])
            self.assertEqual(set(t), {"type", "timestamp", "unix_time", "bid_price", "ask_price",
                                      "bid_size", "ask_size", "bid_past_low", "ask_past_high"})

    def test_last(self):
        for t in self.check_type("Last"):
            self.assertEqual(t["type"], "time_sales")
            self.assertEqual(t["tick_type"], "Last")
            self.assertEqual(set(t), {"type", "tick_type", "timestamp", "unix_time", "price",
                                      "size", "exchange", "conditions", "past_limit",
                                      "unreported"})

    def test_all_last(self):
        for t in self.check_type("AllLast"):
            self.assertEqual(t["tick_type"], "AllLast")

    def test_mid_point(self):
        for t in self.check_type("MidPoint"):
            self.assertEqual(set(t), {"type", "timestamp", "unix_time", "midpoint"})

    def test_futures_and_fx(self):
        self.check_type("BidAsk", con_id=711280073, n=10)
        self.check_type("Last", con_id=12087792, n=10)

    def test_timestamps_are_utc_of_unix_time(self):
        ticks = self.check_type("BidAsk", n=5)
        for t in ticks:
            self.assertEqual(t["timestamp"],
                             time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t["unix_time"])))


class ServerVersions(unittest.TestCase):
    """The client lays out and reads every message for the version TWS answers."""

    def test_older_tws_versions(self):
        for version in (137, 140, 152, 163, 176, 186):
            with Simulator(seed=5, rate=200, extra=("--server-version", str(version))) as sim:
                for client_id, tick_type in ((30, "BidAsk"), (31, "AllLast")):
                    r = run_stream([str(AAPL), "-n", "5", "--type", tick_type, "--json",
                                    "--port", str(sim.port), "--client-id", str(client_id)])
                    self.assertEqual(r.returncode, 0, f"v{version}: {r.stderr}")
                    got = [json.loads(x) for x in r.stdout.splitlines()]
                    if tick_type == "BidAsk":  # the market starts with the first request
                        self.assertEqual(got, sim.dump(AAPL, 5, tick_type), f"v{version}")
                    else:
                        self.assertEqual(len(got), 5)
                        self.assertTrue(all(t["tick_type"] == "AllLast" for t in got))
                requests = sim.requests()
                self.assertIn("reqContractDetails", [q["msg"] for q in requests])

    def test_tws_without_tick_by_tick_is_refused_locally(self):
        with Simulator(extra=("--server-version", "120")) as sim:
            r = run_stream([str(AAPL), "-n", "1", "--port", str(sim.port)])
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("does not support tick-by-tick", r.stderr)
            self.assertNotIn("reqTickByTickData", [q["msg"] for q in sim.requests()])


class ConsoleOutput(unittest.TestCase):
    def test_console_lines(self):
        with Simulator(seed=3, rate=200) as sim:
            r = run_stream([str(AAPL), "-n", "20", "-t", "BidAsk", "--port", str(sim.port)])
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertEqual(lines[0], "Streaming BidAsk ticks for contract 265598 (max 20 ticks)")
            self.assertTrue(lines[1].startswith("Contract: AAPL STK AAPL @ SMART (NASDAQ) USD"),
                            lines[1])
            quote = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| Bid: +\d+\.\d{4} x +\S+ "
                               r"\| Ask: +\d+\.\d{4} x +\S+( \| (BPL|APH)( APH)?)?$")
            ticks = lines[2:-1]
            self.assertEqual(len(ticks), 20, r.stdout)
            for line in ticks:
                self.assertRegex(line, quote)
            self.assertEqual(lines[-1], "Reached limit of 20 ticks")
            expected = sim.dump(AAPL, 20, "BidAsk")
            for line, e in zip(ticks, expected):
                self.assertIn(f"Bid: {e['bid_price']:10.4f}", line)
                self.assertIn(f"Ask: {e['ask_price']:10.4f}", line)

    def test_trade_and_midpoint_lines(self):
        with Simulator(seed=3, rate=200) as sim:
            r = run_stream([str(AAPL), "-n", "5", "-t", "Last", "--port", str(sim.port)])
            self.assertEqual(r.returncode, 0, r.stderr)
            expected = sim.dump(AAPL, 5, "Last")
            for line, e in zip(r.stdout.splitlines()[2:7], expected):
                self.assertRegex(line, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| +\d+\.\d{4} \| +\S+ \| +\S+")
                self.assertIn(f"{e['price']:10.4f}", line)
                self.assertIn(e["exchange"], line)
        with Simulator(seed=3, rate=200) as sim:
            r = run_stream([str(12087792), "-n", "5", "-t", "MidPoint", "--port", str(sim.port)])
            self.assertEqual(r.returncode, 0, r.stderr)
            expected = sim.dump(12087792, 5, "MidPoint")
            for line, e in zip(r.stdout.splitlines()[2:7], expected):
                # EUR.USD ticks in 0.00005: five decimals
                self.assertIn(f"MidPoint: {e['midpoint']:10.5f}", line)


class Errors(unittest.TestCase):
    def test_unknown_contract_exits_3(self):
        with Simulator() as sim:
            r = run_stream(["999999", "--port", str(sim.port), "-n", "1"])
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("contract 999999 not found", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_tws_not_running_exits_1_with_help(self):
        p1, p2 = free_port(), free_port()
        r = run_stream(["265598", "--ports", f"{p1},{p2}", "-n", "1"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"port {p1}", r.stderr)
        self.assertIn(f"port {p2}", r.stderr)
        self.assertIn("Enable ActiveX and Socket Clients", r.stderr)
        self.assertIn("--simulate", r.stderr)

    def test_usage_error_exits_2(self):
        for args in (["-1.5"], ["ABC:FUTURE"], ["265598", "--type", "Trades"], []):
            r = run_stream(args)
            self.assertEqual(r.returncode, 2, args)

    def test_duplicate_client_id_exits_1(self):
        with Simulator() as sim:
            first = subprocess.Popen([binary("ib-stream"), str(AAPL), "--port", str(sim.port),
                                      "--client-id", "5", "--json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                self.assertTrue(first.stdout.readline())  # streaming with id 5
                r = run_stream([str(AAPL), "--port", str(sim.port), "--client-id", "5", "-n", "1"])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("client id 5 is already in use", r.stderr)
                self.assertIn("--client-id", r.stderr)
                self.assertIsNone(first.poll())  # the first client is unharmed
            finally:
                first.send_signal(signal.SIGINT)
                first.wait(timeout=10)
                first.stdout.close()

    def test_subscription_refused_exits_4(self):
        with Simulator() as sim:
            r = run_stream(["76792991", "--port", str(sim.port), "-n", "1"])  # no permissions
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("10089", r.stderr)


class Lifecycle(unittest.TestCase):
    def test_ctrl_c_cancels_and_disconnects(self):
        with Simulator(rate=100) as sim:
            p = subprocess.Popen([binary("ib-stream"), str(AAPL), "--port", str(sim.port),
                                  "--json", "-t", "BidAsk"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3):
                self.assertTrue(p.stdout.readline())
            p.send_signal(signal.SIGINT)
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()
            self.assertEqual(p.returncode, 0)
            deadline = time.time() + 5
            while time.time() < deadline:
                msgs = [r["msg"] for r in sim.requests()]
                if "cancelTickByTickData" in msgs:
                    break
                time.sleep(0.1)
            self.assertIn("reqTickByTickData", msgs)
            self.assertIn("cancelTickByTickData", msgs)

    def test_simulate_flag(self):
        r = run_stream(["--simulate", "265598", "-n", "20", "--type", "BidAsk"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 23, r.stdout)
        self.assertEqual(lines[-1], "Reached limit of 20 ticks")
        r = run_stream(["--simulate", "265598", "-n", "20", "--type", "BidAsk", "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        ticks = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(ticks), 20)
        self.assertTrue(all(t["type"] == "bid_ask" and t["bid_price"] < t["ask_price"]
                            for t in ticks))


if __name__ == "__main__":
    unittest.main()
