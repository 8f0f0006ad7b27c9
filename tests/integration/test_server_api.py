"""ib-stream-server, the HTTP/SSE gateway, as a real process against ib-tws-sim.

Checks the client contract of shared/spec/api.md row by row: §2 (endpoints,
query parameters, errors before a stream starts), §3 (SSE framing and event
types, compared with the seeded simulator's `--dump` field by field), §4
(limits) and §6 (configuration), plus CORS, the API key and SIGTERM.
"""
import json
import re
import signal
import time
import unittest

from serverproc import Server, closed_port, run_server
from simproc import Simulator
from streamwatch import (AAPL, ES, EURUSD, ISO, MNQ, START, TYPES, UNKNOWN, ApiAssertions,
                         flatten, start_server, window_offset)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# The shared server's settings, all different from the defaults so that
# "effective limits" can be told apart.
MAX_STREAMS, MAX_CLIENTS, STREAM_TIMEOUT, BUFFER_SIZE = 20, 321, 120, 77


def pick(d, *names):
    """d[name] for the first of names present (the contract names the content,
    not always the exact key); fails listing the keys there are."""
    for n in names:
        if n in d:
            return d[n]
    raise AssertionError(f"none of {names} in {sorted(d)}")


class ApiCase(ApiAssertions, unittest.TestCase):
    """Assertions shared by the test classes."""

    def assert_api_error(self, status, headers, body, want_status, want_code, mentions=()):
        self.assertEqual(status, want_status, body)
        self.assertIn("application/json", headers.get("content-type", ""), headers)
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        self.assertIsInstance(body.get("error"), dict, body)
        err = self.check_error_object(body["error"], want_code, body)
        self.assertIsInstance(body.get("timestamp"), str, body)
        self.assertRegex(body["timestamp"], ISO)
        for word in mentions:
            self.assertIn(word, err["message"], body)
        # sanitized: no internal paths or stack traces
        text = json.dumps(body)
        self.assertNotIn("/src/", text)
        self.assertNotIn(".cpp", text)
        return err

    def stream_error(self, server, path, params=None, headers=None, timeout=15):
        """Opens a stream that must be refused before it starts; returns
        (status, headers, body JSON)."""
        s = server.stream(path, params=params, headers=headers, timeout=timeout)
        try:
            if s.headers.get("content-type", "").startswith("text/event-stream"):
                first = s.events(2, timeout=3)
                self.fail(f"{path} {params}: expected an error before the stream, got "
                          f"{s.status} SSE {[b.data for b in first]}")
            return s.status, s.headers, s.json(timeout)
        finally:
            s.close()

    def check_framing(self, s, blocks):
        """Every event of an SSE body: id: (ticks) + exactly one data: line, no event:."""
        self.assertTrue(s.raw.startswith(b"retry:"), s.raw[:80])
        # shortest round-trip numbers: no 175.25000000000001
        self.assertIsNone(re.search(rb"\d\.\d{12,}", s.raw), s.raw)
        self.assertIsNotNone(s.retry)
        self.assertRegex(s.retry, r"^\d+$")
        for b in blocks:
            names = [n for n, _ in b.fields]
            self.assertNotIn("event", names, f"event: field in {b.lines}")
            if b.data is None:
                continue
            self.assertEqual(b.data_lines, 1, b.lines)
            self.assertIsInstance(b.json, dict, b.lines)
            if b.type == "tick":
                self.assertIsNotNone(b.id, f"tick without id: {b.lines}")
                self.assertRegex(b.id, r"^\d+$")
            self.assertIn(b.type, ("info", "tick", "error", "complete"), b.lines)
            for line in b.lines:
                self.assertFalse(line.startswith("data:") and not line.startswith("data: "),
                                 b.lines)

    def check_info(self, ev, con_id, tick_type):
        j = ev.json
        self.assertEqual(j["type"], "info", j)
        self.assertEqual(j["contract_id"], con_id, j)
        self.assertRegex(j["timestamp"], ISO)
        info = j["info"]
        self.assertIsInstance(info["message"], str)
        self.assertEqual(info["tick_type"], tick_type, j)
        self.assertIn("stream_id", info)
        return info["contract"]

    def check_tick(self, ev, con_id, tick_type):
        j = ev.json
        self.assertEqual(j["type"], "tick", j)
        self.assertEqual(j["contract_id"], con_id, j)
        self.assertRegex(j["timestamp"], ISO_MS)
        return self.check_tick_data(j["data"], tick_type, j)

    def read_limited(self, server, path, params, n, timeout=20):
        """A limit=n stream read to its end; returns (stream, blocks, info, ticks, complete)."""
        s = server.stream(path, params=params, timeout=timeout)
        self.assertEqual(s.status, 200, s.body(5) if s.status != 200 else "")
        blocks = s.read_to_end(timeout)
        s.close()
        self.assertTrue(s.ended, "the response did not end after complete")
        events = [b for b in blocks if b.data is not None]
        self.assertGreaterEqual(len(events), 2, blocks)
        info, complete = events[0], events[-1]
        ticks = [e for e in events if e.type == "tick"]
        self.assertEqual(info.type, "info", events[0].lines)
        self.assertEqual(complete.type, "complete", events[-1].lines)
        self.assertEqual(len(ticks), n, [e.type for e in events])
        self.assertEqual(len(events), n + 2, [e.type for e in events])
        return s, blocks, info, ticks, complete


