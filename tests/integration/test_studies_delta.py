"""GET /studies/{contract}/delta: the multi-delta study of ib-studies run by
the server (README "Multi-delta stream"), one SSE event per classified trade.

DeltaLive: the server's delta stream and `ib-studies multi-delta --json` on
one silenced market of a seeded ib-tws-sim; once all four client streams
are in (the delta stream's Last and BidAsk, ib-studies' two), the market is
unsilenced, so both see the same ticks from the same first one: the
server's trade events carry, object for object, what ib-studies printed
(classification, quote, window summary, cumulative delta, statistics,
timestamps). Also: a contract spec in the path, 400 naming `duration`, 404
for an unknown contract (id or spec), 503 without TWS.

DeltaRecorded: a recording server (--track MNQ:BidAsk,Last) over a
wall-clock market; `duration=1h` sends the record's trades first (source
"record", the record's Last ticks in order), an `info` live, then live
trades: cumulative delta continuous across the switch, no trade missing or
twice (the record read afterwards holds exactly the trades sent, in order).

DeltaSlowConsumer: the SSE streams' slow-client rule (README "Slow
clients"): a client that reads far less than its delta stream sends is
ended with `error` SLOW_CONSUMER, and both of its client streams leave.
"""
import json
import unittest

from serverproc import Server, sim_admin
from simproc import Simulator
from streamwatch import ServerCase, Sim
from test_slow_clients import FAST, SlowReader, sse_events, sse_request
from test_studies import CONTRACT, json_lines, start_studies
from test_studies_history import RecordedContract, record_trades, trades_of

AAPL = 265598


def trade_events(events):
    return [e.json for e in events if e.type == "trade"]


def assert_continuous(test, trades):
    """Each trade's cumulative delta is the previous one's plus its delta,
    and the study counted every trade once."""
    for prev, cur in zip(trades, trades[1:]):
        test.assertEqual(cur["data"]["summary"]["cumulative_delta"],
                         prev["data"]["summary"]["cumulative_delta"]
                         + cur["data"]["current_trade"]["delta"])
        test.assertEqual(cur["data"]["calculation_stats"]["trades"],
                         prev["data"]["calculation_stats"]["trades"] + 1)


class DeltaLive(unittest.TestCase):
    def test_server_and_ib_studies_agree(self):
        n = 30
        with Simulator(seed=7, start_time=1700000000, rate=10,
                       extra=("--admin-port", "0")) as sim:
            self.assertTrue(sim_admin(sim.admin_port, f"silence {CONTRACT}").startswith("ok"))
            with Server(sim=sim) as server:
                stream = server.stream(f"/studies/{CONTRACT}/delta", params={"limit": n},
                                       timeout=30)
                self.addCleanup(stream.close)
                self.assertEqual(stream.status, 200)
                self.assertTrue(stream.headers["content-type"].startswith("text/event-stream"))
                first = stream.next_event()
                self.assertEqual(first.type, "info", first)
                info = first.json["info"]
                self.assertEqual(info["code"], "started")
                self.assertEqual(info["study"], "multi_delta")
                self.assertEqual(info["tick_types"], ["BidAsk", "Last"])
                self.assertEqual(info["contract"]["symbol"], "MNQ")
                self.assertIsNone(info["history_from"])
                p = start_studies("multi-delta", "--contract", CONTRACT, "--server",
                                  server.base_url, "--json", "--limit", n)
                try:
                    server.wait_for(
                        lambda: server.json("/stream/active")[1]["total_clients"] >= 4,
                        timeout=20, what="4 client streams")
                    self.assertTrue(sim_admin(sim.admin_port,
                                              f"unsilence {CONTRACT}").startswith("ok"))
                    rest = stream.read_to_end(timeout=60)
                    stdout, stderr = p.communicate(timeout=60)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.communicate()
                self.assertEqual(p.returncode, 0, stderr)
        events = [b for b in rest if b.data is not None]
        trades = trade_events(events)
        self.assertEqual(len(trades), n, [e.json for e in events if e.type != "trade"])
        self.assertEqual(events[-1].type, "complete")
        self.assertEqual(events[-1].json["reason"], "limit_reached")
        self.assertEqual(events[-1].json["total_ticks"], n)
        self.assertTrue(all(b.id is None for b in events), "no ids: a delta stream does not resume")
        for t in trades:
            self.assertEqual(t["contract_id"], CONTRACT)
            self.assertEqual(t["source"], "live")
            self.assertEqual(t["timestamp"], t["data"]["timestamp"])
        # What ib-studies printed, object for object.
        self.assertEqual([t["data"] for t in trades], json_lines(stdout))
        assert_continuous(self, trades)

    def test_errors(self):
        with Simulator(seed=7, start_time=1700000000, rate=10) as sim:
            with Server(sim=sim) as server:
                for query in ("duration=25h", "duration=1x", "duration=0s",
                              "duration=1h&duration=2h"):
                    r = server.get(f"/studies/{CONTRACT}/delta?{query}")
                    self.assertEqual(r.status_code, 400, query)
                    self.assertEqual(r.json()["error"]["code"], "INVALID_PARAMETER")
                    self.assertIn("duration", r.json()["error"]["message"], query)
                r = server.get(f"/studies/{CONTRACT}/delta?timeout=1")
                self.assertEqual(r.status_code, 400)
                self.assertIn("timeout", r.json()["error"]["message"])
                for contract in ("999999", "NOSUCHSYMBOL"):
                    r = server.get(f"/studies/{contract}/delta", timeout=30)
                    self.assertEqual(r.status_code, 404, r.text)
                    self.assertEqual(r.json()["error"]["code"], "CONTRACT_NOT_FOUND", contract)
                r = server.request("POST", f"/studies/{CONTRACT}/delta")
                self.assertEqual(r.status_code, 405)
                # A spec resolves like on /stream: AAPL's trades.
                stream = server.stream("/studies/AAPL/delta", params={"limit": 3}, timeout=30)
                self.addCleanup(stream.close)
                self.assertEqual(stream.status, 200)
                events = [b for b in stream.read_to_end(timeout=30) if b.data is not None]
                self.assertEqual(events[0].json["contract_id"], AAPL)
                self.assertEqual(len(trade_events(events)), 3)
                self.assertEqual(events[-1].json["reason"], "limit_reached")
                # Both streams were closed with the response.
                server.wait_for(lambda: server.json("/stream/active")[1]["total_clients"] == 0,
                                timeout=10, what="no client streams left")

    def test_no_tws_is_503(self):
        with Server(args=("--connection-timeout", 1)) as server:
            r = server.get(f"/studies/{CONTRACT}/delta", timeout=20)
            self.assertEqual(r.status_code, 503, r.text)
            self.assertEqual(r.json()["error"]["code"], "TWS_UNAVAILABLE")


