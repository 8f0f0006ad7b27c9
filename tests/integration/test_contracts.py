"""Contracts (README "Contracts"): search by symbol and IB's fuzzy search,
details with trading hours as UTC sessions, the market status, contract
specs (AAPL, ES:FUT:CME:USD:202703) wherever a contract id is taken (SSE,
WebSocket paths and messages, /history, --track, the ib-stream CLI), the
contract cache across a restart without TWS, and every bad input. Real
ib-tws-sim and ib-stream-server processes; HTTP with Debian's requests,
WebSocket with Debian's websockets.
"""
import calendar
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import requests

from serverproc import Server
from simproc import binary
from streamwatch import AAPL, EURUSD, ServerCase, Sim
from wsclient import WS


def unix(iso):
    """Seconds of "2026-12-07T14:30:00Z"."""
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


SUMMARY_FIELDS = {"contract_id", "symbol", "local_symbol", "sec_type", "exchange",
                  "primary_exchange", "currency", "expiry", "multiplier", "min_tick",
                  "trading_class", "long_name", "time_zone"}


class ContractsCase(ServerCase):
    """A simulator on today's date: its catalog (listed months, hours) is
    that of now, as the server's clock sees it."""
    sim_rate = 20.0

    def new_sim(self, port=0, rate=None, extra=()):
        sim = Sim(port=port, seed=7, start_time=int(time.time()),
                  rate=self.sim_rate if rate is None else rate, extra=extra)
        self.addCleanup(sim.stop)
        return sim

    def get(self, path, **kw):
        r = self.server.get(path, **kw)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        return r.status_code, body, r

    def check_error(self, path, status, code, word=None):
        st, body, r = self.get(path)
        self.assertEqual(st, status, f"{path}: {body}")
        self.assertEqual(body["error"]["code"], code, f"{path}: {body}")
        if word:
            self.assertIn(word, body["error"]["message"] + " " + body["error"]["details"], path)
        return body, r

    def es_months(self):
        st, body, _ = self.get("/contracts/search?symbol=ES&sec_type=FUT&exchange=CME&currency=USD")
        self.assertEqual(st, 200, body)
        return body["contracts"]


