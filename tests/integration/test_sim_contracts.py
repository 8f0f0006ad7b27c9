"""ib-tws-sim's contract catalog, symbol search and market hours, as a real
process over the TWS socket protocol.

Run: IBS_BIN_DIR=<build dir with ib-tws-sim> /usr/bin/python3 -m unittest -v test_sim_contracts
(from tests/integration). Dates are fixed with --start-time: under the
subscription clock the simulator's date is --start-time plus the time since
it started, and its ticks carry --start-time from the first subscription on.
"""
import calendar
import time
import unittest

from simproc import Simulator
from twsclient import (AdminClient, TwsClient, contract_data, error_of, historical_ticks,
                       is_error, is_historical, is_tick, tick_json)

AAPL, ES_Z6, MNQ_Z6, EURUSD = 265598, 551601777, 711280073, 12087792
WAIT = 30.0


def utc(y, m, d, hh=0, mm=0, ss=0):
    return calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0))


def sim(start_time, hours=None, rate=20.0):
    extra = ["--admin-port", "0", "--hist-pacing", "off"]
    if hours:
        extra += ["--hours", hours]
    return Simulator(seed=5, start_time=start_time, rate=rate, extra=extra)


def connect(s, client_id=1):
    c = TwsClient(s.port, timeout=WAIT)
    burst = c.connect(client_id)
    assert burst[0][0] == "15", burst
    return c


def details(c, req_id, con_id=0, **contract):
    """CONTRACT_DATA frames until the END (returned last) or an ERR_MSG."""
    c.req_contract_details(req_id, con_id, **contract)
    frames = [c.read_frame()]
    while frames[-1][0] == "10":
        frames.append(c.read_frame())
    return frames


def samples(frame):
    """SYMBOL_SAMPLES at 187 -> (req_id, [dict])."""
    assert frame[0] == "79", frame
    out, pos = [], 3
    for _ in range(int(frame[2])):
        n = int(frame[pos + 5])
        out.append(dict(con_id=int(frame[pos]), symbol=frame[pos + 1], sec_type=frame[pos + 2],
                        primary_exchange=frame[pos + 3], currency=frame[pos + 4],
                        derivative_sec_types=frame[pos + 6:pos + 6 + n],
                        description=frame[pos + 6 + n], issuer_id=frame[pos + 7 + n]))
        pos += 8 + n
    assert pos == len(frame), frame
    return int(frame[1]), out


def barrier(c, keep):
    c.req_current_time()
    c.read_until(lambda f: f[0] == "49", keep=keep)


