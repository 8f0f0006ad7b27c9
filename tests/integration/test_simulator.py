"""ib-tws-sim as a real process, driven over the TWS socket protocol.

Run: IBS_BIN_DIR=<build dir with ib-tws-sim> /usr/bin/python3 -m unittest -v test_simulator
(from tests/integration). Every test starts its own simulator on free ports
(--port 0 / --admin-port 0), so tests are independent; waits are generous
and nothing asserts wall-clock performance.
"""
import json
import re
import signal
import socket
import struct
import subprocess
import time
import unittest

from simproc import Simulator as SimProcess, binary
from twsclient import (AdminClient, ConnectionClosed, TwsClient, contract_data, error_of,
                       historical_ticks, is_error, is_historical, is_tick, tick_json)

AAPL, MNQ, ES, EURUSD, TSLA = 265598, 711280073, 551601777, 12087792, 76792991
TYPES = ["Last", "AllLast", "BidAsk", "MidPoint"]
START = 1700000000
WAIT = 60.0  # upper bound for anything that should take a second or two

FARM_BURST = [
    ["4", "2", "-1", "2104", "Market data farm connection is OK:usfarm", ""],
    ["4", "2", "-1", "2104", "Market data farm connection is OK:usfuture", ""],
    ["4", "2", "-1", "2104", "Market data farm connection is OK:cashfarm", ""],
    ["4", "2", "-1", "2106", "HMDS data farm connection is OK:ushmds", ""],
    ["4", "2", "-1", "2158", "Sec-def data farm connection is OK:secdefnj", ""],
]


class Simulator(SimProcess):
    def stop(self):
        super().stop()
        if self.proc.stdout:
            self.proc.stdout.close()


def sim(seed=11, rate=200.0, admin=True, extra=(), start_time=START):
    args = list(extra)
    if admin:
        args += ["--admin-port", "0"]
    return Simulator(seed=seed, start_time=start_time, rate=rate, extra=args)


def dump(s, con_id, count, rate=None, seed=None):
    """Every record of `ib-tws-sim --dump` (tick_type, index, event, data)."""
    out = subprocess.run(
        [binary("ib-tws-sim"), "--dump", str(con_id), "--count", str(count),
         "--seed", str(s.seed if seed is None else seed), "--start-time", str(s.start_time),
         "--rate", str(s.rate if rate is None else rate)],
        check=True, capture_output=True, text=True, timeout=WAIT).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def by_type(records, tick_type):
    return [r for r in records if r["tick_type"] == tick_type]


def client(s, client_id, options=""):
    c = TwsClient(s.port, timeout=WAIT)
    burst = c.connect(client_id, options)
    assert burst[0][0] == "15" and burst[1][0] == "9", burst
    return c


def collect(c, wanted, timeout=WAIT, others=None):
    """Reads until every reqId in `wanted` ({req_id: n}) has n ticks; returns
    {req_id: [tick dict]}. Non-tick frames go to `others`."""
    got = {r: [] for r in wanted}
    deadline = time.monotonic() + timeout
    while any(len(got[r]) < n for r, n in wanted.items()):
        frame = c.read_frame(max(0.001, deadline - time.monotonic()))
        if is_tick(frame) and int(frame[1]) in got:
            got[int(frame[1])].append(tick_json(frame))
        elif others is not None:
            others.append(frame)
    return got


def window_offset(got, want):
    """Offset k where got == want[k:k+len(got)], else None."""
    for k in range(0, len(want) - len(got) + 1):
        if want[k:k + len(got)] == got:
            return k
    return None


def barrier(c, keep=None):
    """reqCurrentTime and wait for its answer: everything the simulator sent
    before has then been read (frames go to `keep`)."""
    c.req_current_time()
    return c.read_until(lambda f: f[0] == "49", keep=keep)