class Search(ContractsCase):
    def test_a_stock_by_symbol(self):
        st, body, _ = self.get("/contracts/search?symbol=aapl&sec_type=STK")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["count"], 1)
        c = body["contracts"][0]
        self.assertEqual(set(c), SUMMARY_FIELDS)
        self.assertEqual((c["contract_id"], c["symbol"], c["sec_type"], c["currency"],
                          c["primary_exchange"], c["long_name"], c["time_zone"]),
                         (AAPL, "AAPL", "STK", "USD", "NASDAQ", "APPLE INC", "US/Eastern"))
        self.assertEqual(body["query"], {"symbol": "AAPL", "sec_type": "STK"})
        self.assertRegex(body["as_of"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_every_listed_futures_month_in_expiry_order(self):
        months = self.es_months()
        self.assertGreaterEqual(len(months), 4, months)
        expiries = [m["expiry"] for m in months]
        self.assertEqual(expiries, sorted(expiries))
        self.assertEqual(len(set(m["contract_id"] for m in months)), len(months))
        today = time.strftime("%Y%m%d", time.gmtime())
        for m in months:
            self.assertEqual((m["symbol"], m["sec_type"], m["exchange"], m["currency"],
                              m["multiplier"], m["min_tick"], m["time_zone"]),
                             ("ES", "FUT", "CME", "USD", "50", 0.25, "US/Central"))
            self.assertRegex(m["expiry"], r"^\d{8}$")
            self.assertGreaterEqual(m["expiry"], today, "only months not yet expired")
            self.assertTrue(m["local_symbol"].startswith("ES"), m)

    def test_the_root_document_lists_the_contract_endpoints(self):
        paths = {(e["method"], e["path"]) for e in self.server.get("/").json()["endpoints"]}
        for p in ("/contracts/search", "/contracts/{contract}", "/contracts/{contract}/status"):
            self.assertIn(("GET", p), paths)

    def test_no_match_is_an_empty_answer(self):
        st, body, _ = self.get("/contracts/search?symbol=NOSUCH&sec_type=STK")
        self.assertEqual(st, 200, body)
        self.assertEqual((body["count"], body["contracts"]), (0, []))

    def test_fuzzy_search_by_start_of_symbol_or_word_of_name(self):
        st, body, _ = self.get("/contracts/search?q=appl")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["q"], "appl")
        first = body["contracts"][0]
        self.assertEqual(set(first), {"contract_id", "symbol", "sec_type", "primary_exchange",
                                      "currency", "derivative_sec_types", "description"})
        self.assertEqual((first["contract_id"], first["symbol"], first["description"]),
                         (AAPL, "AAPL", "APPLE INC"))
        self.assertIsInstance(first["derivative_sec_types"], list)
        # IB allows one symbol search a second: a second one waits its turn.
        st, body, _ = self.get("/contracts/search?q=micro")
        self.assertEqual(st, 200, body)
        self.assertIn("MSFT", [c["symbol"] for c in body["contracts"]])

    def test_bad_searches_name_the_parameter(self):
        for path, word in [
            ("/contracts/search", "symbol"),
            ("/contracts/search?symbol=ES&q=es", "not both"),
            ("/contracts/search?symbol=ES&sec_type=FUTURE", "FUTURE"),
            ("/contracts/search?symbol=ES&sec_type=FUT&expiry=2027", "expiry"),
            ("/contracts/search?symbol=ES&currency=DOLLARS", "currency"),
            ("/contracts/search?symbol=ES&symbol=NQ", "repeated"),
            ("/contracts/search?q=", "'q'"),
            ("/contracts/search?q=ap&sec_type=STK", "sec_type"),
            ("/contracts/search?symbol=ES:FUT", "symbol"),
            ("/contracts/search?symbol=265598", "contract id"),
        ]:
            with self.subTest(path=path):
                self.check_error(path, 400, "INVALID_PARAMETER", word)


class Details(ContractsCase):
    # The exchanges' sessions (the default, always, trades around the clock).
    sim_extra = ("--hours", "real")

    def test_details_with_hours_as_utc_sessions(self):
        st, body, _ = self.get(f"/contracts/{AAPL}")
        self.assertEqual(st, 200, body)
        self.assertTrue(SUMMARY_FIELDS <= set(body), body)
        self.assertEqual(body["contract_id"], AAPL)
        self.assertEqual(body["time_zone"], "US/Eastern")
        for key in ("trading_hours", "liquid_hours"):
            sessions = body[key]
            self.assertTrue(sessions, key)
            opens = [unix(s["open"]) for s in sessions]
            self.assertEqual(opens, sorted(opens))
            for s in sessions:
                self.assertLess(unix(s["open"]), unix(s["close"]))
                # US/Eastern is UTC-5 or UTC-4: the local time says which.
                self.assertRegex(s["open_local"], r"-0[45]:00$")
        # Liquid hours lie within trading hours.
        trading = [(unix(s["open"]), unix(s["close"])) for s in body["trading_hours"]]
        for s in body["liquid_hours"]:
            o, c = unix(s["open"]), unix(s["close"])
            self.assertTrue(any(a <= o and c <= b for a, b in trading), s)
        self.assertIn("CLOSED", body["hours_raw"]["trading"])

    def test_a_spec_names_the_same_contract(self):
        st, by_id, _ = self.get(f"/contracts/{AAPL}")
        st2, by_spec, _ = self.get("/contracts/AAPL")
        self.assertEqual((st, st2), (200, 200))
        by_id.pop("as_of")
        by_spec.pop("as_of")
        self.assertEqual(by_id, by_spec)
        st, eur, _ = self.get("/contracts/EUR:CASH:IDEALPRO:USD")
        self.assertEqual(st, 200, eur)
        self.assertEqual(eur["contract_id"], EURUSD)

    def test_status_agrees_with_the_sessions(self):
        for spec in (str(AAPL), "EUR:CASH:IDEALPRO:USD", "ES:FUT:CME:USD:" + self.es_months()[0]["expiry"][:6]):
            with self.subTest(spec=spec):
                _, d, _ = self.get(f"/contracts/{spec}")
                st, s, _ = self.get(f"/contracts/{spec}/status")
                self.assertEqual(st, 200, s)
                now = unix(s["now"])
                self.assertLessEqual(abs(now - time.time()), 5)
                sessions = [(unix(x["open"]), unix(x["close"])) for x in d["trading_hours"]]
                inside = [x for x in sessions if x[0] <= now < x[1]]
                self.assertEqual(s["status"], "open" if inside else "closed", (s, sessions))
                later = [o for o, _ in sessions if o > now]
                self.assertEqual(s["next_open"] and unix(s["next_open"]),
                                 min(later) if later else None)
                if inside:
                    self.assertEqual(unix(s["session"]["close"]), inside[0][1])
                    self.assertEqual(unix(s["next_close"]), inside[0][1])
                else:
                    self.assertIsNone(s["session"])
                liquid = [(unix(x["open"]), unix(x["close"])) for x in d["liquid_hours"]]
                self.assertEqual(s["liquid"], any(o <= now < c for o, c in liquid))
                self.assertEqual(s["time_zone"], d["time_zone"])

    def test_bad_and_unknown_contracts(self):
        self.check_error("/contracts/999", 404, "CONTRACT_NOT_FOUND")
        self.check_error("/contracts/999/status", 404, "CONTRACT_NOT_FOUND")
        self.check_error("/contracts/NOSUCH", 404, "CONTRACT_NOT_FOUND", "NOSUCH")
        self.check_error("/contracts/ES:FUTURE", 400, "INVALID_PARAMETER", "FUTURE")
        self.check_error("/contracts/0", 400, "INVALID_PARAMETER")
        body, _ = self.check_error("/contracts/ES:FUT:CME:USD", 400, "AMBIGUOUS_CONTRACT")
        candidates = body["error"]["candidates"]
        self.assertGreaterEqual(len(candidates), 4)
        self.assertEqual({c["symbol"] for c in candidates}, {"ES"})
        for c in candidates:
            self.assertIn(str(c["contract_id"]), body["error"]["details"])


class SpecsInStreams(ContractsCase):
    def test_sse_stream_by_spec(self):
        s = self.listen("/stream/AAPL/BidAsk", params={"limit": 3})
        self.assertEqual(s.status, 200, s.body)
        s.wait_ticks(3)
        info = next(ev.json for _, ev in s.events() if ev.type == "info")
        self.assertEqual(info["contract_id"], AAPL)
        self.assertEqual(info["info"]["contract"]["symbol"], "AAPL")
        front = self.es_months()[0]
        es = self.listen(f"/stream/ES:FUT:CME:USD:{front['expiry'][:6]}", params={"limit": 2,
                                                                                "tick_type": "Last"})
        self.assertEqual(es.status, 200, es.body)
        es.wait_ticks(2)
        self.assertEqual(next(ev.json for _, ev in es.events() if ev.type == "info")["contract_id"],
                         front["contract_id"])

    def test_sse_errors_before_the_stream(self):
        body, _ = self.check_error("/stream/ES:FUT:CME:USD/Last", 400, "AMBIGUOUS_CONTRACT")
        self.assertGreaterEqual(len(body["error"]["candidates"]), 4)
        self.check_error("/stream/NOSUCH/Last", 404, "CONTRACT_NOT_FOUND")
        self.check_error("/stream/ES:FUTURE/Last", 400, "INVALID_PARAMETER", "FUTURE")
        self.check_error("/history/ES:FUTURE/Last", 400, "INVALID_PARAMETER", "FUTURE")
        self.check_error("/history/NOSUCH", 404, "CONTRACT_NOT_FOUND")
        # Resolved, then answered as for the id: nothing recorded.
        st, body, _ = self.get("/history/AAPL")
        self.assertEqual(st, 404, body)
        self.assertIn(str(AAPL), body["error"]["message"])

    def test_websocket_path_and_messages_by_spec(self):
        base = f"ws://{self.server.host}:{self.server.port}"
        ws = WS(base + "/ws/stream/AAPL/BidAsk?limit=2")
        self.addCleanup(ws.close)
        ws.wait_ticks(2)
        ticks = [m for m in ws.messages() if m.get("type") == "tick"]
        self.assertEqual([m.get("contract_id") for m in ticks], [AAPL] * len(ticks), ticks)
        control = WS(base + "/ws/control")
        self.addCleanup(control.close)
        r = control.request({"type": "subscribe", "id": "eur",
                             "data": {"contract_id": "EUR:CASH:IDEALPRO:USD",
                                      "tick_type": "MidPoint", "params": {"limit": 2}}})
        self.assertEqual(r["type"], "subscribed", r)
        self.assertEqual(r["data"]["contract_id"], EURUSD)
        r = control.request({"type": "subscribe", "id": "es",
                             "data": {"contract_id": "ES:FUT:CME:USD", "tick_type": "Last"}})
        self.assertEqual((r["type"], r["error"]["code"]), ("error", "AMBIGUOUS_CONTRACT"), r)
        self.assertIn("Candidates", r["error"]["details"])
        r = control.request({"type": "multi_subscribe", "id": "bad",
                             "data": {"contract_id": "ES:FUTURE", "tick_types": ["Last"]}})
        self.assertEqual((r["type"], r["error"]["code"]), ("error", "INVALID_MESSAGE"), r)
        self.assertIn("data.contract_id", r["error"]["message"])
        r = control.request({"type": "subscribe", "id": "none",
                             "data": {"contract_id": "NOSUCH", "tick_type": "Last"}})
        self.assertEqual(r["error"]["code"], "CONTRACT_NOT_FOUND", r)
        bad = WS(base + "/ws/stream/ES:FUT:CME:USD/Last")
        self.addCleanup(bad.close)
        first = bad.next()
        self.assertEqual((first["type"], first["error"]["code"]), ("error", "AMBIGUOUS_CONTRACT"))


class CacheAndTrack(unittest.TestCase):
    """The contract cache in the data directory; --track by spec."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="ibs-contracts-")
        self.sim = Sim(port=0, seed=7, start_time=int(time.time()), rate=20.0)
        self.addCleanup(self.sim.stop)

    def test_a_restart_without_tws_answers_from_the_cache(self):
        env = {"IB_STREAM_DATA_DIR": self.data}
        server = Server(self.sim, env=env)
        try:
            r = server.get("/contracts/search?symbol=AAPL&sec_type=STK&exchange=SMART&currency=USD")
            self.assertEqual(r.status_code, 200, r.text)
            first = r.json()
            self.assertEqual(server.get("/contracts/EUR:CASH:IDEALPRO:USD").status_code, 200)
        finally:
            server.stop()
        with open(os.path.join(self.data, "contracts.json")) as f:
            cached = json.load(f)
        self.assertIn(str(AAPL), cached["contracts"])
        self.assertIn(str(EURUSD), cached["contracts"])
        server = Server(None, env=env)  # a TWS port that nobody listens on
        try:
            r = server.get("/contracts/search?symbol=AAPL&sec_type=STK&exchange=SMART&currency=USD")
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json(), first, "the same answer, as of the same time")
            r = server.get("/contracts/EUR:CASH:IDEALPRO:USD/status")
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["contract_id"], EURUSD)
            r = server.get("/contracts/NVDA")
            self.assertEqual(r.status_code, 503, r.text)
            self.assertEqual(r.json()["error"]["code"], "TWS_UNAVAILABLE")
            self.assertGreater(int(r.headers["Retry-After"]), 0)
        finally:
            server.stop()

    def test_track_by_spec(self):
        server = Server(self.sim, args=["--track", "EUR:CASH:IDEALPRO:USD:MidPoint"],
                        env={"IB_STREAM_DATA_DIR": self.data})
        try:
            def tracked():
                body = server.get("/tracked").json()["tracked"]
                return [t for t in body if t["contract_id"] == EURUSD and t["ticks_recorded"] > 0]
            server.wait_for(tracked, timeout=20, what="EUR.USD recorded")
        finally:
            server.stop()
        # A malformed spec stops the server at once with one line naming it.
        p = subprocess.run([binary("ib-stream-server"), "--track", "ES:FUTURE:Last"],
                           env={**os.environ, "IB_STREAM_DATA_DIR": self.data},
                           capture_output=True, text=True, timeout=15)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("FUTURE", p.stderr)


class Cli(unittest.TestCase):
    def run_cli(self, *args, timeout=60):
        return subprocess.run([binary("ib-stream"), "--simulate", "--sim-rate", "50", *args],
                              capture_output=True, text=True, timeout=timeout)

    def test_stream_by_spec(self):
        p = self.run_cli("AAPL", "-t", "BidAsk", "-n", "3", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        ticks = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(ticks), 3)
        self.assertEqual({t["type"] for t in ticks}, {"bid_ask"})

    def test_a_futures_month_by_spec_and_ambiguity(self):
        p = self.run_cli("ES:FUT:CME:USD", "-n", "1")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("contracts match ES:FUT:CME:USD", p.stderr)
        months = [line.split() for line in p.stderr.splitlines() if line.startswith("  ")]
        self.assertGreaterEqual(len(months), 4, p.stderr)
        # Each line: contract id, local symbol, expiry, exchange, currency, name.
        expiry = min(m[2] for m in months)
        self.assertRegex(expiry, r"^\d{8}$")
        p = self.run_cli(f"ES:FUT:CME:USD:{expiry[:6]}", "-t", "Last", "-n", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("ES", p.stdout)
        self.assertIn("Reached limit of 2 ticks", p.stdout)

    def test_bad_and_unknown_specs(self):
        p = self.run_cli("ES:FUTURE")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("FUTURE", p.stderr)
        p = self.run_cli("NOSUCH", "-n", "1")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("not found", p.stderr)


if __name__ == "__main__":
    unittest.main()
