"""Market hours: streams and a recording ride through a closed market.

ib-tws-sim in real-hours mode (no ticks while a contract's trading hours are
closed) and its admin `hours` command give AAPL and EUR.USD a short break
now: closed from the next minute boundary (at least 15 s away) for one
minute. The server runs with a 2 s watchdog threshold, so `stale` would
certainly fire during the break. Checked:

- an SSE stream and a WebSocket stream of AAPL BidAsk and the recording of
  AAPL BidAsk get `info` market_closed (with next_open) once, then
  market_open right before the first tick after the break;
- during the break /stream/active, /tracked and /health say `closed`; no
  `stale`, no re-request (the simulator's request log); a TWS connection
  dropped during the break is re-requested and closed again;
- the SSE ids go on without a hole, the recording goes on after the open and
  has no gap (not even for the dropped connection: nothing was missed);
- EUR.USD, silenced during the break, stays silent after the open: stale
  after the threshold counted from the open, and re-requested.

Run: cd tests/integration && IBS_BIN_DIR=<build> /usr/bin/python3 -m unittest -v test_market_hours
"""
import datetime
import tempfile
import time
import unittest
import zoneinfo

from serverproc import Server
from streamwatch import AAPL, EURUSD, Listener, Sim
from wsclient import WS

ZONE = zoneinfo.ZoneInfo("US/Eastern")  # AAPL's and EUR.USD's zone in the simulator
THRESHOLD_MS = 2000


def ib_time(t):
    """YYYYMMDD:HHMM local to ZONE of Unix time t (a whole minute)."""
    return datetime.datetime.fromtimestamp(t, ZONE).strftime("%Y%m%d:%H%M")


def break_hours(close, reopen):
    """An hours string: open for an hour before `close`, closed until
    `reopen`, open for two hours after it."""
    return (f"{ib_time(close - 3600)}-{ib_time(close)};"
            f"{ib_time(reopen)}-{ib_time(reopen + 7200)}")


def codes(listener):
    return [ev.json.get("info", {}).get("code") if ev.type == "info" else ev.type
            for ev in listener.blocks()]


def ws_codes(ws):
    return [m.get("info", {}).get("code") if m.get("type") == "info" else m.get("type")
            for m in ws.messages()]