def wait_for(predicate, timeout=WAIT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ====================================================================== handshake
class Handshake(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_listening_line(self):
        self.assertGreater(self.sim.port, 0)
        self.assertGreater(self.sim.admin_port, 0)

    def test_hello_then_silence_then_burst_in_order(self):
        with TwsClient(self.sim.port) as c:
            version, conn_time = c.handshake()
            self.assertEqual(version, 187)
            self.assertRegex(conn_time, r"^\d{8} \d\d:\d\d:\d\d \S+$")
            self.assertEqual(c.read_for(0.5), [], "nothing may be sent before startApi")
            c.start_api(1)
            burst = c.read_frames(7)
            self.assertEqual(burst[0], ["15", "1", "DU1234567"])
            self.assertEqual(burst[1], ["9", "1", "1"])
            self.assertEqual(burst[2:], FARM_BURST)

    def test_version_negotiation(self):
        for lo, hi, options, expected in [(100, 150, "", 150), (100, 200, "", 187),
                                          (100, 100, "", 100), (100, 187, "+PACEAPI", 187),
                                          (150, 193, "+PACEAPI", 187)]:
            with TwsClient(self.sim.port) as c:
                self.assertEqual(c.handshake(lo, hi, options)[0], expected, (lo, hi, options))

    def test_no_common_version_closes(self):
        with TwsClient(self.sim.port) as c:
            c.send_raw(b"API\0" + struct.pack(">I", 9) + b"v188..200")
            self.assertEqual(c.expect_closed(), [])

    def test_garbage_handshake_closes(self):
        for junk in [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"API\0" + struct.pack(">I", 5) + b"hello",
                     b"API\0" + struct.pack(">I", 0)]:
            with TwsClient(self.sim.port) as c:
                c.send_raw(junk)
                self.assertEqual(c.expect_closed(), [], junk)

    def test_simple_requests(self):
        with client(self.sim, 2) as c:
            c.req_ids()
            self.assertEqual(c.read_frame(), ["9", "1", "1"])
            c.req_managed_accts()
            self.assertEqual(c.read_frame(), ["15", "1", "DU1234567"])
            c.req_current_time()
            f = c.read_frame()
            self.assertEqual(f[:2], ["49", "1"])
            self.assertLess(abs(int(f[2]) - time.time()), 600)
            c.req_market_data_type(3)  # no direct reply
            self.assertEqual(barrier(c)[0], "49")

    def test_requests_before_start_api_are_ignored(self):
        with TwsClient(self.sim.port) as c:
            c.handshake()
            c.req_current_time()
            self.assertEqual(c.read_for(0.5), [])
            c.start_api(3)
            self.assertEqual(len(c.read_frames(7)), 7)
            self.assertEqual(barrier(c)[0], "49")

    def test_older_server_version_layouts(self):
        with sim(admin=False, extra=["--server-version", "150"]) as s:
            with TwsClient(s.port) as c:
                self.assertEqual(c.handshake()[0], 150)
                c.start_api(1)
                burst = c.read_frames(7)
                # ERR_MSG has no advancedOrderRejectJson below 166.
                self.assertEqual(burst[2], ["4", "2", "-1", "2104",
                                            "Market data farm connection is OK:usfarm"])
                c.req_contract_details(5, AAPL)
                cd = contract_data(c.read_frame(), 150)
                self.assertEqual(cd["version"], "8")
                self.assertEqual((cd["symbol"], cd["con_id"], cd["_unread"]), ("AAPL", AAPL, 0))
                self.assertEqual(cd["md_size_multiplier"], "1")
                self.assertEqual(c.read_frame(), ["52", "1", "5"])


# ====================================================================== contracts
class ContractDetails(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = sim(admin=False)
        cls.c = client(cls.sim, 1)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sim.stop()

    def details(self, req_id, con_id=0, **contract):
        self.c.req_contract_details(req_id, con_id, **contract)
        frames = [self.c.read_frame()]
        while frames[-1][0] == "10":
            frames.append(self.c.read_frame())
        return frames

    def test_catalog_contracts(self):
        expected = {
            AAPL: dict(symbol="AAPL", sec_type="STK", exchange="SMART", primary_exchange="NASDAQ",
                       currency="USD", local_symbol="AAPL", trading_class="NMS", min_tick=0.01,
                       long_name="APPLE INC", multiplier="", stock_type="COMMON",
                       market_name="NMS", time_zone_id="US/Eastern"),
            TSLA: dict(symbol="TSLA", sec_type="STK", exchange="SMART", primary_exchange="NASDAQ",
                       currency="USD", local_symbol="TSLA", min_tick=0.01, stock_type="COMMON"),
            MNQ: dict(symbol="MNQ", sec_type="FUT", exchange="CME", currency="USD",
                      local_symbol="MNQZ6", trading_class="MNQ", min_tick=0.25, multiplier="2",
                      last_trade_date_or_contract_month="20261218", last_trade_date="20261218",
                      long_name="Micro E-Mini Nasdaq-100", time_zone_id="US/Central"),
            ES: dict(symbol="ES", sec_type="FUT", exchange="CME", currency="USD",
                     local_symbol="ESZ6", trading_class="ES", min_tick=0.25, multiplier="50",
                     last_trade_date_or_contract_month="20261218"),
            EURUSD: dict(symbol="EUR", sec_type="CASH", exchange="IDEALPRO", currency="USD",
                         local_symbol="EUR.USD", trading_class="EUR.USD", min_tick=0.00005,
                         long_name="European Monetary Union Euro"),
        }
        for req_id, (con_id, want) in enumerate(expected.items(), start=100):
            frames = self.details(req_id, con_id)
            self.assertEqual(len(frames), 2, frames)
            self.assertEqual(frames[1], ["52", "1", str(req_id)])
            cd = contract_data(frames[0])
            k, m = len(cd["sec_ids"]), len(cd["ineligibility_reasons"])
            self.assertEqual(cd["_field_count"], 42 + 2 * k + 2 * m, "layout at 187")
            self.assertEqual(cd["_unread"], 0)
            self.assertEqual((cd["req_id"], cd["con_id"]), (req_id, con_id))
            for key, value in want.items():
                self.assertEqual(cd[key], value, f"{con_id} {key}")
            valid = cd["valid_exchanges"].split(",")
            self.assertEqual(len(cd["market_rule_ids"].split(",")), len(valid))
            self.assertIn(cd["exchange"], valid)
            self.assertIn("LMT", cd["order_types"].split(","))
            self.assertGreaterEqual(cd["price_magnifier"], 1)
            self.assertRegex(cd["trading_hours"], r"^\d{8}:(CLOSED|\d{4}-\d{8}:\d{4})(;|$)")
            self.assertRegex(cd["liquid_hours"], r"^\d{8}:")
            self.assertIn("20231114:", cd["trading_hours"].split(";")[0], "week of --start-time")
            for key in ("min_size", "size_increment", "suggested_size_increment"):
                self.assertGreater(cd[key], 0)
            self.assertEqual(cd["strike"], 0)
        aapl = contract_data(self.details(1, AAPL)[0])
        self.assertEqual(aapl["sec_ids"], {"ISIN": "US0378331005"})
        self.assertEqual(aapl["industry"], "Technology")

    def test_unknown_con_id_gives_200_and_no_end(self):
        self.c.req_contract_details(7, 999)
        f = self.c.read_frame()
        self.assertEqual(error_of(f), (7, 200, "No security definition has been found for the "
                                              "request"))
        seen = []
        barrier(self.c, keep=seen)
        self.assertEqual(seen, [], "no CONTRACT_DATA_END after error 200")

    def test_lookup_by_symbol(self):
        cd = contract_data(self.details(8, symbol="AAPL", sec_type="STK", currency="USD")[0])
        self.assertEqual(cd["con_id"], AAPL)
        cd = contract_data(self.details(9, symbol="EUR", sec_type="CASH", exchange="IDEALPRO")[0])
        self.assertEqual(cd["con_id"], EURUSD)
        # The simulator's date is that of --start-time (2023-11-14): ESZ3 is listed.
        cd = contract_data(self.details(10, local_symbol="ESZ3")[0])
        self.assertEqual(cd["con_id"], 901002312)
        f = self.details(11, symbol="NOPE", sec_type="STK")
        self.assertTrue(is_error(f[0], 200, 11), f)


# ====================================================================== streams
class Streams(unittest.TestCase):
    def check_first_subscriber(self, con_id, tick_type, n):
        with sim(seed=21, admin=False) as s:
            with client(s, 5) as c:
                c.req_tick_by_tick(42, con_id, tick_type)
                got = collect(c, {42: n})[42]
            want = [r["data"] for r in by_type(dump(s, con_id, n), tick_type)]
        self.assertEqual(len(want), n)
        for i, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(g, w, f"{con_id} {tick_type} tick {i}")

    def test_each_tick_type_matches_dump_from_index_0(self):
        for tick_type in TYPES:
            with self.subTest(tick_type=tick_type):
                self.check_first_subscriber(AAPL, tick_type, 40)

    def test_other_contracts_match_dump(self):
        for con_id, tick_type in [(MNQ, "BidAsk"), (ES, "AllLast"), (EURUSD, "MidPoint"),
                                  (EURUSD, "Last")]:
            with self.subTest(con_id=con_id, tick_type=tick_type):
                self.check_first_subscriber(con_id, tick_type, 20)

    def test_all_types_at_once_are_windows_of_the_dump(self):
        with sim(seed=5, admin=False) as s:
            with client(s, 5) as c:
                c.send_raw(b"".join(c.tick_by_tick_frame(10 + i, AAPL, t)
                                    for i, t in enumerate(TYPES)))
                got = collect(c, {10: 20, 11: 20, 12: 40, 13: 20})
            records = dump(s, AAPL, 400)
        for i, t in enumerate(TYPES):
            want = [r["data"] for r in by_type(records, t)]
            k = window_offset(got[10 + i], want)
            self.assertIsNotNone(k, f"{t}: not a contiguous window of the dump")
            if i == 0:
                self.assertEqual(k, 0, "the first subscriber sees the market from event 0")

    def test_ignore_size_gets_only_price_changes(self):
        with sim(seed=12, admin=False) as s:
            with client(s, 5) as c:
                c.req_tick_by_tick(3, AAPL, "BidAsk", ignore_size=True)
                got = collect(c, {3: 25})[3]
            quotes = [r["data"] for r in by_type(dump(s, AAPL, 400), "BidAsk")]
        want, prev = [], None
        for q in quotes:
            if prev is None or (q["bid_price"], q["ask_price"]) != prev:
                want.append(q)
            prev = (q["bid_price"], q["ask_price"])
        self.assertEqual(got, want[:25])
        self.assertLess(len(want), len(quotes), "some quotes change only a size")

    def test_two_clients_share_the_market(self):
        with sim(seed=8, rate=100, admin=False) as s:
            with client(s, 1) as a, client(s, 2) as b:
                a.req_tick_by_tick(1, AAPL, "BidAsk")
                first = collect(a, {1: 10})[1]
                b.req_tick_by_tick(7, AAPL, "BidAsk")
                b_ticks = collect(b, {7: 30})[7]
                a_ticks = first + collect(a, {1: 60})[1]
            want = [r["data"] for r in by_type(dump(s, AAPL, 400), "BidAsk")]
        self.assertEqual(window_offset(a_ticks, want), 0)
        k = window_offset(b_ticks, a_ticks)
        self.assertIsNotNone(k, "the second client sees the same ticks as the first")
        self.assertGreater(k, 0, "and joins the running market, not a new one")

    def test_last_is_a_strict_subset_of_all_last(self):
        with sim(seed=3, admin=False) as s:
            for con_id in (AAPL, MNQ, ES, EURUSD):
                records = dump(s, con_id, 600)
                last = {r["event"]: r["data"] for r in by_type(records, "Last")}
                all_last = {r["event"]: r["data"] for r in by_type(records, "AllLast")}
                horizon = min(max(last), max(all_last))
                last = {e: d for e, d in last.items() if e <= horizon}
                all_last = {e: d for e, d in all_last.items() if e <= horizon}
                self.assertTrue(set(last) < set(all_last), f"{con_id}: AllLast has more trades")
                for e, d in last.items():
                    self.assertEqual({**d, "tick_type": "AllLast"}, all_last[e])
                    self.assertEqual((d["conditions"], d["unreported"]), ("", False))
                for e in set(all_last) - set(last):
                    d = all_last[e]
                    self.assertTrue(d["conditions"] in ("I", "T") or d["unreported"], d)
                    if d["conditions"] == "I":
                        self.assertLess(d["size"], 100)

    def test_quotes_trades_and_midpoints_are_consistent(self):
        spec = {AAPL: (0.01, {"NASDAQ", "ARCA", "NYSE", "IEX", "EDGX", "BATS"}, 100),
                MNQ: (0.25, {"CME"}, 1), ES: (0.25, {"CME"}, 1),
                EURUSD: (0.00005, {"IDEALPRO"}, 100000)}
        with sim(seed=99, admin=False) as s:
            for con_id, (tick, venues, lot) in spec.items():
                records = dump(s, con_id, 800)
                # Each type stops after 800 ticks: check the events all types cover.
                horizon = min(by_type(records, t)[-1]["event"] for t in TYPES)
                records = [r for r in records if r["event"] <= horizon]
                quote = None
                prev_mid = None
                quotes_at = {}
                for r in records:
                    d = r["data"]
                    if r["tick_type"] == "BidAsk":
                        self.assertLess(d["bid_price"], d["ask_price"])
                        spread = round((d["ask_price"] - d["bid_price"]) / tick)
                        self.assertIn(spread, (1, 2, 3))
                        for p in (d["bid_price"], d["ask_price"]):
                            self.assertAlmostEqual(p / tick, round(p / tick), places=6)
                        self.assertEqual(d["bid_size"] % lot, 0)
                        self.assertEqual(d["ask_size"] % lot, 0)
                        quotes_at[r["event"]] = d
                    elif r["tick_type"] == "MidPoint":
                        q = quotes_at[r["event"]]  # emitted with the quote that moved it
                        self.assertAlmostEqual(d["midpoint"], (q["bid_price"] + q["ask_price"]) / 2,
                                               places=9)
                        self.assertNotEqual(d["midpoint"], prev_mid)
                        prev_mid = d["midpoint"]
                    elif r["tick_type"] == "AllLast":
                        self.assertIn(d["exchange"], venues)
                        if quote is not None:  # trades print at or inside the touch
                            self.assertGreaterEqual(d["price"], quote["bid_price"] - 1e-9)
                            self.assertLessEqual(d["price"], quote["ask_price"] + 1e-9)
                    if r["tick_type"] == "BidAsk":
                        quote = d

    def test_dump_is_deterministic_and_time_follows_rate(self):
        with sim(seed=17, rate=50, admin=False) as s:
            a = dump(s, AAPL, 300)
            self.assertEqual(a, dump(s, AAPL, 300))
            self.assertNotEqual(a, dump(s, AAPL, 300, seed=18))
            fast = dump(s, AAPL, 300, rate=200)
        strip = lambda recs: [{k: v for k, v in r["data"].items()
                               if k not in ("timestamp", "unix_time")} for r in recs]
        self.assertEqual(strip(a), strip(fast), "the rate changes times, not the market")
        for recs, rate in ((a, 50), (fast, 200)):
            for r in recs:
                self.assertEqual(r["data"]["unix_time"], START + r["event"] // rate)
        for t in TYPES:
            self.assertEqual([r["index"] for r in by_type(a, t)], list(range(300)))

    def test_cancel_stops_the_stream(self):
        with sim(seed=2, admin=False) as s, client(s, 3) as c:
            c.req_tick_by_tick(4, AAPL, "BidAsk")
            collect(c, {4: 5})
            c.cancel_tick_by_tick(4)
            c.cancel_tick_by_tick(12345)  # unknown: ignored, no reply
            barrier(c)
            later = c.read_for(1.0)
            self.assertEqual([f for f in later if is_tick(f)], [])
            self.assertEqual(later, [])


# ====================================================================== limits
class Limits(unittest.TestCase):
    def test_duplicate_client_id_gets_326_and_close(self):
        with sim(admin=False) as s, client(s, 5) as first:
            with TwsClient(s.port) as dup:
                dup.handshake()
                dup.start_api(5)
                frames = dup.expect_closed()
            self.assertEqual(frames, [["4", "2", "-1", "326", "Unable to connect as the client id "
                                       "is already in use. Retry with a unique client id.", ""]])
            self.assertEqual(barrier(first)[0], "49", "the first client is unharmed")

    def test_client_id_is_held_after_a_drop(self):
        with sim(admin=False, extra=["--client-id-hold", "3"]) as s:
            c = client(s, 9)
            c.close()
            with TwsClient(s.port) as again:
                again.handshake()
                again.start_api(9)
                self.assertTrue(is_error(again.read_frame(), 326, -1))

            def reconnect():
                with TwsClient(s.port) as later:
                    later.handshake()
                    later.start_api(9)
                    return later.read_frame()[0] == "15"
            wait_for(reconnect, what="client id 9 to be free again")

    def test_sixth_tick_by_tick_gets_10190(self):
        with sim(admin=False) as s, client(s, 1) as a, client(s, 2) as b:
            for i, t in enumerate(TYPES):
                a.req_tick_by_tick(i + 1, AAPL, t)
            b.req_tick_by_tick(1, MNQ, "BidAsk")
            collect(b, {1: 1})
            b.req_tick_by_tick(2, ES, "BidAsk")
            f = b.read_until(lambda f: f[0] == "4")
            self.assertEqual(error_of(f), (2, 10190,
                                           "Max number of tick-by-tick requests has been reached."))
            a.cancel_tick_by_tick(1)
            barrier(a)
            b.req_tick_by_tick(2, ES, "BidAsk")
            collect(b, {2: 1})

    def test_subscription_errors(self):
        with sim(admin=False) as s, client(s, 1) as c:
            cases = [
                (10, TSLA, "BidAsk", 10089, "Requested market data requires additional "
                 "subscription for API. See link in 'Market Data Connections' dialog for more "
                 "details."),
                (11, AAPL, "bidask", 321, "Error validating request.-'bB' : cause - Tick-by-tick "
                 "data type is incorrect/not set."),
                (12, AAPL, "Trades", 321, None),
                (13, 999, "Last", 200, "No security definition has been found for the request"),
            ]
            for req_id, con_id, t, code, text in cases:
                c.req_tick_by_tick(req_id, con_id, t)
                f = c.read_until(lambda f: f[0] == "4")
                self.assertEqual(error_of(f)[:2], (req_id, code), f)
                if text:
                    self.assertEqual(error_of(f)[2], text)
            c.req_tick_by_tick(14, AAPL, "Last")
            c.req_tick_by_tick(14, AAPL, "BidAsk")
            f = c.read_until(lambda f: f[0] == "4")
            self.assertEqual(error_of(f), (14, 322, "Error processing request.-'bB' : cause - "
                                                    "Duplicate ticker id"))
            c.req_contract_details(15, TSLA)  # details work without market-data permission
            self.assertEqual(c.read_until(lambda f: f[0] in ("10", "4"))[0], "10")


# ====================================================================== pacing
class Pacing(unittest.TestCase):
    RATE_TEXT = re.compile(r"^Max rate of messages per second has been exceeded:max=50 "
                           r"rec=(\d+) \(1\)$")

    def test_over_the_limit_gets_100_and_then_disconnect(self):
        with sim(admin=False) as s, client(s, 6) as c:
            time.sleep(1.2)  # startApi counts too: let it leave the window
            c.send_raw(b"".join(struct.pack(">I", 5) + b"49\x001\x00" for _ in range(80)))
            frames = c.read_frames(80)
            answers = [f for f in frames if f[0] == "49"]
            errors = [f for f in frames if is_error(f, 100, -1)]
            self.assertEqual((len(answers), len(errors)), (50, 30), frames[:3])
            for f in errors:
                self.assertRegex(f[4], self.RATE_TEXT)
            time.sleep(1.2)
            self.assertEqual(barrier(c)[0], "49", "one violating second is tolerated")
            closed = False
            for _ in range(8):
                time.sleep(1.2)
                try:
                    c.send_raw(b"".join(struct.pack(">I", 5) + b"49\x001\x00" for _ in range(70)))
                    c.read_frames(70, timeout=WAIT)
                except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
            if not closed:
                c.expect_closed()
            dropped = [r for r in s.requests() if r.get("dropped")]
            self.assertGreaterEqual(len(dropped), 30)
            self.assertTrue(all(r["msg"] == "reqCurrentTime" for r in dropped))

    def test_paceapi_delays_instead_of_rejecting(self):
        with sim(admin=False) as s, client(s, 6, options="+PACEAPI") as c:
            start = time.monotonic()
            c.send_raw(b"".join(struct.pack(">I", 5) + b"49\x001\x00" for _ in range(120)))
            frames = c.read_frames(120)
            elapsed = time.monotonic() - start
            self.assertEqual([f[0] for f in frames], ["49"] * 120)
            # 120 requests at 50 per rolling second need two full windows.
            self.assertGreaterEqual(elapsed, 1.5)
            self.assertEqual(barrier(c)[0], "49")


# ====================================================================== faults
class Faults(unittest.TestCase):
    def setUp(self):
        self.sim = sim(seed=4, rate=100)
        self.admin = AdminClient(self.sim.admin_port)

    def tearDown(self):
        self.admin.close()
        self.sim.stop()

    def streaming(self, client_id, con_id=AAPL, req_id=1, tick_type="BidAsk"):
        c = client(self.sim, client_id)
        c.req_tick_by_tick(req_id, con_id, tick_type)
        collect(c, {req_id: 3})
        return c

    def test_status(self):
        with self.streaming(3) as c:
            c.req_tick_by_tick(2, EURUSD, "MidPoint")
            collect(c, {2: 1})
            st = self.admin.status()
        self.assertTrue(st["listening"])
        self.assertEqual(st["port"], self.sim.port)
        self.assertEqual([x["client_id"] for x in st["connections"]], [3])
        subs = sorted((x["con_id"], x["tick_type"], x["req_id"]) for x in st["subscriptions"])
        self.assertEqual(subs, [(AAPL, "BidAsk", 1), (EURUSD, "MidPoint", 2)])
        self.assertGreater(st["served_ticks"], 0)
        self.assertEqual({m["con_id"] for m in st["markets"]}, {AAPL, EURUSD})

    def test_bad_commands(self):
        for line in ["", "nope", "restored", "restored sometimes", "silence", "silence 5",
                     "rate 265598", "rate 265598 -1", "refuse x", "farm-down eufarm", "drop x"]:
            self.assertTrue(self.admin.command(line).startswith("error "), line)
        self.assertTrue(self.admin.command("help").startswith("ok "))

    def test_drop(self):
        a, b = self.streaming(1), self.streaming(2, MNQ)
        self.assertTrue(self.admin.command("drop").startswith("ok"))
        a.expect_closed()
        b.expect_closed()
        self.assertEqual(self.admin.status()["connections"], [])
        self.assertEqual(self.admin.status()["subscriptions"], [])

    def test_lost_then_restored_maintained(self):
        with self.streaming(1) as c:
            self.assertTrue(self.admin.command("lost").startswith("ok"))
            c.read_until(lambda f: is_error(f, 1100, -1))
            self.assertEqual([f for f in c.read_for(0.7) if is_tick(f)], [], "no ticks while lost")
            self.admin.command("restored maintained")
            self.assertEqual(error_of(c.read_frame())[:2], (-1, 1102))
            collect(c, {1: 5})

    def test_restored_lost_forgets_subscriptions(self):
        with self.streaming(1) as c:
            self.admin.command("lost")
            c.read_until(lambda f: is_error(f, 1100, -1))
            self.admin.command("restored lost")
            c.read_until(lambda f: is_error(f, 1101, -1))
            self.assertEqual([f for f in c.read_for(0.7) if is_tick(f)], [])
            self.assertEqual(self.admin.status()["subscriptions"], [])
            c.req_tick_by_tick(1, AAPL, "BidAsk")  # same reqId: no 322, streams again
            collect(c, {1: 3})

    def test_farm_flap_maintains_subscriptions(self):
        with self.streaming(1) as c:
            self.admin.command("farm-flap 800")
            c.read_until(lambda f: is_error(f, 2103, -1))
            between = []
            c.read_until(lambda f: is_error(f, 2104, -1), keep=between)
            self.assertEqual([f for f in between if is_tick(f)], [], "no usfarm ticks while broken")
            collect(c, {1: 3})

    def test_farm_flap_silent_forgets_everything(self):
        with self.streaming(1) as c:
            c.req_tick_by_tick(2, MNQ, "BidAsk")
            collect(c, {2: 1})
            self.admin.command("farm-flap silent 300")
            c.read_until(lambda f: is_error(f, 2103, -1))
            c.read_until(lambda f: is_error(f, 2104, -1))
            barrier(c)
            self.assertEqual([f for f in c.read_for(1.0) if is_tick(f)], [])
            self.assertEqual(self.admin.status()["subscriptions"], [])

    def test_farm_down_stops_only_that_farm(self):
        with self.streaming(1) as c:
            c.req_tick_by_tick(2, EURUSD, "BidAsk")
            collect(c, {2: 1})
            self.admin.command("farm-down cashfarm")
            c.read_until(lambda f: is_error(f, 2103, -1))
            frames = c.read_for(1.0)
            self.assertTrue(any(is_tick(f, 1) for f in frames), "AAPL (usfarm) keeps streaming")
            self.assertFalse(any(is_tick(f, 2) for f in frames), "EUR.USD (cashfarm) stops")
            with client(self.sim, 2) as late:  # the connect burst reports the broken farm
                pass
            self.admin.command("farm-up cashfarm")
            c.read_until(lambda f: is_error(f, 2104, -1))
            collect(c, {2: 2})

    def test_connect_burst_reports_a_broken_farm(self):
        self.admin.command("farm-down usfuture")
        with TwsClient(self.sim.port) as c:
            burst = c.connect(4)
        self.assertEqual(burst[3], ["4", "2", "-1", "2103",
                                    "Market data farm connection is broken:usfuture", ""])

    def test_silence_with_10197_and_unsilence(self):
        with self.streaming(1) as c:
            self.assertTrue(self.admin.command(f"silence {AAPL} 10197").startswith("ok"))
            f = c.read_until(lambda f: f[0] == "4")
            self.assertEqual(error_of(f), (1, 10197, "No market data during competing live "
                                                     "session"))
            c.req_tick_by_tick(2, AAPL, "Last")  # new subscription: accepted, silent, 10197
            f = c.read_until(lambda f: f[0] == "4")
            self.assertEqual(error_of(f)[:2], (2, 10197))
            self.assertEqual([f for f in c.read_for(0.7) if is_tick(f)], [])
            self.admin.command(f"unsilence {AAPL}")
            collect(c, {1: 3, 2: 1})

    def test_silence_without_notice(self):
        with self.streaming(1) as c:
            self.admin.command(f"silence {AAPL}")
            barrier(c)
            frames = c.read_for(0.7)
            self.assertEqual(frames, [])
            self.assertEqual(len(self.admin.status()["subscriptions"]), 1)

    def test_refuse_closes_and_reopens_the_port(self):
        c = self.streaming(7)
        reply = self.admin.command("refuse 1.5")
        self.assertTrue(reply.startswith("ok"), reply)
        c.expect_closed()
        c.close()
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.sim.port), timeout=5).close()
        self.assertFalse(self.admin.status()["listening"])

        def reconnect():
            try:
                with TwsClient(self.sim.port) as again:
                    return again.connect(7)[0][0] == "15"  # same client id: holds forgotten
            except OSError:
                return False
        wait_for(reconnect, what="the API port to reopen")

    def test_rate(self):
        reply = self.admin.command(f"rate {MNQ} 1000")
        self.assertTrue(reply.startswith("ok"), reply)
        with self.streaming(1, MNQ):
            markets = {m["con_id"]: m for m in self.admin.status()["markets"]}
            self.assertEqual(markets[MNQ]["rate"], 1000)
            self.assertTrue(self.admin.command(f"rate {MNQ} 5").startswith("ok"))
            markets = {m["con_id"]: m for m in self.admin.status()["markets"]}
            self.assertEqual(markets[MNQ]["rate"], 5)


# ====================================================================== robustness
class Robustness(unittest.TestCase):
    def test_bad_input_only_hurts_its_own_connection(self):
        with sim(seed=6, rate=100) as s, client(s, 1) as streamer:
            streamer.req_tick_by_tick(1, AAPL, "BidAsk")
            collect(streamer, {1: 3})
            with client(s, 2) as c:  # malformed but framed: logged and skipped
                c.send_fields(["97", "x"])
                c.send_fields(["abc"])
                c.send_raw(struct.pack(">I", 4) + b"49\x001")  # no final NUL
                c.send_fields(["4242"])  # unknown request id
                self.assertEqual(barrier(c)[0], "49")
            for client_id, junk in [(3, struct.pack(">I", 0)), (4, struct.pack(">I", 0xFFFFFFFF)),
                                    (5, struct.pack(">I", 0x01000000) + b"x")]:
                with client(s, client_id) as c:
                    c.send_raw(junk)
                    c.expect_closed()
            half = TwsClient(s.port)
            half.handshake()
            half.send_raw(struct.pack(">I", 100) + b"71\x00")
            half.close()
            before = len(collect(streamer, {1: 5})[1])
            self.assertEqual(before, 5, "the other client keeps streaming")
            logged = [r for r in s.requests() if r.get("malformed")]
            self.assertGreaterEqual(len(logged), 3)

    def test_request_log(self):
        with sim(admin=False) as s, client(s, 4) as c:
            c.req_tick_by_tick(5, AAPL, "BidAsk")
            c.cancel_tick_by_tick(5)
            c.req_contract_details(6, MNQ)
            c.req_market_data_type(3)
            c.send_fields([2, 2, 77])  # cancelMktData: known id, not emulated
            barrier(c)
            log = wait_for(lambda: [r for r in s.requests() if r["msg"] == "reqCurrentTime"]
                           and s.requests(), what="request log")
        self.assertEqual(log[0], {"event": "request", "client_id": 4, "msg": "startApi"})
        self.assertEqual(log[1:6], [
            {"event": "request", "client_id": 4, "msg": "reqTickByTickData", "req_id": 5,
             "con_id": AAPL, "tick_type": "BidAsk"},
            {"event": "request", "client_id": 4, "msg": "cancelTickByTickData", "req_id": 5},
            {"event": "request", "client_id": 4, "msg": "reqContractDetails", "req_id": 6,
             "con_id": MNQ},
            {"event": "request", "client_id": 4, "msg": "reqMarketDataType",
             "market_data_type": 3},
            {"event": "request", "client_id": 4, "msg": "other:2"},
        ])

    def test_signals_exit_0(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            s = sim(admin=False)
            with client(s, 1) as c:
                c.req_tick_by_tick(1, AAPL, "BidAsk")
                collect(c, {1: 2})
                s.proc.send_signal(sig)
                self.assertEqual(s.proc.wait(timeout=WAIT), 0, sig)
            s.stop()

    def test_bad_command_line(self):
        for args in (["--rate", "0"], ["--server-version", "200"], ["--contract-rate", "x"],
                     ["--dump", "999"]):
            r = subprocess.run([binary("ib-tws-sim"), *args], capture_output=True, text=True,
                               timeout=WAIT)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(r.stdout, "", args)



# ====================================================================== historical ticks
DUMP_TYPE = {"TRADES": "AllLast", "BID_ASK": "BidAsk", "MIDPOINT": "MidPoint"}
WHATS = list(DUMP_TYPE)


def utc(t):
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(t))


def dump_range(s, con_id, t_from, t_to, start_time=None, rate=None):
    """`ib-tws-sim --dump --from --to`: {tick_type: [data]} of ticks in [from, to)."""
    out = subprocess.run(
        [binary("ib-tws-sim"), "--dump", str(con_id), "--seed", str(s.seed),
         "--start-time", str(s.start_time if start_time is None else start_time),
         "--rate", str(s.rate if rate is None else rate), "--from", str(t_from),
         "--to", str(t_to)],
        check=True, capture_output=True, text=True, timeout=WAIT).stdout
    got = {t: [] for t in TYPES}
    for line in out.splitlines():
        rec = json.loads(line)
        got[rec["tick_type"]].append(rec["data"])
    return got


def history(c, req_id, con_id, **kw):
    """reqHistoricalTicks; its ticks (one reply, done = 1) or (id, code, text)."""
    c.req_historical_ticks(req_id, con_id, **kw)
    f = c.read_until(lambda f: is_historical(f, req_id) or is_error(f, req_id=req_id))
    if is_error(f):
        return error_of(f)
    ticks, done = historical_ticks(f)
    assert done, f[:4]
    return ticks


def price_moves(quotes):
    """The BidAsk ticks whose prices moved (what ignoreSize=1 keeps), given
    every quote from the market's first."""
    out, last = [], None
    for q in quotes:
        if (q["bid_price"], q["ask_price"]) != last:
            out.append(q)
        last = (q["bid_price"], q["ask_price"])
    return out


class HistoricalTicks(unittest.TestCase):
    """Subscription clock: AAPL's market runs from START once subscribed."""

    @classmethod
    def setUpClass(cls):
        cls.sim = sim(seed=31, rate=200.0, extra=["--hist-pacing", "off"])
        cls.c = client(cls.sim, 9)
        cls.c.req_tick_by_tick(1, AAPL, "MidPoint")
        cls.c.read_until(lambda f: is_tick(f, 1) and int(f[3]) >= START + 5)
        cls.want = dump_range(cls.sim, AAPL, START, START + 5)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.sim.stop()

    def window(self, what, t_from, t_to):
        return [t for t in self.want[DUMP_TYPE[what]] if t_from <= t["unix_time"] < t_to]

    def test_start_form_equals_dump(self):
        for what in WHATS:
            with self.subTest(what=what):
                want = self.window(what, START + 1, START + 3)
                self.assertGreater(len(want), 20)
                got = history(self.c, 10, AAPL, start=utc(START + 1), count=len(want), what=what)
                self.assertEqual(got, want)

    def test_end_form_equals_dump(self):
        for what in WHATS:
            with self.subTest(what=what):
                want = self.window(what, START + 2, START + 4)
                got = history(self.c, 11, AAPL, end=utc(START + 3), count=len(want), what=what)
                self.assertEqual(got, want)

    def test_the_last_second_is_completed(self):
        for what in WHATS:
            with self.subTest(what=what):
                first = self.window(what, START + 1, START + 2)
                both = self.window(what, START + 1, START + 3)
                got = history(self.c, 12, AAPL, start=utc(START + 1), count=len(first) + 1,
                              what=what)
                self.assertEqual(got, both, "every tick of the last second reached")
                got = history(self.c, 13, AAPL, end=utc(START + 2), count=len(first) // 2 + 1,
                              what=what)
                self.assertEqual(got, self.window(what, START + 2, START + 3))

    def test_zones_and_forms_of_the_date(self):
        # START = 2023-11-14 22:13:20 UTC = 17:13:20 US/Eastern (EST) = 16:13:20 US/Central.
        want = history(self.c, 14, AAPL, start=utc(START + 2), count=50)
        for text in ["20231114 22:13:22 UTC", "20231114 22:13:22 GMT",
                     "20231114 17:13:22 US/Eastern", "20231114 16:13:22 US/Central",
                     "20231114 17:13:22 America/New_York"]:
            with self.subTest(text=text):
                self.assertEqual(history(self.c, 15, AAPL, start=text, count=50), want)

    def test_ignore_size_keeps_price_changes(self):
        want = [q for q in price_moves(self.want["BidAsk"]) if q["unix_time"] < START + 3]
        got = history(self.c, 16, AAPL, start=utc(START), count=len(want), what="BID_ASK",
                      ignore_size=True)
        self.assertEqual(got, want)
        self.assertLess(len(want), len(self.window("BID_ASK", START, START + 3)))

    def test_nothing_before_the_start_or_after_now(self):
        got = history(self.c, 17, AAPL, start=utc(START - 100), count=5)
        self.assertEqual(got, self.window("TRADES", START, START + 1)[:len(got)])
        self.assertEqual(got[0]["unix_time"], START)
        future = START + 10**6
        for kw in ({"start": utc(future)}, {"end": utc(START - 1)}):
            with self.subTest(**kw):
                self.assertEqual(history(self.c, 18, AAPL, count=5, **kw)[:2], (18, 162))
        # An end after now: the latest ticks so far.
        latest = history(self.c, 19, AAPL, end=utc(future), count=5, what="MIDPOINT")
        self.assertGreaterEqual(latest[-1]["unix_time"], START + 5)

    def test_errors(self):
        no_data = history(self.c, 20, MNQ, start=utc(START), count=10)  # market not started
        self.assertEqual(no_data[:2], (20, 162))
        self.assertRegex(no_data[2], r"^Historical Market Data Service error message:HMDS query "
                                     r"returned no data: \S+@CME TRADES$")
        self.assertEqual(history(self.c, 21, 999, start=utc(START), count=10),
                         (21, 200, "No security definition has been found for the request"))
        perm = history(self.c, 22, TSLA, start=utc(START), count=10)
        self.assertEqual(perm[:2], (22, 162))
        self.assertIn("No market data permissions for", perm[2])
        for kw, cause in [({"start": utc(START), "what": "BID"}, "whatToShow"),
                          ({"start": utc(START), "count": 0}, "numberOfTicks"),
                          ({"start": utc(START), "count": 1001}, "numberOfTicks"),
                          ({"start": utc(START), "end": utc(START + 1)}, "exactly one"),
                          ({}, "exactly one"),
                          ({"start": "20231114 22:13:22"}, "time zone"),
                          ({"start": "20231114 22:13:22 Europe/Paris"}, "unknown time zone"),
                          ({"start": "20231314-22:13:22"}, "valid date"),
                          ({"start": "yesterday"}, "yyyymmdd")]:
            with self.subTest(**kw):
                kw.setdefault("count", 10)
                err = history(self.c, 23, AAPL, **kw)
                self.assertEqual(err[:2], (23, 321))
                self.assertTrue(err[2].startswith("Error validating request"), err)
                self.assertIn(cause, err[2])

    def test_request_log(self):
        history(self.c, 24, AAPL, start=utc(START), count=7, what="MIDPOINT")
        logged = wait_for(lambda: [r for r in self.sim.requests()
                                   if r["msg"] == "reqHistoricalTicks" and r["req_id"] == 24],
                          what="the request in the log")
        self.assertEqual(logged[0], {
            "event": "request", "client_id": 9, "msg": "reqHistoricalTicks", "req_id": 24,
            "con_id": AAPL, "what_to_show": "MIDPOINT", "start": utc(START), "end": "",
            "count": 7, "use_rth": False, "ignore_size": False})

    def test_dump_range_matches_the_counted_dump(self):
        full = dump(self.sim, AAPL, 400)
        for tick_type in TYPES:
            with self.subTest(tick_type=tick_type):
                want = [r["data"] for r in by_type(full, tick_type)
                        if START + 1 <= r["data"]["unix_time"] < START + 2]
                self.assertEqual(dump_range(self.sim, AAPL, START + 1, START + 2)[tick_type], want)


class HistoricalPacing(unittest.TestCase):
    def test_ib_pacing(self):
        with sim(seed=3, rate=50.0, extra=["--clock", "wall"],
                 start_time=int(time.time()) - 10) as s, client(s, 1) as c:
            t = utc(int(time.time()) - 8)
            self.assertIsInstance(history(c, 1, AAPL, start=t, count=10), list)
            err = history(c, 2, AAPL, start=t, count=10)
            self.assertEqual(err, (2, 162, "Historical Market Data Service error message:"
                                           "Historical data request pacing violation"))
            # Five requests for one contract and type within 2 s pass, the sixth does not.
            answers = [history(c, 10 + n, AAPL, start=t, count=20 + n, what="MIDPOINT")
                       for n in range(6)]
            self.assertTrue(all(isinstance(a, list) for a in answers[:5]), answers[:5])
            self.assertEqual(answers[5][:2], (15, 162))
            self.assertIn("pacing violation", answers[5][2])
            # Another contract is not affected.
            self.assertIsInstance(history(c, 20, MNQ, start=t, count=10, what="MIDPOINT"), list)

    def test_pacing_off(self):
        with sim(seed=3, rate=50.0, extra=["--clock", "wall", "--hist-pacing", "off"],
                 start_time=int(time.time()) - 10) as s, client(s, 1) as c:
            t = utc(int(time.time()) - 8)
            # Identical, six within 2 s, and 35 BID_ASK = 70 > 60 in 10 minutes
            # (under the API's 50 messages a second).
            for n in range(35):
                self.assertIsInstance(history(c, n + 1, AAPL, start=t, count=10,
                                              what="BID_ASK"), list, n)


class WallClock(unittest.TestCase):
    def wall_sim(self, start, rate=50.0):
        return sim(seed=17, rate=rate, extra=["--clock", "wall"], start_time=start)

    def test_history_without_a_subscription_equals_dump(self):
        start = int(time.time()) - 20
        with self.wall_sim(start) as s, client(s, 2) as c:
            want = dump_range(s, AAPL, start + 2, start + 5)
            for what in WHATS:
                with self.subTest(what=what):
                    expected = want[DUMP_TYPE[what]]
                    got = history(c, 1, AAPL, start=utc(start + 2), count=len(expected),
                                  what=what)
                    self.assertEqual(got, expected)
            st = AdminClient(s.admin_port)
            with st:
                status = st.status()
            self.assertEqual((status["clock"], status["start_time"]), ("wall", start))
            self.assertEqual(status["markets"], [], "history starts no market")

    def test_a_restarted_simulator_continues_the_same_market(self):
        start = int(time.time()) - 5
        received = []
        for run in range(2):
            begun = time.time()
            with self.wall_sim(start) as s, client(s, 3) as c:
                c.req_tick_by_tick(1, AAPL, "AllLast")
                got = collect(c, {1: 25})[1]
            # The ticks of "now", not of the market's first events.
            self.assertGreaterEqual(got[0]["unix_time"], int(begun) - 1, run)
            received.append(got)
        # Both runs are windows of one market, the second after the first.
        want = dump_range(s, AAPL, start, received[1][-1]["unix_time"] + 1)["AllLast"]
        first, second = (window_offset(r, want) for r in received)
        self.assertIsNotNone(first, received[0][:2])
        self.assertIsNotNone(second, received[1][:2])
        self.assertGreaterEqual(second, first + len(received[0]))

    def test_subscription_clock_status(self):
        with sim() as s, AdminClient(s.admin_port) as a:
            st = a.status()
        self.assertEqual((st["clock"], st["start_time"]), ("subscription", START))


class HistoryAcrossFaults(unittest.TestCase):
    def test_history_across_lost_is_what_would_have_streamed(self):
        with sim(seed=8, rate=100.0) as s, AdminClient(s.admin_port) as admin, \
                client(s, 4) as c:
            c.req_tick_by_tick(1, AAPL, "BidAsk")
            streamed = collect(c, {1: 3})[1]
            admin.command("lost")
            c.read_until(lambda f: is_error(f, 1100, -1))
            time.sleep(1.5)
            admin.command("restored maintained")
            c.read_until(lambda f: is_error(f, 1102, -1), keep=[])
            after = collect(c, {1: 5})[1]
            end = after[-1]["unix_time"]
            want = dump_range(s, AAPL, START, end)["BidAsk"]
            got = history(c, 2, AAPL, start=utc(START), count=len(want), what="BID_ASK")
        self.assertEqual(got, want)
        # The gap: ticks in history that were never streamed.
        self.assertGreater(len(want), len([t for t in streamed + after
                                           if t["unix_time"] < end]) + 10)

if __name__ == "__main__":
    unittest.main()