class SharedServer(ApiCase):
    """One simulator + one server for the read-mostly checks."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator(seed=7, start_time=START, rate=50,
                            extra=("--max-tick-by-tick", "-1",
                                   "--contract-rate", f"{ES}=0.001"))
        cls.server = start_server(cls.sim, args=(
            "--max-streams", MAX_STREAMS, "--max-clients", MAX_CLIENTS,
            "--stream-timeout", STREAM_TIMEOUT, "--buffer-size", BUFFER_SIZE,
            "--keepalive-seconds", 1, "--linger-ms", 300))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.sim.stop()


class Endpoints(SharedServer):
    def test_listening_line(self):
        info = self.server.listening
        self.assertEqual(info["event"], "listening")
        self.assertEqual(info["host"], "127.0.0.1")
        self.assertIsInstance(info["port"], int)
        self.assertGreater(info["port"], 0)
        self.assertIn("simulator", info)
        self.assertIsNone(info["simulator"])

    def test_root(self):
        r = self.server.get("/")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("application/json", r.headers["Content-Type"])
        j = r.json()
        for key in ("name", "version", "description"):
            self.assertIsInstance(j[key], str, key)
            self.assertTrue(j[key], key)
        endpoints = json.dumps(pick(j, "endpoints"))
        for path in ("/health", "/ready", "/stream/info", "/stream/active",
                     "/stream/{contract_id}", "/stream/{contract_id}/{tick_type}",
                     "/stream/all"):
            self.assertIn(path, endpoints)
        tick_types = json.dumps(pick(j, "tick_types"))
        for t in TYPES:
            self.assertIn(f'"{t}"', tick_types)
        limits = flatten(pick(j, "limits"))
        values = {k.lower(): v for k, v in limits.items()}
        self.assertTrue(any("stream" in k and v == MAX_STREAMS for k, v in values.items()),
                        limits)
        self.assertTrue(any("client" in k and v == MAX_CLIENTS for k, v in values.items()),
                        limits)
        self.assertTrue(any("timeout" in k and v == STREAM_TIMEOUT for k, v in values.items()),
                        limits)
        self.assertTrue(any("buffer" in k and v == BUFFER_SIZE for k, v in values.items()),
                        limits)

    def test_health_connected(self):
        status, j = self.server.json("/health")
        self.assertEqual(status, 200, j)
        self.assertEqual(j["status"], "healthy", j)
        self.assertIs(j["tws_connected"], True)
        tws = j["tws"]
        self.assertEqual(tws["host"], "127.0.0.1")
        self.assertEqual(tws["port"], self.sim.port)
        self.assertEqual(tws["client_id"], self.server.client_id)
        self.assertEqual(tws["server_version"], 187)
        self.assertRegex(tws["connected_since"], ISO)
        self.assertEqual(tws["reconnects"], 0)
        self.assertIsInstance(j["active_streams"], int)
        self.assertEqual(j["max_streams"], MAX_STREAMS)
        self.assertIsInstance(j["clients"], int)
        self.assertIsInstance(j["uptime_seconds"], (int, float))
        self.assertGreaterEqual(j["uptime_seconds"], 0)
        self.assertRegex(j["timestamp"], ISO)

    def test_ready(self):
        r = self.server.get("/ready")
        self.assertEqual(r.status_code, 200, r.text)

    def test_stream_info(self):
        r = self.server.get("/stream/info")
        self.assertEqual(r.status_code, 200, r.text)
        j = r.json()
        tick_types = pick(j, "tick_types")
        text = json.dumps(tick_types)
        for t in TYPES:
            self.assertIn(f'"{t}"', text)
        # each tick type has a description
        if isinstance(tick_types, dict):
            for t in TYPES:
                self.assertTrue(json.dumps(tick_types[t]).strip('"'), t)
        else:
            self.assertEqual(len(tick_types), 4, tick_types)
            for item in tick_types:
                self.assertIsInstance(item, dict, tick_types)
                self.assertTrue(pick(item, "description"), item)
        params = pick(j, "query_parameters", "parameters", "params")
        ptext = json.dumps(params)
        for name in ("tick_type", "limit", "timeout", "format"):
            self.assertIn(f'"{name}"', ptext)
        flat = flatten(params)
        self.assertIn(10000, flat.values(), params)  # limit max
        self.assertIn(3600, flat.values(), params)   # timeout max
        self.assertIn(5, flat.values(), params)      # timeout min
        self.assertIn(STREAM_TIMEOUT, flat.values(), params)  # effective timeout default
        events = json.dumps(pick(j, "event_types", "events"))
        for e in ("info", "tick", "error", "complete"):
            self.assertIn(f'"{e}"', events)
        self.assertIn(MAX_STREAMS, flatten(pick(j, "limits")).values())

    def test_ws_stats(self):
        status, j = self.server.json("/ws/stats")
        self.assertEqual(status, 200, j)
        self.assertIsInstance(j["connections"], int)
        self.assertIsInstance(j["subscriptions"], int)
        self.assertIsInstance(pick(j, "per_ip", "connections_per_ip", "ips"), dict)
        rates = flatten(pick(j, "messages", "message_rates", "rates"))
        self.assertTrue(any("per_second" in k or "rate" in k for k in rates), rates)

    def test_unknown_path_404(self):
        for path in ("/nope", "/stream", "/streams/265598", "/stream/265598/BidAsk/extra"):
            r = self.server.get(path)
            self.assert_api_error(r.status_code, {k.lower(): v for k, v in r.headers.items()},
                                  r.json(), 404, "NOT_FOUND")


class Parameters(SharedServer):
    BAD = [
        ("/stream/0", {}, "contract_id"),
        ("/stream/-1", {}, "contract_id"),
        ("/stream/2147483648", {}, "contract_id"),
        ("/stream/ABC:FUTURE", {}, "contract_id"),
        ("/stream/1.5", {}, "contract_id"),
        ("/stream/0/BidAsk", {}, "contract_id"),
        (f"/stream/{AAPL}", {"tick_type": "Trades"}, "tick_type"),
        (f"/stream/{AAPL}", {"tick_type": ""}, "tick_type"),
        (f"/stream/{AAPL}/Bad", {}, "tick_type"),
        (f"/stream/{AAPL}", {"limit": "0"}, "limit"),
        (f"/stream/{AAPL}", {"limit": "10001"}, "limit"),
        (f"/stream/{AAPL}", {"limit": "abc"}, "limit"),
        (f"/stream/{AAPL}", {"limit": ""}, "limit"),
        (f"/stream/{AAPL}", {"limit": "-5"}, "limit"),
        (f"/stream/{AAPL}", {"timeout": "4"}, "timeout"),
        (f"/stream/{AAPL}", {"timeout": "3601"}, "timeout"),
        (f"/stream/{AAPL}", {"timeout": "soon"}, "timeout"),
        (f"/stream/{AAPL}", {"format": "json"}, "format"),
        (f"/stream/{AAPL}/BidAsk", {"limit": "0"}, "limit"),
    ]

    def test_invalid_parameters_are_400(self):
        for path, params, name in self.BAD:
            with self.subTest(path=path, params=params):
                status, headers, body = self.stream_error(self.server, path, params)
                self.assert_api_error(status, headers, body, 400, "INVALID_PARAMETER", [name])

    def test_messages_give_the_valid_range(self):
        _, _, body = self.stream_error(self.server, f"/stream/{AAPL}", {"limit": "0"})
        self.assertIn("10000", body["error"]["message"])
        _, _, body = self.stream_error(self.server, f"/stream/{AAPL}", {"timeout": "4"})
        self.assertIn("3600", body["error"]["message"])
        _, _, body = self.stream_error(self.server, "/stream/-1")
        self.assertIn("2147483647", body["error"]["message"])
        # Letters are a symbol (README "Contracts"): looked up, not refused.
        status, _, body = self.stream_error(self.server, "/stream/abc")
        self.assertEqual((status, body["error"]["code"]), (404, "CONTRACT_NOT_FOUND"), body)

    def test_repeated_parameter_is_400(self):
        for query, name in (("limit=5&limit=6", "limit"), ("timeout=10&timeout=10", "timeout"),
                            ("tick_type=BidAsk&tick_type=Last", "tick_type")):
            with self.subTest(query=query):
                status, headers, body = self.stream_error(self.server,
                                                          f"/stream/{AAPL}?{query}")
                self.assert_api_error(status, headers, body, 400, "INVALID_PARAMETER", [name])

    def test_bounds_and_unknown_parameters_are_accepted(self):
        for params in ({"limit": "1"}, {"limit": "1", "timeout": "5"},
                       {"limit": "1", "timeout": "3600"}, {"limit": "1", "format": "sse"},
                       {"limit": "1", "foo": "bar"}):
            with self.subTest(params=params):
                params = dict(params, tick_type="BidAsk")
                _, _, info, ticks, complete = self.read_limited(
                    self.server, f"/stream/{AAPL}", params, 1)
                self.assertEqual(complete.json["total_ticks"], 1)

    def test_limit_10000_is_accepted(self):
        s = self.server.stream(f"/stream/{AAPL}", {"tick_type": "BidAsk", "limit": "10000"})
        try:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.next_event(10).type, "info")
        finally:
            s.close()

    def test_largest_contract_id_is_valid_but_unknown(self):
        status, headers, body = self.stream_error(self.server, "/stream/2147483647")
        self.assert_api_error(status, headers, body, 404, "CONTRACT_NOT_FOUND")

    def test_unknown_contract_404_before_any_200(self):
        for path in (f"/stream/{UNKNOWN}", f"/stream/{UNKNOWN}/BidAsk"):
            with self.subTest(path=path):
                status, headers, body = self.stream_error(self.server, path,
                                                          {"tick_type": "BidAsk"})
                err = self.assert_api_error(status, headers, body, 404, "CONTRACT_NOT_FOUND")
                self.assertIn(str(UNKNOWN), err["message"])

    def test_tick_type_case_insensitive(self):
        for params, path, want in (({"tick_type": "bidask"}, f"/stream/{AAPL}", "BidAsk"),
                                   ({"tick_type": "MIDPOINT"}, f"/stream/{AAPL}", "MidPoint"),
                                   ({"tick_type": "alllast"}, f"/stream/{AAPL}", "AllLast"),
                                   ({}, f"/stream/{AAPL}/bidASK", "BidAsk"),
                                   ({}, f"/stream/{AAPL}/last", "Last")):
            with self.subTest(path=path, params=params):
                _, _, info, ticks, _ = self.read_limited(
                    self.server, path, dict(params, limit="2"), 2)
                self.check_info(info, AAPL, want)
                for t in ticks:
                    self.check_tick(t, AAPL, want)

    def test_default_tick_type_is_last(self):
        _, _, info, ticks, _ = self.read_limited(self.server, f"/stream/{AAPL}",
                                                 {"limit": "2"}, 2)
        self.check_info(info, AAPL, "Last")
        for t in ticks:
            self.check_tick(t, AAPL, "Last")

    def test_path_tick_type_wins_over_query(self):
        _, _, info, ticks, _ = self.read_limited(
            self.server, f"/stream/{AAPL}/MidPoint", {"tick_type": "BidAsk", "limit": "2"}, 2)
        self.check_info(info, AAPL, "MidPoint")

    def test_literal_paths_before_contract_id(self):
        r = self.server.get("/stream/info")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("tick_types", r.json())
        r = self.server.get("/stream/active")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIsInstance(r.json(), dict)
        # GET /stream/all is not a stream of contract "all": not a 400 about contract_id
        r = self.server.get("/stream/all", stream=True)
        try:
            self.assertNotEqual(r.status_code, 400, r.text)
            self.assertNotEqual(r.status_code, 200)
        finally:
            r.close()


class SseFormat(SharedServer):
    def test_headers_and_framing(self):
        s, blocks, info, ticks, complete = self.read_limited(
            self.server, f"/stream/{AAPL}", {"tick_type": "BidAsk", "limit": "5"}, 5)
        self.assertEqual(s.headers["content-type"].split(";")[0].strip(), "text/event-stream")
        self.assertEqual(s.headers.get("cache-control"), "no-cache, no-transform")
        self.assertEqual(s.headers.get("x-accel-buffering"), "no")
        self.assertIn("access-control-allow-origin", s.headers)
        self.check_framing(s, blocks)
        # the first block is the retry line alone
        self.assertIsNotNone(blocks[0].retry, blocks[0].lines)
        self.assertIsNone(blocks[0].data, blocks[0].lines)

    def test_info_event_has_contract_details(self):
        _, _, info, _, _ = self.read_limited(self.server, f"/stream/{AAPL}",
                                             {"tick_type": "BidAsk", "limit": "1"}, 1)
        c = self.check_info(info, AAPL, "BidAsk")
        self.assertEqual(c["symbol"], "AAPL")
        self.assertEqual(c["sec_type"], "STK")
        self.assertEqual(c["exchange"], "SMART")
        self.assertEqual(c["primary_exchange"], "NASDAQ")
        self.assertEqual(c["currency"], "USD")
        self.assertEqual(c["local_symbol"], "AAPL")
        self.assertEqual(c["trading_class"], "NMS")
        self.assertEqual(c["min_tick"], 0.01)
        _, _, info, _, _ = self.read_limited(self.server, f"/stream/{MNQ}/BidAsk",
                                             {"limit": "1"}, 1)
        c = self.check_info(info, MNQ, "BidAsk")
        self.check_mnq_contract(c)

    def test_limit_then_complete_then_end(self):
        for n in (1, 7):
            s, blocks, info, ticks, complete = self.read_limited(
                self.server, f"/stream/{AAPL}/Last", {"limit": str(n)}, n)
            j = complete.json
            self.assertEqual(j["reason"], "limit_reached", j)
            self.assertEqual(j["total_ticks"], n, j)
            self.assertEqual(j["contract_id"], AAPL)
            self.assertRegex(j["timestamp"], ISO)
            ids = [int(t.id) for t in ticks]
            self.assertEqual(ids, list(range(ids[0], ids[0] + n)), ids)

    def test_tick_events(self):
        for tick_type in TYPES:
            with self.subTest(tick_type=tick_type):
                _, _, _, ticks, _ = self.read_limited(
                    self.server, f"/stream/{AAPL}/{tick_type}", {"limit": "3"}, 3)
                for t in ticks:
                    d = self.check_tick(t, AAPL, tick_type)
                    self.assertEqual(set(t.json), {"type", "contract_id", "timestamp", "data"})
                    if tick_type == "BidAsk":
                        self.assertLess(d["bid_price"], d["ask_price"])

    def test_timeout_completes_with_timeout(self):
        s = self.server.stream(f"/stream/{AAPL}/BidAsk", {"timeout": "5"}, timeout=15)
        try:
            t0 = time.monotonic()
            self.assertEqual(s.status, 200)
            blocks = s.read_to_end(15)
            elapsed = time.monotonic() - t0
        finally:
            s.close()
        events = [b for b in blocks if b.data is not None]
        self.assertEqual(events[-1].type, "complete", events[-1].lines)
        j = events[-1].json
        self.assertEqual(j["reason"], "timeout", j)
        ticks = [e for e in events if e.type == "tick"]
        self.assertGreater(len(ticks), 10)
        self.assertEqual(j["total_ticks"], len(ticks))
        self.assertGreaterEqual(elapsed, 4.5)
        self.assertLess(elapsed, 9)
        self.assertTrue(s.ended)

    def test_default_timeout_is_the_setting(self):
        s = self.server.stream(f"/stream/{AAPL}/MidPoint")
        try:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.next_event(10).type, "info")
            _, active = self.server.json("/stream/active")
            mine = [c for c in active["clients"] if c["tick_type"] == "MidPoint"]
            self.assertEqual(len(mine), 1, active)
            self.assertEqual(pick(mine[0], "timeout", "timeout_seconds"), STREAM_TIMEOUT)
            self.assertIsNone(mine[0]["limit"])
        finally:
            s.close()

    def test_keepalive_on_a_quiet_stream(self):
        # ES runs at 0.001 events/s in this simulator: silence after its first event
        s = self.server.stream(f"/stream/{ES}/BidAsk", {"timeout": "30"}, timeout=10)
        try:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.next_event(10).type, "info")
            t0 = time.monotonic()
            keepalives = []
            while time.monotonic() - t0 < 3.6:
                b = s.next_block(5)
                self.assertIsNotNone(b, "stream ended")
                if b.comments:
                    self.assertEqual(b.lines, [": keepalive"])
                    keepalives.append(time.monotonic() - t0)
        finally:
            s.close()
        self.assertGreaterEqual(len(keepalives), 2, keepalives)
        self.assertLessEqual(len(keepalives), 5, keepalives)


class TicksMatchTheMarket(ApiCase):
    """Every tick equals, field by field, the seeded simulator's --dump."""

    def test_ticks_equal_dump(self):
        with Simulator(seed=13, start_time=START, rate=100,
                       extra=("--max-tick-by-tick", "-1")) as sim, \
                Server(sim, args=("--linger-ms", 200)) as server:
            expected = {t: sim.dump(AAPL, 1500, t) for t in TYPES}
            # the first subscription of AAPL starts its market: from index 0
            _, _, _, ticks, _ = self.read_limited(server, f"/stream/{AAPL}/BidAsk",
                                                  {"limit": "30"}, 30)
            got = [t.json["data"] for t in ticks]
            for i, (g, e) in enumerate(zip(got, expected["BidAsk"])):
                self.assertEqual(g, e, f"BidAsk tick {i}")
            for tick_type in ("Last", "AllLast", "MidPoint"):
                with self.subTest(tick_type=tick_type):
                    _, _, _, ticks, _ = self.read_limited(
                        server, f"/stream/{AAPL}", {"tick_type": tick_type, "limit": "20"}, 20)
                    got = [t.json["data"] for t in ticks]
                    k = window_offset(got, expected[tick_type])
                    self.assertIsNotNone(k, f"{tick_type}: {got[:3]} not in the dump "
                                            f"(first expected {expected[tick_type][:3]})")
            # another contract: futures and FX
            for con_id, tick_type in ((MNQ, "AllLast"), (EURUSD, "MidPoint")):
                with self.subTest(con_id=con_id):
                    _, _, _, ticks, _ = self.read_limited(
                        server, f"/stream/{con_id}/{tick_type}", {"limit": "10"}, 10)
                    got = [t.json["data"] for t in ticks]
                    self.assertEqual(got, sim.dump(con_id, 10, tick_type))