class DeltaRecorded(RecordedContract):
    min_recorded = 30

    def history(self):
        r = self.server.get(f"/history/{CONTRACT}/Last",
                            params={"format": "ndjson", "limit": 100000})
        self.assertEqual(r.status_code, 200, r.text)
        return [json.loads(line) for line in r.text.splitlines() if line.strip()]

    def test_record_then_live(self):
        before = self.history()
        live_wanted = 25
        limit = len(before) + live_wanted  # at least that many come from the record
        stream = self.server.stream(f"/studies/{CONTRACT}/delta",
                                    params={"duration": "1h", "limit": limit}, timeout=30)
        self.addCleanup(stream.close)
        self.assertEqual(stream.status, 200)
        events = [b for b in stream.read_to_end(timeout=60) if b.data is not None]
        self.assertEqual(events[0].json["info"]["code"], "started")
        self.assertIsNotNone(events[0].json["info"]["history_from"])
        live_at = next(i for i, e in enumerate(events)
                       if e.type == "info" and e.json["info"].get("code") == "live")
        trades = trade_events(events)
        record_part = trade_events(events[:live_at])
        live_part = trade_events(events[live_at:])
        self.assertEqual(events[live_at].json["info"]["record_trades"], len(record_part))
        self.assertGreaterEqual(len(record_part), len(before))
        self.assertTrue(all(t["source"] == "record" for t in record_part))
        self.assertTrue(all(t["source"] == "live" for t in live_part))
        self.assertGreater(len(live_part), 0)
        self.assertEqual(len(trades), limit)
        self.assertEqual(events[-1].json["reason"], "limit_reached")
        # The record's trades first, in the record's order.
        rows = [t["data"] for t in trades]
        self.assertEqual(trades_of(rows)[:len(before)], record_trades(before))
        # One cumulative delta across the switch.
        assert_continuous(self, trades)
        self.assertEqual(trades[-1]["data"]["calculation_stats"]["trades"], limit)
        # No trade missing or twice at the switch: once recorded, the record
        # holds exactly these trades, in this order.
        self.server.wait_for(lambda: len(self.history()) >= limit, timeout=10,
                             what=f"{limit} trades recorded")
        self.assertEqual(trades_of(rows), record_trades(self.history())[:limit])


class DeltaSlowConsumer(ServerCase):
    sim_rate = FAST
    server_args = ("--buffer-size", "50", "--slow-consumer-seconds", "2", "--linger-ms", "500")

    def active_ports(self, port):
        return [c for c in self.active()["clients"]
                if str(c.get("remote", "")).endswith(f":{port}")]

    def test_a_client_that_stays_behind_is_ended(self):
        sock = sse_request(self.server, f"/studies/{CONTRACT}/delta")
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        reader = SlowReader(sock)
        self.server.wait_for(lambda: len(self.active_ports(port)) == 2, timeout=10,
                             what="the delta stream's two client streams")
        self.server.wait_for(lambda: not self.active_ports(port), timeout=30,
                             what="the slow client ended")
        reader.fast()  # it is owed the error: read the rest up to the close
        data = reader.result(self)
        events = [ev for _, ev in sse_events(data)]
        self.assertGreater(len([e for e in events if e["type"] == "trade"]), 0)
        self.assertEqual(events[-1]["type"], "error", events[-1])
        self.assertEqual(events[-1]["error"]["code"], "SLOW_CONSUMER")


if __name__ == "__main__":
    unittest.main()