# ====================================================================== details
class ContractDetailsByDescription(unittest.TestCase):
    """Wednesday 2026-12-09 15:00 UTC: ES/MNQ Z6, H7, M7, U7 are listed.
    Real hours: the details report the exchanges' sessions."""

    @classmethod
    def setUpClass(cls):
        cls.sim = sim(utc(2026, 12, 9, 15), hours="real")
        cls.c = connect(cls.sim)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sim.stop()

    def test_one_match(self):
        frames = details(self.c, 1, symbol="AAPL", sec_type="STK", exchange="SMART",
                         currency="USD")
        self.assertEqual(len(frames), 2, frames)
        self.assertEqual(frames[1], ["52", "1", "1"])
        cd = contract_data(frames[0])
        self.assertEqual((cd["con_id"], cd["time_zone_id"]), (AAPL, "US/Eastern"))
        self.assertEqual(cd["trading_hours"],
                         "20261209:0400-20261209:2000;20261210:0400-20261210:2000;"
                         "20261211:0400-20261211:2000;20261212:CLOSED;20261213:CLOSED;"
                         "20261214:0400-20261214:2000;20261215:0400-20261215:2000")
        self.assertTrue(cd["liquid_hours"].startswith("20261209:0930-20261209:1600;"))

    def test_several_futures_months_then_one_end(self):
        frames = details(self.c, 2, symbol="ES", sec_type="FUT", exchange="CME", currency="USD")
        self.assertEqual(frames[-1], ["52", "1", "2"])
        months = [contract_data(f) for f in frames[:-1]]
        got = sorted((m["last_trade_date_or_contract_month"], m["local_symbol"], m["con_id"],
                      m["contract_month"]) for m in months)
        self.assertEqual(got, [("20261218", "ESZ6", ES_Z6, "202612"),
                               ("20270319", "ESH7", 901002703, "202703"),
                               ("20270618", "ESM7", 901002706, "202706"),
                               ("20270917", "ESU7", 901002709, "202709")])
        for m in months:
            self.assertEqual(m["req_id"], 2)
            self.assertEqual(m["time_zone_id"], "US/Central")
            self.assertTrue(m["trading_hours"].startswith(
                "20261208:1700-20261209:1600;20261209:1700-20261210:1600;"), m["trading_hours"])
            self.assertTrue(m["liquid_hours"].startswith("20261209:0830-20261209:1500;"))
            self.assertEqual(m["_unread"], 0)

    def test_no_match_is_200_without_end(self):
        self.c.req_contract_details(3, symbol="NOPE", sec_type="STK")
        self.assertEqual(error_of(self.c.read_frame()),
                         (3, 200, "No security definition has been found for the request"))
        seen = []
        barrier(self.c, seen)
        self.assertEqual(seen, [], "nothing after error 200")

    def test_by_expiry(self):
        for req_id, expiry in ((4, "202703"), (5, "20270319"), (6, "2027031")):
            frames = details(self.c, req_id, symbol="ES", sec_type="FUT", exchange="CME",
                             expiry=expiry)
            self.assertEqual(len(frames), 2, (expiry, frames))
            self.assertEqual(contract_data(frames[0])["local_symbol"], "ESH7", expiry)
        frames = details(self.c, 7, symbol="ES", sec_type="FUT", expiry="202701")
        self.assertTrue(is_error(frames[0], 200, 7), frames)

    def test_by_local_symbol(self):
        frames = details(self.c, 8, local_symbol="MNQH7")
        self.assertEqual(len(frames), 2, frames)
        cd = contract_data(frames[0])
        self.assertEqual((cd["con_id"], cd["symbol"], cd["multiplier"]), (902002703, "MNQ", "2"))
        frames = details(self.c, 9, local_symbol="EUR.USD")
        cd = contract_data(frames[0])
        self.assertEqual((cd["con_id"], cd["time_zone_id"]), (EURUSD, "US/Eastern"))
        self.assertTrue(cd["trading_hours"].startswith("20261208:1715-20261209:1700;"))

    def test_new_stocks(self):
        want = {272093: ("MSFT", "MICROSOFT CORP", "NASDAQ", "COMMON", "US5949181045"),
                4815747: ("NVDA", "NVIDIA CORP", "NASDAQ", "COMMON", "US67066G1040"),
                3691937: ("AMZN", "AMAZON.COM INC", "NASDAQ", "COMMON", "US0231351067"),
                756733: ("SPY", "SPDR S&P 500 ETF TRUST", "ARCA", "ETF", "US78462F1030")}
        for req_id, (con_id, (symbol, name, primary, stock_type, isin)) in enumerate(
                want.items(), start=20):
            frames = details(self.c, req_id, symbol=symbol, sec_type="STK", currency="USD")
            self.assertEqual(len(frames), 2, frames)
            cd = contract_data(frames[0])
            self.assertEqual((cd["con_id"], cd["long_name"], cd["primary_exchange"],
                              cd["stock_type"], cd["sec_ids"]),
                             (con_id, name, primary, stock_type, {"ISIN": isin}))
            self.assertNotEqual(cd["industry"], "")