class ActiveStreams(ApiCase):
    def test_active_with_a_live_stream(self):
        with Simulator(seed=3, start_time=START, rate=50) as sim, Server(sim) as server:
            s = server.stream(f"/stream/{AAPL}/BidAsk", {"limit": "10000", "timeout": "60"})
            try:
                self.assertEqual(s.status, 200)
                self.assertEqual(s.next_event(10).type, "info")
                for _ in range(3):
                    self.assertEqual(s.next_event(10).type, "tick")
                status, active = server.json("/stream/active")
                self.assertEqual(status, 200, active)
                ups = pick(active, "streams", "subscriptions", "upstreams")
                self.assertEqual(len(ups), 1, ups)
                up = ups[0]
                self.assertEqual(pick(up, "contract_id", "con_id"), AAPL)
                self.assertEqual(up["tick_type"], "BidAsk")
                self.assertRegex(pick(up, "started", "started_at"), ISO)
                self.assertGreaterEqual(up["ticks"], 3)
                self.assertIsInstance(pick(up, "rate", "tick_rate", "ticks_per_second"),
                                      (int, float))
                self.assertEqual(pick(up, "clients", "client_count"), 1)
                clients = pick(active, "clients", "client_streams")
                self.assertEqual(len(clients), 1, clients)
                c = clients[0]
                self.assertIn("id", c)
                self.assertEqual(c["transport"], "sse")
                self.assertIn("127.0.0.1", pick(c, "remote", "remote_address"))
                self.assertEqual(c["limit"], 10000)
                self.assertEqual(pick(c, "timeout", "timeout_seconds"), 60)
                self.assertGreaterEqual(c["ticks_sent"], 1)
                self.assertEqual(c["dropped"], 0)
                self.assertRegex(pick(c, "started", "started_at"), ISO)
                status, health = server.json("/health")
                self.assertEqual(health["active_streams"], 1, health)
                self.assertEqual(health["clients"], 1, health)
            finally:
                s.close()
            # the client left: after the linger, nothing is active
            server.wait_for(lambda: not pick(server.json("/stream/active")[1], "clients",
                                             "client_streams"), timeout=5,
                            what="client gone from /stream/active")