class MarketHours(unittest.TestCase):
    def setUp(self):
        now = time.time()
        self.close = (int(now) // 60 + 1) * 60
        if self.close - now < 15:
            self.close += 60
        self.reopen = self.close + 60
        self.data_dir = tempfile.mkdtemp(prefix="ibs-hours-")
        self.sim = Sim(start_time=int(now) - 2, rate=20.0,
                       extra=("--clock", "wall", "--hours", "real"))
        self.addCleanup(self.sim.stop)
        hours = break_hours(self.close, self.reopen)
        self.sim.admin(f"hours {AAPL} {hours}")
        self.sim.admin(f"hours {EURUSD} {hours}")
        self.server = Server(self.sim, args=(
            "--data-dir", self.data_dir, "--track", f"{AAPL}:BidAsk",
            "--watchdog-silence-ms", THRESHOLD_MS, "--linger-ms", 200))
        self.addCleanup(self.server.cleanup)

    def upstream_state(self, con_id, tick_type):
        active = self.server.json("/stream/active")[1]
        return next((s["state"] for s in active["streams"]
                     if s["contract_id"] == con_id and s["tick_type"] == tick_type), None)

    def tracked(self):
        r = self.server.get("/tracked")
        self.assertEqual(r.status_code, 200, r.text)
        return {f'{t["contract_id"]}:{t["tick_type"]}': t for t in r.json()["tracked"]}

    def test_streams_and_the_recording_ride_through_a_break(self):
        key = f"{AAPL}:BidAsk"
        sse = Listener(self.server, f"/stream/{AAPL}/BidAsk", params={"timeout": 600})
        self.addCleanup(sse.close)
        ws = WS(f"ws://127.0.0.1:{self.server.port}/ws/stream/{AAPL}/BidAsk?timeout=600")
        self.addCleanup(ws.close)
        eur = Listener(self.server, f"/stream/{EURUSD}/MidPoint", params={"timeout": 600})
        self.addCleanup(eur.close)
        sse.wait_ticks(5)
        ws.wait_ticks(5)
        eur.wait(lambda l: len(l.ticks()) >= 3, what="EUR.USD ticks")
        self.server.wait_for(lambda: self.tracked()[key]["ticks_recorded"] > 0, timeout=15)

        # The close: every client hears it once, with the next open.
        wait_s = self.close - time.time() + 10
        sse.wait(lambda l: "market_closed" in codes(l), timeout=wait_s, what="market_closed")
        ws.wait(lambda w: "market_closed" in ws_codes(w), timeout=10, what="market_closed")
        closed_at = time.time()
        tbt_before = len(self.sim.tbt(AAPL))
        recorded_before = self.tracked()[key]["ticks_recorded"]
        info = next(ev.json["info"] for ev in sse.blocks()
                    if ev.type == "info" and ev.json["info"].get("code") == "market_closed")
        expected_open = datetime.datetime.fromtimestamp(self.reopen, datetime.timezone.utc)
        self.assertEqual(info["next_open"], expected_open.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        self.assertEqual(info["details"], info["next_open"])
        self.assertIn("AAPL", info["message"])
        ws_info = next(m["info"] for m in ws.messages()
                       if m.get("type") == "info" and m["info"].get("code") == "market_closed")
        self.assertEqual(ws_info["next_open"], info["next_open"])
        # EUR.USD stays silent when its market opens again.
        eur.wait(lambda l: "market_closed" in codes(l), timeout=10, what="EUR.USD market_closed")
        self.sim.admin(f"silence {EURUSD}")
        eur_tbt = len(self.sim.tbt(EURUSD))

        # The break: closed everywhere, silence well past the threshold.
        time.sleep(max(0.0, closed_at + 3 * THRESHOLD_MS / 1000 - time.time()))
        self.assertEqual(self.upstream_state(AAPL, "BidAsk"), "closed")
        self.assertEqual(self.upstream_state(EURUSD, "MidPoint"), "closed")
        self.assertEqual(self.tracked()[key]["state"], "closed")
        health = self.server.json("/health")[1]
        self.assertGreaterEqual(health["stream_states"].get("closed", 0), 2, health)
        self.assertNotIn("stale", codes(sse))
        self.assertNotIn("stale", ws_codes(ws))
        self.assertEqual(len(self.sim.tbt(AAPL)), tbt_before, "re-requested while closed")
        self.assertEqual(len(self.sim.tbt(EURUSD)), eur_tbt, "re-requested while closed")
        self.assertEqual(self.tracked()[key]["ticks_recorded"], recorded_before)
        # TWS drops the connection during the break: re-requested as always,
        # closed again without a second market_closed, and no gap recorded.
        self.sim.admin("drop")
        sse.wait(lambda l: "reconnected" in codes(l), timeout=15, what="reconnected")
        self.server.wait_for(lambda: self.upstream_state(AAPL, "BidAsk") == "closed", timeout=5)
        self.server.wait_for(lambda: self.tracked()[key]["state"] == "closed", timeout=5)
        tbt_before = len(self.sim.tbt(AAPL))
        eur_tbt = len(self.sim.tbt(EURUSD))

        # The open: market_open right before the first tick after the break.
        ticks_before = len(sse.ticks())
        wait_s = self.reopen - time.time() + 15
        sse.wait(lambda l: len(l.ticks()) > ticks_before + 5, timeout=wait_s,
                 what="ticks after the open")
        c = codes(sse)
        closed_i = c.index("market_closed")
        open_i = c.index("market_open")
        self.assertEqual(c[closed_i + 1:open_i], ["error", "reconnected"],
                         "events during the break")
        self.assertEqual(c[open_i + 1], "tick")
        self.assertEqual(c.count("market_closed"), 1)
        self.assertEqual(c.count("market_open"), 1)
        self.assertNotIn("stale", c)
        ids = sse.ids()
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))), "ids with a hole")
        ws.wait(lambda w: "market_open" in ws_codes(w), timeout=10, what="market_open")
        wc = ws_codes(ws)
        self.assertEqual(wc[wc.index("market_open") + 1], "tick")
        self.assertNotIn("stale", wc)
        self.assertEqual(self.upstream_state(AAPL, "BidAsk"), "live")
        self.assertEqual(len(self.sim.tbt(AAPL)), tbt_before, "re-requested at the open")

        # The recording goes on, with no gap.
        self.server.wait_for(lambda: self.tracked()[key]["ticks_recorded"] > recorded_before + 5,
                             timeout=15)
        t = self.tracked()[key]
        self.assertEqual(t["state"], "live")
        self.assertEqual(t["gaps"]["list"], [], t["gaps"])

        # EUR.USD: silent after the open -> stale after the threshold, re-requested.
        eur.wait(lambda l: "stale" in codes(l), timeout=3 * THRESHOLD_MS / 1000 + 5,
                 what="EUR.USD stale after the open")
        stale_at = next(t for t, ev in eur.events()
                        if ev.type == "info" and ev.json["info"].get("code") == "stale")
        self.assertGreaterEqual(time.time() - (time.monotonic() - stale_at), self.reopen + 1.5)
        self.server.wait_for(lambda: len(self.sim.tbt(EURUSD)) > eur_tbt, timeout=20)
        self.assertNotIn("market_open", codes(eur))


if __name__ == "__main__":
    unittest.main()