class DateFollowsTheClock(unittest.TestCase):
    def test_months_roll_over_midnight_and_expired_months_answer_by_con_id(self):
        # 23:59:56 Central on Friday 2026-12-18, ESZ6's last trading day.
        with sim(utc(2026, 12, 19, 5, 59, 56)) as s, connect(s) as c:
            def listed():
                frames = details(c, 1, symbol="ES", sec_type="FUT", exchange="CME")
                return sorted(contract_data(f)["local_symbol"] for f in frames[:-1])
            self.assertEqual(listed(), ["ESH7", "ESM7", "ESU7", "ESZ6"])
            time.sleep(5)
            self.assertEqual(listed(), ["ESH7", "ESM7", "ESU7", "ESZ7"])
            frames = details(c, 2, ES_Z6)
            cd = contract_data(frames[0])
            self.assertEqual((cd["local_symbol"], frames[1]), ("ESZ6", ["52", "1", "2"]))
            # The week of the new date (around the clock: --hours always).
            self.assertTrue(cd["trading_hours"].startswith("20261219:0000-20261220:0000;"),
                            cd["trading_hours"])
            self.assertTrue(cd["liquid_hours"].startswith("20261219:CLOSED;20261220:CLOSED;"
                                                          "20261221:0830-20261221:1500;"),
                            cd["liquid_hours"])
            # tick-by-tick by conId of the expired month still works
            c.req_tick_by_tick(3, ES_Z6, "BidAsk")
            c.read_until(lambda f: is_tick(f, 3))