class StopStreams(ApiCase):
    def open(self, server, con_id, tick_type):
        s = server.stream(f"/stream/{con_id}/{tick_type}", {"timeout": "60"}, timeout=10)
        self.assertEqual(s.status, 200)
        self.assertEqual(s.next_event(10).type, "info")
        self.assertEqual(s.next_event(10).type, "tick")
        return s

    def assert_stopped(self, s):
        blocks = s.read_to_end(10)
        events = [b for b in blocks if b.data is not None]
        self.assertTrue(events, "no complete event")
        j = events[-1].json
        self.assertEqual(j["type"], "complete", j)
        self.assertEqual(j["reason"], "stopped", j)
        ticks = [b for b in s.blocks if b.type == "tick"]
        self.assertEqual(j["total_ticks"], len(ticks), j)
        self.assertTrue(s.ended)

    def test_delete_contract_and_all(self):
        with Simulator(seed=5, start_time=START, rate=50,
                       extra=("--max-tick-by-tick", "-1")) as sim, Server(sim) as server:
            a = self.open(server, MNQ, "BidAsk")
            b = self.open(server, MNQ, "Last")
            other = self.open(server, AAPL, "BidAsk")
            try:
                r = server.delete(f"/stream/{MNQ}")
                self.assertEqual(r.status_code, 200, r.text)
                text = r.text
                self.assertIn(str(MNQ), text)
                self.assertIn("BidAsk", text)
                self.assertIn("Last", text)
                self.assertNotIn(str(AAPL), text)
                self.assert_stopped(a)
                self.assert_stopped(b)
                # the other contract goes on
                self.assertEqual(other.next_event(5).type, "tick")
                # its upstream subscriptions are cancelled at TWS
                server.wait_for(lambda: len([q for q in sim.requests()
                                             if q["msg"] == "cancelTickByTickData"]) >= 2,
                                timeout=10, what="cancelTickByTickData x2")
                # nothing left for MNQ
                r = server.delete(f"/stream/{MNQ}")
                self.assert_api_error(r.status_code,
                                      {k.lower(): v for k, v in r.headers.items()},
                                      r.json(), 404, r.json()["error"]["code"])
                # DELETE /stream/all
                c = self.open(server, EURUSD, "MidPoint")
                r = server.delete("/stream/all")
                self.assertEqual(r.status_code, 200, r.text)
                self.assertIn(str(AAPL), r.text)
                self.assertIn(str(EURUSD), r.text)
                self.assert_stopped(other)
                self.assert_stopped(c)
                server.wait_for(lambda: pick(server.json("/stream/active")[1], "clients",
                                             "client_streams") == [],
                                timeout=3, what="no client left after DELETE /stream/all")
            finally:
                for s in (a, b, other):
                    s.close()
                if "c" in locals():
                    c.close()

    def test_delete_when_nothing_runs_is_404(self):
        with Simulator(seed=5, start_time=START, rate=50) as sim, Server(sim) as server:
            r = server.delete(f"/stream/{AAPL}")
            self.assertEqual(r.status_code, 404, r.text)
            self.assertIn("error", r.json())
            r = server.delete("/stream/-1")
            self.assertEqual(r.status_code, 400, r.text)
            self.assertEqual(r.json()["error"]["code"], "INVALID_PARAMETER")
            r = server.delete("/stream/AAPL")  # a spec: resolved, then as for its id
            self.assertEqual(r.status_code, 404, r.text)
            self.assertEqual(r.json()["error"]["code"], "NOT_FOUND")


