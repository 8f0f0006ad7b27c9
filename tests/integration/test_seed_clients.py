"""The seed document's own clients, unchanged, against ib-stream-server.

shared/seeds/sse-api-server-spec.md shows a Python `requests` client and curl
commands, all against http://localhost:8000. They are run here as written
(tests/integration/seed/python_client.py is the seed's Python example
verbatim), against `ib-stream-server --simulate` listening on 127.0.0.1:8000.
Port 8000 must be free (ctest: RESOURCE_LOCK port8000).
"""
import json
import os
import re
import socket
import subprocess
import unittest

from serverproc import Server
from simproc import binary

HERE = os.path.dirname(os.path.abspath(__file__))
AAPL = 265598
SIM_SEED, SIM_RATE = 3, 200


def port_8000_free():
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", 8000))
        except OSError:
            return False
    return True


def dump(con_id, count, tick_type):
    out = subprocess.run([binary("ib-tws-sim"), "--dump", str(con_id), "--count", str(count),
                          "--seed", str(SIM_SEED), "--rate", str(SIM_RATE)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    ticks = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [t["data"] for t in ticks if t["tick_type"] == tick_type][:count]


def without_times(d):
    return {k: v for k, v in d.items() if k not in ("timestamp", "unix_time")}


def is_window(got, expected):
    n = len(got)
    return any(expected[k:k + n] == got for k in range(len(expected) - n + 1))


class SeedClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not port_8000_free():
            raise AssertionError(
                "port 8000 on 127.0.0.1 is in use: the seed's clients name "
                "http://localhost:8000, so this test needs it free (stop whatever "
                "listens there, e.g. another ib-stream-server)")
        cls.server = Server(simulate=True, listen="127.0.0.1:8000",
                            args=("--sim-seed", SIM_SEED, "--sim-rate", SIM_RATE))
        cls.expected = {"BidAsk": dump(AAPL, 3000, "BidAsk"),
                        "MidPoint": dump(AAPL, 3000, "MidPoint")}

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_listening_on_8000_with_simulator(self):
        self.assertEqual(self.server.port, 8000)
        self.assertIsInstance(self.server.simulator, dict)
        self.assertIsInstance(self.server.simulator["port"], int)

    def test_seed_python_client(self):
        r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "seed", "python_client.py")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 101, r.stdout[-2000:])
        quote = re.compile(r"^Bid: (\d+(\.\d+)?), Ask: (\d+(\.\d+)?)$")
        got = []
        for line in lines[:100]:
            m = quote.match(line)
            self.assertIsNotNone(m, line)
            got.append((float(m.group(1)), float(m.group(3))))
        self.assertEqual(lines[100], "Stream completed: limit_reached")
        expected = [(d["bid_price"], d["ask_price"]) for d in self.expected["BidAsk"]]
        self.assertTrue(is_window(got, expected), f"{got[:3]} not in the seeded market")
        for bid, ask in got:
            self.assertLess(bid, ask)

    def curl(self, url, n, tick_type):
        r = subprocess.run(["curl", "-N", url], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)  # the response ends after `complete`
        out = r.stdout
        self.assertTrue(out.startswith("retry:"), out[:200])
        self.assertNotIn("\nevent:", out)
        events = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("data: ")]
        self.assertEqual(events[0]["type"], "info", events[0])
        ticks = [e for e in events if e["type"] == "tick"]
        self.assertEqual(len(ticks), n)
        self.assertEqual(len(events), n + 2, [e["type"] for e in events])
        self.assertEqual(events[-1]["type"], "complete")
        self.assertEqual(events[-1]["reason"], "limit_reached")
        self.assertEqual(events[-1]["total_ticks"], n)
        ids = [int(line[4:]) for line in out.splitlines() if line.startswith("id: ")]
        self.assertEqual(len(ids), n)
        self.assertEqual(ids, list(range(ids[0], ids[0] + n)))
        # the in-process simulator starts its market at the wall clock: compare
        # everything but the times
        got = [without_times(t["data"]) for t in ticks]
        expected = [without_times(d) for d in self.expected[tick_type]]
        self.assertTrue(is_window(got, expected),
                        f"{got[:2]} not in the seeded market")

    def test_seed_curl_bid_ask(self):
        self.curl("http://localhost:8000/stream/265598?tick_type=BidAsk&limit=100", 100,
                  "BidAsk")

    def test_seed_curl_midpoint(self):
        self.curl("http://localhost:8000/stream/265598?tick_type=MidPoint&limit=50", 50,
                  "MidPoint")


if __name__ == "__main__":
    unittest.main()