# ====================================================================== symbols
class MatchingSymbols(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = sim(utc(2026, 12, 9, 15))
        cls.c = connect(cls.sim)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sim.stop()

    def search(self, req_id, pattern):
        self.c.send_fields([81, req_id, pattern])
        got_id, found = samples(self.c.read_until(lambda f: f[0] == "79"))
        self.assertEqual(got_id, req_id)
        return found

    def test_prefix_of_the_symbol(self):
        self.assertEqual(self.search(1, "AAPL"), [dict(
            con_id=AAPL, symbol="AAPL", sec_type="STK", primary_exchange="NASDAQ",
            currency="USD", derivative_sec_types=["OPT", "WAR"], description="APPLE INC",
            issuer_id="")])
        self.assertEqual([d["symbol"] for d in self.search(2, "a")], ["AAPL", "AMZN"])

    def test_word_of_the_name_stocks_first(self):
        found = self.search(3, "MICRO")
        self.assertEqual([(d["symbol"], d["sec_type"]) for d in found],
                         [("MSFT", "STK"), ("MNQ", "IND")])
        self.assertEqual(found[1]["derivative_sec_types"], ["FUT", "FOP"])
        self.assertEqual(found[1]["description"], "Micro E-Mini Nasdaq-100")
        self.assertEqual([d["symbol"] for d in self.search(4, "etf")], ["SPY"])

    def test_limit_and_nothing(self):
        for req_id, pattern in ((5, "e"), (6, "m"), (7, "s")):
            found = self.search(req_id, pattern)
            self.assertTrue(0 < len(found) <= 16, found)
            kinds = [d["sec_type"] for d in found]
            self.assertEqual(kinds, sorted(kinds, key=["STK", "IND", "CASH"].index), kinds)
        self.assertEqual(self.search(8, "zzz"), [])
        self.assertEqual(self.search(9, ""), [])

    def test_request_log(self):
        self.search(10, "nvd")
        wanted = [r for r in self.sim.requests() if r.get("msg") == "reqMatchingSymbols"]
        self.assertIn({"req_id": 10, "pattern": "nvd"},
                      [{"req_id": r["req_id"], "pattern": r["pattern"]} for r in wanted])


# ====================================================================== hours
class RealHours(unittest.TestCase):
    def test_always_mode_reports_trading_around_the_clock(self):
        with sim(utc(2026, 12, 12, 15)) as s, connect(s) as c:
            cd = contract_data(details(c, 1, AAPL)[0])
            self.assertEqual(cd["trading_hours"],
                             "20261212:0000-20261213:0000;20261213:0000-20261214:0000;"
                             "20261214:0000-20261215:0000;20261215:0000-20261216:0000;"
                             "20261216:0000-20261217:0000;20261217:0000-20261218:0000;"
                             "20261218:0000-20261219:0000")
            self.assertTrue(cd["liquid_hours"].startswith(
                "20261212:CLOSED;20261213:CLOSED;20261214:0930-20261214:1600;"), cd)

    def test_saturday_no_ticks_no_history_details_answer(self):
        saturday = utc(2026, 12, 5, 15)
        with sim(saturday, hours="real") as s, connect(s) as c, AdminClient(s.admin_port) as a:
            self.assertEqual(a.status()["hours"], "real")
            for req_id, con_id in ((1, AAPL), (2, ES_Z6), (3, EURUSD)):
                c.req_tick_by_tick(req_id, con_id, "BidAsk")
            seen = c.read_for(3.0)
            self.assertEqual([f for f in seen if is_tick(f)], [], "no ticks on a Saturday")
            markets = {m["con_id"]: m["events"] for m in a.status()["markets"]}
            self.assertGreater(markets[AAPL], 20, "the market runs; its ticks are not delivered")
            c.req_historical_ticks(4, AAPL, start="20261205-15:00:00", count=100, what="TRADES")
            f = c.read_until(lambda f: is_error(f, req_id=4) or is_historical(f, 4))
            self.assertTrue(is_error(f, 162, 4), f)
            self.assertIn("HMDS query returned no data", error_of(f)[2])
            frames = details(c, 5, AAPL)
            cd = contract_data(frames[0])
            self.assertTrue(cd["trading_hours"].startswith("20261205:CLOSED;20261206:CLOSED;"
                                                           "20261207:0400-20261207:2000"))

    def test_override_breaks_the_ticks_for_a_minute(self):
        # AAPL, 10:00 New York (15:00 UTC) on Monday 2026-12-07: a session
        # closing at 10:00 and the next opening at 10:01. The ticks carry
        # --start-time, 3 s before the close, from the subscription on.
        close = utc(2026, 12, 7, 15)
        reopen = close + 60
        with sim(close - 3, hours="real") as s, connect(s) as c, AdminClient(s.admin_port) as a:
            trading = "20261207:0400-20261207:1000;20261207:1001-20261207:2000"
            self.assertTrue(a.command(f"hours {AAPL} {trading}").startswith("ok"))
            self.assertEqual(a.status()["hours_overrides"],
                             [{"con_id": AAPL, "trading_hours": trading,
                               "liquid_hours": trading}])
            cd = contract_data(details(c, 1, AAPL)[0])
            self.assertEqual((cd["trading_hours"], cd["liquid_hours"]), (trading, trading))
            c.req_tick_by_tick(2, AAPL, "BidAsk")
            started = time.monotonic()
            ticks = []
            while not ticks or ticks[-1]["unix_time"] < reopen:
                f = c.read_frame(75.0)
                if is_tick(f, 2):
                    ticks.append(tick_json(f))
            self.assertLess(time.monotonic() - started, 70.0)
            before = [t for t in ticks if t["unix_time"] < close]
            self.assertGreater(len(before), 10, "ticks until the close")
            self.assertEqual([t for t in ticks if close <= t["unix_time"] < reopen], [],
                             "nothing while closed")
            # The delivered ticks are the market's: history of the open part agrees.
            c.req_historical_ticks(3, AAPL, start="20261207-14:59:57", count=1000, what="BID_ASK")
            hist, done = historical_ticks(c.read_until(lambda f: is_historical(f, 3)))
            self.assertTrue(done)
            self.assertFalse([t for t in hist if close <= t["unix_time"] < reopen])
            self.assertEqual(len([t for t in hist if t["unix_time"] < close]), len(before))
            self.assertEqual(a.command(f"hours {AAPL} reset"), f"ok {AAPL} hours reset")
            self.assertTrue(a.command(f"hours {AAPL} reset").startswith("error"))
            self.assertTrue(a.command(f"hours {AAPL} 2026:bad").startswith("error bad hours"))
            cd = contract_data(details(c, 4, AAPL)[0])
            self.assertTrue(cd["trading_hours"].startswith("20261207:0400-20261207:2000;"))


if __name__ == "__main__":
    unittest.main()