class Limits(ApiCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator(seed=9, start_time=START, rate=50,
                            extra=("--max-tick-by-tick", "-1"))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def assert_429(self, server, path):
        status, headers, body = self.stream_error(server, path)
        self.assert_api_error(status, headers, body, 429, "RATE_LIMIT_EXCEEDED")
        self.assertIn("retry-after", headers, headers)
        self.assertRegex(headers["retry-after"], r"^\d+$")
        self.assertGreaterEqual(int(headers["retry-after"]), 1)

    def test_max_streams(self):
        with Server(self.sim, args=("--max-streams", 1)) as server:
            a = server.stream(f"/stream/{AAPL}/BidAsk", {"timeout": "30"})
            try:
                self.assertEqual(a.status, 200)
                self.assertEqual(a.next_event(10).type, "info")
                self.assert_429(server, f"/stream/{AAPL}/Last")
                self.assert_429(server, f"/stream/{MNQ}/BidAsk")
                # the same (contract, type) shares the one subscription
                b = server.stream(f"/stream/{AAPL}/BidAsk", {"limit": "2"})
                self.assertEqual(b.status, 200)
                events = [e for e in b.read_to_end(10) if e.data is not None]
                b.close()
                self.assertEqual([e.type for e in events], ["info", "tick", "tick", "complete"])
            finally:
                a.close()

    def test_max_clients(self):
        with Server(self.sim, args=("--max-clients", 1)) as server:
            a = server.stream(f"/stream/{AAPL}/BidAsk", {"timeout": "30"})
            try:
                self.assertEqual(a.status, 200)
                self.assertEqual(a.next_event(10).type, "info")
                self.assert_429(server, f"/stream/{AAPL}/BidAsk")
                self.assert_429(server, f"/stream/{MNQ}/Last")
            finally:
                a.close()
            # the slot is free again once the client left
            server.wait_for(lambda: server.json("/health")[1]["clients"] == 0, timeout=5,
                            what="clients == 0")
            b = server.stream(f"/stream/{AAPL}/BidAsk", {"limit": "1"})
            self.assertEqual(b.status, 200)
            b.close()


class TwsRefusals(ApiCase):
    def test_tws_refuses_more_tick_by_tick_429(self):
        # TWS allows one tick-by-tick subscription here: the second is 10190
        with Simulator(seed=9, start_time=START, rate=50,
                       extra=("--max-tick-by-tick", "1")) as sim, Server(sim) as server:
            a = server.stream(f"/stream/{AAPL}/BidAsk", {"timeout": "30"})
            try:
                self.assertEqual(a.status, 200)
                self.assertEqual(a.next_event(10).type, "info")
                self.assertEqual(a.next_event(10).type, "tick")
                status, headers, body = self.stream_error(server, f"/stream/{MNQ}/Last")
                self.assert_api_error(status, headers, body, 429, "RATE_LIMIT_EXCEEDED")
                self.assertRegex(headers.get("retry-after", ""), r"^\d+$")
                # the refused subscription is not left behind
                _, active = server.json("/stream/active")
                self.assertEqual([(u["contract_id"], u["tick_type"]) for u in active["streams"]],
                                 [(AAPL, "BidAsk")])
                # the first stream is untouched
                self.assertEqual(a.next_event(10).type, "tick")
            finally:
                a.close()

    def test_no_market_data_permission_is_403_before_the_stream(self):
        # TWS refuses the subscription (10089) before the first client was
        # answered: an HTTP error, so a browser EventSource stops retrying.
        TSLA = 76792991
        with Simulator(seed=9, start_time=START, rate=50) as sim, Server(sim) as server:
            status, headers, body = self.stream_error(server, f"/stream/{TSLA}/BidAsk")
            self.assert_api_error(status, headers, body, 403, "TWS_ERROR_10089")
            self.assertIn("TSLA", body["error"]["message"])
            _, active = server.json("/stream/active")
            self.assertEqual(active["streams"], [])


class NoTws(ApiCase):
    def test_degraded_and_503(self):
        with Server(args=("--connection-timeout", 1)) as server:
            status, j = server.json("/health")
            self.assertEqual(status, 200)
            self.assertEqual(j["status"], "degraded", j)
            self.assertIs(j["tws_connected"], False)
            self.assertIn("tws", j)
            self.assertEqual(j["tws"]["client_id"], server.client_id)
            r = server.get("/ready")
            self.assertEqual(r.status_code, 503, r.text)
            t0 = time.monotonic()
            status, headers, body = self.stream_error(server, f"/stream/{AAPL}/BidAsk")
            elapsed = time.monotonic() - t0
            self.assert_api_error(status, headers, body, 503, "TWS_UNAVAILABLE")
            self.assertLess(elapsed, 6)
            # the rest of the API keeps serving
            self.assertEqual(server.get("/").status_code, 200)
            self.assertEqual(server.get("/stream/info").status_code, 200)
            self.assertEqual(server.get("/stream/active").status_code, 200)


class Cors(ApiCase):
    def test_default_any_origin(self):
        with Simulator(seed=2, start_time=START, rate=50) as sim, Server(sim) as server:
            r = server.get("/health", headers={"Origin": "http://example.com"})
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"),
                          ("*", "http://example.com"))
            r = server.options(f"/stream/{AAPL}", headers={
                "Origin": "http://example.com", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, last-event-id"})
            self.assertIn(r.status_code, (200, 204), r.text)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"),
                          ("*", "http://example.com"))
            self.assertIn("GET", r.headers.get("Access-Control-Allow-Methods", ""))
            allow_headers = r.headers.get("Access-Control-Allow-Headers", "").lower()
            self.assertTrue("*" in allow_headers or ("authorization" in allow_headers
                                                     and "last-event-id" in allow_headers),
                            allow_headers)
            for path in ("/", "/health", "/stream/info", "/stream/active", "/stream/all",
                         f"/stream/{AAPL}/BidAsk"):
                r = server.options(path, headers={
                    "Origin": "http://example.com", "Access-Control-Request-Method":
                    "DELETE" if path == "/stream/all" else "GET"})
                self.assertIn(r.status_code, (200, 204), path)
                self.assertIn(r.headers.get("Access-Control-Allow-Origin"),
                              ("*", "http://example.com"), path)
            s = server.stream(f"/stream/{AAPL}/BidAsk", {"limit": "1"},
                              headers={"Origin": "http://example.com"})
            self.assertIn(s.headers.get("access-control-allow-origin"),
                          ("*", "http://example.com"))
            s.close()

    def test_origin_list(self):
        allowed = "http://a.example.com"
        with Server(args=("--cors-origins", f"{allowed},https://b.example.com")) as server:
            r = server.get("/health", headers={"Origin": allowed})
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), allowed)
            self.assertIn("origin", r.headers.get("Vary", "").lower())
            r = server.get("/health", headers={"Origin": "https://b.example.com"})
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                             "https://b.example.com")
            r = server.get("/health", headers={"Origin": "http://evil.example.com"})
            self.assertEqual(r.status_code, 200)
            self.assertNotIn(r.headers.get("Access-Control-Allow-Origin"),
                             ("*", "http://evil.example.com"))
            r = server.options("/stream/265598", headers={
                "Origin": allowed, "Access-Control-Request-Method": "GET"})
            self.assertIn(r.status_code, (200, 204))
            self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), allowed)
            r = server.options("/stream/265598", headers={
                "Origin": "http://evil.example.com", "Access-Control-Request-Method": "GET"})
            self.assertNotIn(r.headers.get("Access-Control-Allow-Origin"),
                             ("*", "http://evil.example.com"))


class ApiKey(ApiCase):
    KEY = "s3cret-key-0123"

    def check_protected(self, server):
        auth = {"Authorization": f"Bearer {self.KEY}"}
        for path in ("/", "/stream/info", "/stream/active", "/nope"):
            with self.subTest(path=path):
                r = server.get(path)
                self.assert_api_error(r.status_code,
                                      {k.lower(): v for k, v in r.headers.items()},
                                      r.json(), 401, "AUTH_REQUIRED")
                r = server.get(path, headers={"Authorization": "Bearer wrong-key-9999"})
                self.assertEqual(r.status_code, 401)
                r = server.get(path, params={"api_key": "wrong-key-9999"})
                self.assertEqual(r.status_code, 401)
        for path in ("/", "/stream/info", "/stream/active"):
            self.assertEqual(server.get(path, headers=auth).status_code, 200, path)
            self.assertEqual(server.get(path, params={"api_key": self.KEY}).status_code, 200,
                             path)
        self.assertEqual(server.get("/nope", headers=auth).status_code, 404)
        # open: health, ready, preflight
        self.assertEqual(server.get("/health").status_code, 200)
        self.assertIn(server.get("/ready").status_code, (200, 503))
        r = server.options(f"/stream/{AAPL}", headers={
            "Origin": "http://example.com", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        self.assertIn(r.status_code, (200, 204))
        # streams and management
        status, headers, body = self.stream_error(server, f"/stream/{AAPL}/BidAsk",
                                                  {"limit": "1"})
        self.assert_api_error(status, headers, body, 401, "AUTH_REQUIRED")
        r = server.delete("/stream/all")
        self.assertEqual(r.status_code, 401)

    def test_flag(self):
        with Simulator(seed=2, start_time=START, rate=50) as sim, \
                Server(sim, args=("--api-key", self.KEY)) as server:
            self.check_protected(server)
            for kw in ({"params": {"tick_type": "BidAsk", "limit": "2", "api_key": self.KEY}},
                       {"params": {"tick_type": "BidAsk", "limit": "2"},
                        "headers": {"Authorization": f"Bearer {self.KEY}"}}):
                s = server.stream(f"/stream/{AAPL}", **kw)
                self.assertEqual(s.status, 200)
                events = [e for e in s.read_to_end(10) if e.data is not None]
                self.assertEqual([e.type for e in events], ["info", "tick", "tick", "complete"])
                s.close()

    def test_env(self):
        with Server(env={"IB_STREAM_API_KEY": self.KEY}) as server:
            self.check_protected(server)

    def test_no_key_no_auth(self):
        with Server() as server:
            self.assertEqual(server.get("/stream/info").status_code, 200)
            self.assertEqual(server.get("/").status_code, 200)


class BadConfig(unittest.TestCase):
    CASES = [
        ("IB_STREAM_CLIENT_ID", "--client-id", "abc"),
        ("IB_STREAM_PORTS", "--ports", "7497,notaport"),
        ("IB_STREAM_MAX_STREAMS", "--max-streams", "0"),
        ("IB_STREAM_MAX_CLIENTS", "--max-clients", "0"),
        ("IB_STREAM_STREAM_TIMEOUT", "--stream-timeout", "4"),
        ("IB_STREAM_BUFFER_SIZE", "--buffer-size", "0"),
        ("IB_STREAM_RECONNECT_ATTEMPTS", "--reconnect-attempts", "x"),
        ("IB_STREAM_CONNECTION_TIMEOUT", "--connection-timeout", "0"),
        ("IB_STREAM_LISTEN", "--listen", "localhost"),
        ("IB_STREAM_CORS_ORIGINS", "--cors-origins", "ftp://x.example.com"),
        ("IB_STREAM_API_KEY", "--api-key", "short"),
        ("IB_STREAM_LOG_LEVEL", "--log-level", "loud"),
        ("IB_STREAM_LOG_FORMAT", "--log-format", "xml"),
    ]

    def check(self, r, name):
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(name, lines[0])
        self.assertNotIn("listening", r.stdout)

    def test_bad_settings_exit_2_naming_the_variable(self):
        for env, flag, value in self.CASES:
            listen = [] if env == "IB_STREAM_LISTEN" else ["--listen", "127.0.0.1:0"]
            with self.subTest(env=env):
                r = run_server(listen, env={env: value})
                self.check(r, env)
            with self.subTest(flag=flag):
                r = run_server(listen + [flag, value])
                self.check(r, flag)

    def test_range_is_named(self):
        r = run_server(["--listen", "127.0.0.1:0", "--max-streams", "0"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("10000", r.stderr)
        r = run_server(["--listen", "127.0.0.1:0"], env={"IB_STREAM_STREAM_TIMEOUT": "9999"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("3600", r.stderr)

    def test_env_is_used_and_the_flag_wins(self):
        with Server(env={"IB_STREAM_MAX_STREAMS": "13", "IB_STREAM_MAX_CLIENTS": "17"},
                    args=("--max-clients", "19")) as server:
            status, root = server.json("/")
            self.assertEqual(root["limits"]["max_streams"], 13, root)
            self.assertEqual(root["limits"]["max_clients"], 19, root)
            self.assertEqual(server.json("/health")[1]["max_streams"], 13)


class EnvOnly(unittest.TestCase):
    def test_every_connection_setting_from_the_environment(self):
        with Simulator(seed=2, start_time=START, rate=50) as sim, \
                Server(bare=True, wait_ready=True, env={
                    "IB_STREAM_LISTEN": "127.0.0.1:0", "IB_STREAM_HOST": "127.0.0.1",
                    "IB_STREAM_PORTS": f"{closed_port()},{sim.port}",
                    "IB_STREAM_CLIENT_ID": "77", "IB_STREAM_CONNECTION_TIMEOUT": "2"}) as server:
            self.assertNotEqual(server.port, 8000)
            _, health = server.json("/health")
            self.assertEqual(health["status"], "healthy", health)
            self.assertEqual(health["tws"]["port"], sim.port)
            self.assertEqual(health["tws"]["client_id"], 77)
            self.assertEqual([q["client_id"] for q in sim.requests()][:1], [77])


class Shutdown(ApiCase):
    def test_sigterm_completes_streams_and_exits_0(self):
        with Simulator(seed=4, start_time=START, rate=50) as sim, Server(sim) as server:
            streams = []
            for path in (f"/stream/{AAPL}/BidAsk", f"/stream/{AAPL}/Last"):
                s = server.stream(path, {"timeout": "60"}, timeout=15)
                self.assertEqual(s.status, 200)
                self.assertEqual(s.next_event(10).type, "info")
                streams.append(s)
            self.assertEqual(streams[0].next_event(10).type, "tick")
            server.signal(signal.SIGTERM)
            for s in streams:
                blocks = s.read_to_end(15)
                events = [b for b in blocks if b.data is not None]
                self.assertTrue(events, "no event after SIGTERM")
                j = events[-1].json
                self.assertEqual(j["type"], "complete", j)
                self.assertEqual(j["reason"], "shutdown", j)
                self.assertTrue(s.ended)
                s.close()
            self.assertEqual(server.wait(15), 0)
            rc, stderr = server.stop()
            self.assertEqual(rc, 0)
            self.assertEqual(server.stdout_rest, [])
            # logs: JSON lines on stderr
            lines = [x for x in stderr.splitlines() if x.strip()]
            self.assertTrue(lines)
            for line in lines:
                self.assertIsInstance(json.loads(line), dict, line)

    def test_sigterm_without_drain_time_still_shuts_the_hub_down(self):
        # --drain-seconds 0: the clients get no time, but the Hub (TWS client,
        # subscriptions) is torn down before the exit; under LeakSanitizer
        # (scripts/sanitize.sh) anything left over makes the exit code non-zero.
        with Simulator(seed=4, start_time=START, rate=50) as sim, \
                Server(sim, args=("--drain-seconds", "0")) as server:
            s = server.stream(f"/stream/{AAPL}/BidAsk", {"timeout": "60"}, timeout=15)
            self.assertEqual(s.status, 200)
            self.assertEqual(s.next_event(10).type, "info")
            self.assertEqual(s.next_event(10).type, "tick")
            server.signal(signal.SIGTERM)
            self.assertEqual(server.wait(15), 0)
            s.close()
            self.assertIn("shutdown complete", server.stderr_text())


if __name__ == "__main__":
    unittest.main()
