"""ib-stream-server's WebSocket transport (shared/spec/api.md §5) with
real ib-stream-server and ib-tws-sim processes and Debian's python3-websockets
as the client (tests/integration/wsclient.py).

Row by row of §5: the three endpoints, every client message and its reply,
the server-pushed tick / error / complete / info messages, schema validation
(schemas/ws/, served at /ws/schemas), the limits (per IP, per connection,
message rate, message size), the close codes, the control channel
(get_stats = GET /ws/stats, list_streams = GET /stream/active), the API key,
and §4 across transports: one upstream subscription per (contract, tick type)
shared by SSE and WebSocket clients, its linger, TWS loss and SIGTERM.
Ticks are compared field by field with the seeded simulator's `--dump`.

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server and
ib-tws-sim> /usr/bin/python3 -m unittest -v test_ws_server
"""
import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import socket
import sys
import time
import unittest
import urllib.parse
import zlib

import websockets.exceptions

from serverproc import Server
from streamwatch import (AAPL, ES, EURUSD, ISO, MNQ, START, TYPES, UNKNOWN, ServerCase, Sim,
                         error_code, flatten, info_says, start_server, window_offset)
from wsclient import WS, run

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas",
                          "ws")
MESSAGE_TYPES = ["subscribe", "multi_subscribe", "unsubscribe", "unsubscribe_all", "ping",
                 "get_stats", "list_streams"]
MAX_STREAMS = 17  # the shared server's --max-streams: max_concurrent_streams in `connected`
LINGER_MS = 500
MiB = 1 << 20


def err_code(msg):
    return error_code(msg)


# /ws/stats (and `stats` data): api.md names its content (connections,
# subscriptions, per-IP counts, message rates), not its layout; these read
# either a flat counter ("connections": 3) or an object ("connections":
# {"active": 3, "by_ip": {...}}).
def active_count(stats, what):
    v = stats[what]
    if isinstance(v, dict):
        v = v["active"]
    assert isinstance(v, int) and not isinstance(v, bool), f"{what}: {stats}"
    return v


def per_ip(stats):
    for k in ("per_ip", "by_ip", "connections_per_ip"):
        if isinstance(stats.get(k), dict):
            return stats[k]
    conn = stats.get("connections")
    if isinstance(conn, dict):
        for k in ("per_ip", "by_ip"):
            if isinstance(conn.get(k), dict):
                return conn[k]
    raise AssertionError(f"no per-IP counts in {stats}")


def scalar_named(stats, word):
    """The one number of the stats whose flattened key contains `word`, or None."""
    hits = [v for k, v in flatten(stats).items() if word in k]
    assert len(hits) <= 1, f"{word}: several in {stats}"
    return hits[0] if hits else None


# A WebSocket peer by hand (RFC 6455), for a client that does not behave:
# the upgrade over a plain socket, and the server's (unmasked) frames.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def raw_upgrade(host, port, path, timeout=10, extensions=None, rcvbuf=None):
    """Connects (with a receive buffer of `rcvbuf` bytes when given) and
    performs the upgrade (offering `extensions`, by default none); returns
    the socket and the bytes received after the 101 response."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((host, port))
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{offer}"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"EOF during the upgrade: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101"), lines
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:])}
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    assert headers.get("sec-websocket-accept") == accept, headers
    return sock, rest


def parse_frame(data, with_rsv1=False):
    """The first whole server frame in data: (opcode, payload, rest), or None;
    with_rsv1: (opcode, rsv1, payload, rest)."""
    if len(data) < 2:
        return None
    assert not data[1] & 0x80, "server frames are not masked"
    opcode, n = data[0] & 0x0F, data[1] & 0x7F
    rsv1 = bool(data[0] & 0x40)
    at = {126: 4, 127: 10}.get(n, 2)
    if len(data) < at:
        return None
    if at > 2:
        n = int.from_bytes(data[2:at], "big")
    if len(data) < at + n:
        return None
    if with_rsv1:
        return opcode, rsv1, data[at:at + n], data[at + n:]
    return opcode, data[at:at + n], data[at + n:]


def read_frame(sock, buf, with_rsv1=False):
    """The next whole frame from sock after what buf holds: (opcode, payload, rest)."""
    while (frame := parse_frame(buf, with_rsv1)) is None:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"EOF before a whole frame: {buf!r}")
        buf += chunk
    return frame


class WsCase(ServerCase):
    """ServerCase (a simulator + server per test unless a class shares one)
    with WebSocket clients that are closed before the server stops."""

    sim_rate = 30.0
    sim_extra = ("--max-tick-by-tick", "-1")
    server_args = ("--linger-ms", str(LINGER_MS), "--backoff-max-ms", "1000")

    def setUp(self):
        self.clients = []
        super().setUp()

    # --- clients ---------------------------------------------------------
    def ws_url(self, path, params=None, server=None):
        server = server or self.server
        url = f"ws://{server.host}:{server.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return url

    def ws(self, path, params=None, server=None, **kw):
        url = self.ws_url(path, params, server)
        try:
            client = WS(url, **kw)
        except websockets.exceptions.InvalidStatusCode as e:
            raise AssertionError(f"{url}: the upgrade was refused with HTTP {e.status_code} "
                                 f"(api.md §5: accept, then error / close code)") from None
        self.clients.append(client)
        self.addCleanup(client.close)
        return client

    def connect(self, path, params=None, server=None, **kw):
        """A client whose first message, `connected`, has been checked."""
        c = self.ws(path, params, server, **kw)
        self.check_connected(c.next(10))
        return c

    def multi(self, con_id=AAPL, **kw):
        return self.connect(f"/ws/stream/{con_id}/multi", **kw)

    # --- checks ----------------------------------------------------------
    def check_envelope(self, msg):
        """Every server message has `type` and an ISO-8601 UTC `timestamp`."""
        self.assertIsInstance(msg, dict, msg)
        self.assertIsInstance(msg.get("type"), str, msg)
        self.assertIsInstance(msg.get("timestamp"), str, msg)
        self.assertRegex(msg["timestamp"], ISO, msg)

    def check_all_envelopes(self, client):
        for m in client.messages():
            self.check_envelope(m)

    def check_connected(self, msg, max_streams=None):
        self.check_envelope(msg)
        self.assertEqual(msg["type"], "connected", msg)
        self.assertIsInstance(msg.get("version"), str, msg)
        self.assertTrue(msg["version"], msg)
        info = msg["server_info"]
        self.assertIsInstance(info["max_subscriptions_per_connection"], int, msg)
        self.assertIsInstance(info["max_concurrent_streams"], int, msg)
        if max_streams is not None:
            self.assertEqual(info["max_concurrent_streams"], max_streams, msg)
        return info

    def check_error(self, msg, code, id_=None, mentions=()):
        self.check_envelope(msg)
        self.assertEqual(msg["type"], "error", msg)
        err = self.check_error_object(msg["error"], code, msg)
        if id_ is not None:
            self.assertEqual(msg.get("id"), id_, msg)
        text = err["message"] + " " + json.dumps(err["details"])
        for word in mentions:
            self.assertIn(word, text, f"the error should name {word!r}: {msg}")
        self.assertNotIn(".cpp", json.dumps(msg))
        return err

    def check_tick(self, msg, con_id, tick_type, request_id=None):
        self.check_envelope(msg)
        self.assertEqual(msg["type"], "tick", msg)
        self.assertEqual(msg["contract_id"], con_id, msg)
        self.assertEqual(msg["tick_type"], tick_type, msg)
        if request_id is not None:
            self.assertEqual(msg["request_id"], request_id, msg)
        return self.check_tick_data(msg["data"], tick_type, msg)

    def check_subscribed(self, msg, con_id, tick_type, id_=None):
        self.check_envelope(msg)
        self.assertEqual(msg["type"], "subscribed", msg)
        if id_ is not None:
            self.assertEqual(msg["id"], id_, msg)
        d = msg["data"]
        self.assertIsInstance(d["request_id"], str, msg)
        self.assertTrue(d["request_id"], msg)
        self.assertEqual(d["contract_id"], con_id, msg)
        self.assertEqual(d["tick_type"], tick_type, msg)
        self.assertIsInstance(d["contract_info"], dict, msg)
        return d

    def check_aapl_contract(self, c):
        self.assertEqual(c["symbol"], "AAPL", c)
        self.assertEqual(c["sec_type"], "STK", c)
        self.assertEqual(c["exchange"], "SMART", c)
        self.assertEqual(c["primary_exchange"], "NASDAQ", c)
        self.assertEqual(c["currency"], "USD", c)
        self.assertEqual(c["local_symbol"], "AAPL", c)
        self.assertEqual(c["trading_class"], "NMS", c)
        self.assertEqual(c["min_tick"], 0.01, c)

    def check_complete(self, msg, request_id, reason, total):
        self.check_envelope(msg)
        self.assertEqual(msg["type"], "complete", msg)
        self.assertEqual(msg["request_id"], request_id, msg)
        d = msg["data"]
        self.assertEqual(d["reason"], reason, msg)
        self.assertEqual(d["total_ticks"], total, msg)
        self.assertIsInstance(d["duration_seconds"], (int, float), msg)
        self.assertGreater(d["duration_seconds"], 0, msg)
        return d

    def ping_works(self, c, id_="after"):
        pong = c.request({"type": "ping", "id": id_})
        self.assertEqual(pong["type"], "pong", pong)
        self.assertFalse(c.closed, "the connection must stay open")
        return pong

    def expect_close(self, c, codes, timeout=10, what=""):
        code, reason = c.wait_closed(timeout)
        self.assertIn(code, codes, f"{what}: close code {code} ({reason!r}); messages "
                                   f"{[m for m in c.messages() if m.get('type') != 'tick'][-5:]}")
        return code

    def multi_subscribe(self, c, id_, tick_types, con_id=AAPL, params=None, timeout=10):
        data = {"contract_id": con_id, "tick_types": tick_types}
        if params is not None:
            data["params"] = params
        return c.request({"type": "multi_subscribe", "id": id_, "data": data}, timeout=timeout)

    def subscribe_ok(self, c, id_, tick_type, con_id=AAPL, params=None):
        """subscribe(), then check_subscribed() of the reply; returns its data."""
        return self.check_subscribed(self.subscribe(c, id_, tick_type, con_id, params), con_id,
                                     tick_type, id_)

    def subscribe(self, c, id_, tick_type, con_id=AAPL, params=None):
        msg = {"type": "subscribe", "id": id_,
               "data": {"contract_id": con_id, "tick_type": tick_type}}
        if params is not None:
            msg["data"]["params"] = params
        return c.request(msg, timeout=15)

    # --- HTTP ------------------------------------------------------------
    def http_ws_stats(self, server=None):
        status, body = (server or self.server).json("/ws/stats")
        self.assertEqual(status, 200, body)
        return body

    def ws_connections(self, server=None):
        return active_count(self.http_ws_stats(server), "connections")

    def wait_no_ws_connections(self, server=None):
        (server or self.server).wait_for(lambda: self.ws_connections(server) == 0, timeout=10,
                                         what="every WebSocket connection to be gone")


class SharedServerCase(WsCase):
    """One simulator + server for the whole class (read-mostly tests)."""

    start_in_setup = False
    class_server_args = ()
    class_sim_extra = ("--max-tick-by-tick", "-1", "--contract-rate", f"{ES}=0.001")

    @classmethod
    def setUpClass(cls):
        cls.shared_sim = Sim(seed=7, start_time=START, rate=cls.sim_rate,
                             extra=cls.class_sim_extra)
        cls.shared_server = start_server(cls.shared_sim, args=cls.class_server_args)

    @classmethod
    def tearDownClass(cls):
        cls.shared_server.cleanup()
        cls.shared_sim.stop()

    def setUp(self):
        super().setUp()
        self.sim = self.shared_sim
        self.server = self.shared_server
        self.addCleanup(self._log_tail_on_failure)

    def _log_tail_on_failure(self):
        if self._failed():
            tail = "\n".join(self.server.stderr_text().splitlines()[-40:])
            sys.stderr.write(f"\n--- server log tail ({self.id()}) ---\n{tail}\n---\n")


# --------------------------------------------------------------------------
class SingleStream(SharedServerCase):
    """/ws/stream/{contract_id}/{tick_type}?limit=&timeout=: subscribes at once."""

    class_server_args = ("--max-streams", str(MAX_STREAMS), "--linger-ms", "300")

    def read_limited(self, con_id, tick_type, n):
        c = self.ws(f"/ws/stream/{con_id}/{tick_type}", {"limit": n})
        c.wait(lambda s: any(m.get("type") == "complete" for m in s.messages()) or s.closed,
               30, "complete")
        time.sleep(0.5)  # nothing may follow complete
        msgs = c.messages()
        types = [m.get("type") for m in msgs]
        self.assertEqual(types, ["connected", "subscribed"] + ["tick"] * n + ["complete"], types)
        self.check_connected(msgs[0], MAX_STREAMS)
        sub = self.check_subscribed(msgs[1], con_id, tick_type)
        rid = sub["request_id"]
        data = [self.check_tick(m, con_id, tick_type, rid) for m in msgs[2:-1]]
        self.check_complete(msgs[-1], rid, "limit_reached", n)
        if c.closed:
            self.assertEqual(c.close_code, 1000, "a stream that ended closes normally")
        return msgs, sub, data

    def test_deflate_compresses_each_tick_once_for_all_clients(self):
        """With permessage-deflate, ticks arrive compressed (RSV1) and
        inflate, with the context a client keeps, to the same messages a
        plain client reads; the compressed tick bytes after each client's
        own prefix are the same for every client (deflated once)."""
        def open_stream(n):
            return raw_upgrade("127.0.0.1", self.server.port, f"/ws/stream/{AAPL}/BidAsk?limit={n}",
                               extensions="permessage-deflate; client_max_window_bits")

        def read_stream(opened):
            sock, buf = opened
            inflater = zlib.decompressobj(-15)  # one per connection: context takeover
            msgs = []
            with sock:
                while not msgs or msgs[-1][0].get("type") != "complete":
                    opcode, rsv1, payload, buf = read_frame(sock, buf, with_rsv1=True)
                    self.assertEqual(opcode, OP_TEXT)
                    text = inflater.decompress(payload + b"\x00\x00\xff\xff") if rsv1 else payload
                    msgs.append((json.loads(text), rsv1, payload))
            return msgs

        # Both subscribed to the one upstream at once: they get the same ticks.
        opened = [open_stream(8), open_stream(8)]
        first, second = [read_stream(o) for o in opened]
        for msgs in (first, second):
            kinds = [(m["type"], rsv1) for m, rsv1, _ in msgs]
            self.assertEqual(kinds, [("connected", False), ("subscribed", False)] +
                             [("tick", True)] * 8 + [("complete", False)], kinds)
            rid = self.check_subscribed(msgs[1][0], AAPL, "BidAsk")["request_id"]
            for m, _, _ in msgs[2:-1]:
                self.check_tick(m, AAPL, "BidAsk", rid)
        # The shared part: after the stored block holding the client's prefix.
        def shared_parts(msgs):
            out = {}
            for m, _, payload in msgs[2:-1]:
                self.assertEqual(payload[0], 0, "a stored block first")
                n = int.from_bytes(payload[1:3], "little")
                out[json.dumps(m["data"], sort_keys=True)] = payload[5 + n:]
            return out
        a, b = shared_parts(first), shared_parts(second)
        common = set(a) & set(b)
        self.assertGreaterEqual(len(common), 4, "the two clients shared most ticks")
        for k in common:
            self.assertEqual(a[k], b[k], "one compressed form per tick")
        # Without the offer: plain frames.
        sock, buf = raw_upgrade("127.0.0.1", self.server.port, f"/ws/stream/{AAPL}/BidAsk?limit=2")
        with sock:
            for _ in range(4):
                opcode, rsv1, payload, buf = read_frame(sock, buf, with_rsv1=True)
                self.assertFalse(rsv1)
                json.loads(payload)

    def test_limit_n_ticks_then_complete(self):
        msgs, sub, data = self.read_limited(AAPL, "BidAsk", 25)
        info = msgs[0]["server_info"]
        self.assertEqual(info["max_subscriptions_per_connection"], 20, msgs[0])
        self.assertEqual(info["max_concurrent_streams"], MAX_STREAMS, msgs[0])
        self.check_aapl_contract(sub["contract_info"])
        # the ticks are consecutive quotes of the seeded market
        want = self.sim.dump(AAPL, 4000, "BidAsk")
        self.assertIsNotNone(window_offset(data, want),
                             f"25 BidAsk ticks are not a contiguous run of the dump: {data[:3]}")

    def test_other_tick_types_and_contracts(self):
        for con_id, tick_type, n in ((AAPL, "Last", 5), (AAPL, "MidPoint", 6), (MNQ, "AllLast", 4)):
            with self.subTest(con_id=con_id, tick_type=tick_type):
                _, sub, data = self.read_limited(con_id, tick_type, n)
                want = self.sim.dump(con_id, 4000, tick_type)
                self.assertIsNotNone(window_offset(data, want), f"{tick_type}: {data[:3]}")
                if con_id == MNQ:
                    self.check_mnq_contract(sub["contract_info"])

    def test_prices_are_shortest_round_trip(self):
        c = self.ws(f"/ws/stream/{AAPL}/BidAsk", {"limit": 20})
        c.wait(lambda s: any(m.get("type") == "complete" for m in s.messages()), 30, "complete")
        ticks = [t for t in c.raw_texts if '"tick"' in t]
        self.assertEqual(len(ticks), 20)
        for text in ticks:
            # 175.25, not 175.25000000000001; one JSON object per message
            self.assertIsNone(re.search(r"\d\.\d{12,}", text), text)
            self.assertNotIn("\n", text.strip())

    def test_timeout_completes_with_timeout(self):
        # ES is nearly silent in this simulator: the stream ends by its timeout
        started = time.monotonic()
        single = self.ws(f"/ws/stream/{ES}/Last", {"timeout": 5})
        multi = self.multi(ES)
        sub = self.subscribe(multi, "t1", "Last", ES, {"timeout": 5})
        rid_multi = self.check_subscribed(sub, ES, "Last", "t1")["request_id"]
        comp = single.next_of_type("complete", 15)
        elapsed = time.monotonic() - started
        rid_single = next(m for m in single.messages()
                          if m.get("type") == "subscribed")["data"]["request_id"]
        d = self.check_complete(comp, rid_single, "timeout", len(single.ticks()))
        self.assertGreaterEqual(elapsed, 4.5, "not before the timeout")
        self.assertGreaterEqual(d["duration_seconds"], 4.5, comp)
        self.assertLess(d["duration_seconds"], 9, comp)
        comp = multi.next_of_type("complete", 10)
        self.check_complete(comp, rid_multi, "timeout", len(multi.ticks(rid_multi)))
        # on /multi the connection outlives its subscriptions
        self.ping_works(multi)

    def test_invalid_path_closes_4002(self):
        for path in ("/ws/stream/0/BidAsk", f"/ws/stream/{AAPL}/Foo",
                     "/ws/stream/-5/Last", "/ws/stream/2147483648/Last",
                     "/ws/stream/abc/Last", "/ws/stream/0/multi"):
            with self.subTest(path=path):
                c = self.ws(path)
                self.expect_close(c, (4002,), what=path)
                self.assertEqual(c.ticks(), [], path)

    def test_invalid_query_parameter_is_refused(self):
        for params in ({"limit": 0}, {"limit": 10001}, {"timeout": 4}, {"timeout": "x"}):
            with self.subTest(params=params):
                c = self.ws(f"/ws/stream/{AAPL}/BidAsk", params)
                code = c.wait_closed(10)[0]
                self.assertNotIn(code, (1000, 1006), f"{params}: refused with a reason code")
                self.assertEqual(c.ticks(), [], params)
                errs = [m for m in c.messages() if m.get("type") == "error"]
                self.assertTrue(errs, f"{params}: an error message says why")

    def test_unknown_contract(self):
        c = self.ws(f"/ws/stream/{UNKNOWN}/BidAsk")
        err = c.next_of_type("error", 15)
        self.check_error(err, "CONTRACT_NOT_FOUND")
        time.sleep(0.3)
        self.assertEqual(c.ticks(), [])
        self.assertNotIn("subscribed", [m.get("type") for m in c.messages()])
        # on /multi: an error answering the subscribe, the connection stays
        m = self.multi()
        reply = self.subscribe(m, "u1", "Last", UNKNOWN)
        self.check_error(reply, "CONTRACT_NOT_FOUND", "u1")
        self.ping_works(m)
        # and the unknown contract left nothing behind
        status, active = self.server.json("/stream/active")
        self.assertNotIn(UNKNOWN, [s["contract_id"] for s in active["streams"]], active)


class Multi(SharedServerCase):
    """/ws/stream/{contract_id}/multi and its client messages."""

    def test_multi_subscribe_routes_ticks_by_request_id(self):
        c = self.multi()
        reply = self.multi_subscribe(c, "m1", ["BidAsk", "Last"], timeout=15)
        self.check_envelope(reply)
        self.assertEqual(reply["type"], "multi_subscribed", reply)
        self.assertEqual(reply["data"]["contract_id"], AAPL, reply)
        subs = reply["data"]["subscriptions"]
        self.assertEqual([s["tick_type"] for s in subs], ["BidAsk", "Last"], reply)
        rids = {s["tick_type"]: s["request_id"] for s in subs}
        self.assertEqual(len(set(rids.values())), 2, "distinct request ids")
        for rid in rids.values():
            self.assertIsInstance(rid, str)
            self.assertTrue(rid)
        c.wait_ticks(15, rids["BidAsk"], timeout=30)
        c.wait_ticks(5, rids["Last"], timeout=30)
        by_rid = {v: k for k, v in rids.items()}
        for t in c.ticks():
            self.assertIn(t.get("request_id"), by_rid, t)
            self.check_tick(t, AAPL, by_rid[t["request_id"]])
        for tick_type, rid in rids.items():
            data = [t["data"] for t in c.ticks(rid)]
            want = self.sim.dump(AAPL, 6000, tick_type)
            self.assertIsNotNone(window_offset(data, want),
                                 f"{tick_type}: not a contiguous run of the seeded market")
        self.check_all_envelopes(c)

        done = c.request({"type": "unsubscribe_all", "id": "all"})
        self.check_envelope(done)
        self.assertEqual(done["type"], "unsubscribed_all", done)
        self.assertEqual(done["data"]["unsubscribed_count"], 2, done)
        n = len(c.ticks())
        time.sleep(1.0)
        self.assertEqual(len(c.ticks()), n, "no tick after unsubscribed_all")
        again = c.request({"type": "unsubscribe_all", "id": "all2"})
        self.assertEqual(again["data"]["unsubscribed_count"], 0, again)
        self.ping_works(c)

    def test_subscribe_and_unsubscribe(self):
        c = self.multi()
        a = self.subscribe_ok(c, "s1", "BidAsk")
        self.check_aapl_contract(a["contract_info"])
        b = self.subscribe_ok(c, "s2", "MidPoint")
        self.assertNotEqual(a["request_id"], b["request_id"])
        c.wait_ticks(5, a["request_id"])
        c.wait_ticks(3, b["request_id"])
        reply = c.request({"type": "unsubscribe", "id": "x1",
                           "data": {"request_id": a["request_id"]}})
        self.check_envelope(reply)
        self.assertEqual(reply["type"], "unsubscribed", reply)
        self.assertEqual(reply["data"]["request_id"], a["request_id"], reply)
        at = time.monotonic()
        n_a = len(c.ticks(a["request_id"]))
        n_b = len(c.ticks(b["request_id"]))
        c.wait(lambda s: len(s.ticks(b["request_id"])) >= n_b + 5, 20,
               "MidPoint ticks to go on")
        self.assertEqual(len(c.ticks(a["request_id"])), n_a, "no BidAsk tick after unsubscribed")
        self.assertGreater(time.monotonic() - at, 0)
        # no complete for an unsubscribed subscription is required; none for b
        self.assertFalse([m for m in c.messages() if m.get("type") == "complete"
                          and m.get("request_id") == b["request_id"]])

    def test_unsubscribe_unknown_request_id_is_an_error(self):
        c = self.multi()
        reply = c.request({"type": "unsubscribe", "id": "nope",
                           "data": {"request_id": "no-such-request"}})
        self.assertEqual(reply["type"], "error", reply)
        self.assertIn("id", reply)
        self.ping_works(c)

    def test_subscribe_with_limit_completes_and_the_connection_stays(self):
        c = self.multi()
        sub = self.subscribe_ok(c, "lim", "BidAsk", params={"limit": 7})
        rid = sub["request_id"]
        comp = c.next(20, lambda m: m.get("type") == "complete")
        time.sleep(0.4)
        self.check_complete(comp, rid, "limit_reached", 7)
        self.assertEqual(len(c.ticks(rid)), 7)
        self.assertFalse(c.closed)
        self.ping_works(c)
        # the finished subscription is no longer counted: unsubscribe_all finds none
        done = c.request({"type": "unsubscribe_all", "id": "u"})
        self.assertEqual(done["data"]["unsubscribed_count"], 0, done)

    def test_multi_subscribe_with_params(self):
        c = self.multi()
        reply = self.multi_subscribe(c, "mp", ["MidPoint", "BidAsk"], params={"limit": 3},
                                     timeout=15)
        self.assertEqual(reply["type"], "multi_subscribed", reply)
        rids = [s["request_id"] for s in reply["data"]["subscriptions"]]
        c.wait(lambda s: len([m for m in s.messages() if m.get("type") == "complete"]) == 2, 20,
               "two completes")
        for rid in rids:
            comp = next(m for m in c.messages() if m.get("type") == "complete"
                        and m.get("request_id") == rid)
            self.check_complete(comp, rid, "limit_reached", 3)
            self.assertEqual(len(c.ticks(rid)), 3)

    def test_ping_pong(self):
        c = self.multi()
        for id_, ts in (("p1", 1736937000123), ("p2", "2025-01-15T10:30:00.123Z"), ("p3", 12.5),
                        ("p4", None)):
            msg = {"type": "ping", "id": id_}
            if ts is not None:
                msg["timestamp"] = ts
            before = time.time()
            pong = c.request(msg)
            self.check_envelope(pong)
            self.assertEqual(pong["type"], "pong", pong)
            self.assertEqual(pong["id"], id_, pong)
            self.assertIn("client_timestamp", pong["data"], pong)
            self.assertEqual(pong["data"]["client_timestamp"], ts, pong)
            self.assertIs(type(pong["data"]["client_timestamp"]), type(ts), pong)
            st = pong["data"]["server_timestamp"]
            self.assertRegex(st, ISO)
            parsed = time.mktime(time.strptime(st[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            self.assertLess(abs(parsed - before), 5, f"server_timestamp {st} is now (UTC)")

    def test_ping_frame_gets_a_pong_frame(self):
        """A WebSocket ping frame (not the JSON `ping`) is answered by a pong
        frame with the same payload (RFC 6455 5.5.3)."""
        c = self.multi()

        async def ping():
            pong_waiter = await c.ws.ping(b"ib-stream-liveness")
            started = time.monotonic()
            await asyncio.wait_for(pong_waiter, 5)
            return time.monotonic() - started

        for _ in range(3):
            self.assertLess(run(ping(), timeout=10), 5)
        self.ping_works(c)  # the JSON ping still works beside it

    def test_every_schema_violation_is_invalid_message(self):
        sub = lambda data, **extra: {"type": "subscribe", "id": "v", "data": data, **extra}  # noqa
        ok = {"contract_id": AAPL, "tick_type": "BidAsk"}
        cases = [
            ("missing field", sub({"contract_id": AAPL}), "tick_type", "v"),
            ("missing data", {"type": "subscribe", "id": "v"}, "data", "v"),
            ("missing id", {"type": "ping"}, "id", None),
            ("missing type", {"id": "v"}, "type", "v"),
            ("wrong type: contract_id boolean", sub({**ok, "contract_id": True}),
             "contract_id", "v"),
            ("contract_id empty string", sub({**ok, "contract_id": ""}), "contract_id", "v"),
            ("wrong type: contract_id float", sub({**ok, "contract_id": 265598.5}),
             "contract_id", "v"),
            ("wrong type: id number", {"type": "ping", "id": 7}, "id", None),
            ("wrong type: params", sub({**ok, "params": [1]}), "params", "v"),
            ("out of range: limit 0", sub({**ok, "params": {"limit": 0}}), "limit", "v"),
            ("out of range: limit 10001", sub({**ok, "params": {"limit": 10001}}), "limit", "v"),
            ("out of range: timeout 4", sub({**ok, "params": {"timeout": 4}}), "timeout", "v"),
            ("out of range: timeout 3601", sub({**ok, "params": {"timeout": 3601}}), "timeout",
             "v"),
            ("out of range: contract_id 0", sub({**ok, "contract_id": 0}), "contract_id", "v"),
            ("out of range: contract_id 2^31", sub({**ok, "contract_id": 2 ** 31}),
             "contract_id", "v"),
            ("out of range: id too long", {"type": "ping", "id": "x" * 129}, "id", None),
            ("out of range: empty id", {"type": "ping", "id": ""}, "id", None),
            ("bad enum: tick_type", sub({**ok, "tick_type": "Foo"}), "tick_type", "v"),
            ("bad enum: lower-case tick_type", sub({**ok, "tick_type": "bidask"}), "tick_type",
             "v"),
            ("unknown type", {"type": "subscribe_all", "id": "v"}, "type", "v"),
            ("extra property at the root", {"type": "ping", "id": "v", "extra": 1}, "extra", "v"),
            ("extra property in params", sub({**ok, "params": {"limt": 5}}), "limt", "v"),
            ("extra property in data", sub({**ok, "foo": 1}), "foo", "v"),
            ("data on a message without data", {"type": "unsubscribe_all", "id": "v",
                                                "data": {}}, "data", "v"),
            ("non-unique tick_types", {"type": "multi_subscribe", "id": "v", "data": {
                "contract_id": AAPL, "tick_types": ["BidAsk", "BidAsk"]}}, "tick_types", "v"),
            ("too many tick_types", {"type": "multi_subscribe", "id": "v", "data": {
                "contract_id": AAPL, "tick_types": TYPES + ["Last"]}}, "tick_types", "v"),
            ("empty tick_types", {"type": "multi_subscribe", "id": "v", "data": {
                "contract_id": AAPL, "tick_types": []}}, "tick_types", "v"),
            ("unsubscribe without request_id", {"type": "unsubscribe", "id": "v", "data": {}},
             "request_id", "v"),
        ]
        raw_cases = [("not JSON", "{not json"), ("truncated JSON", '{"type":"ping","id":"v"'),
                     ("a JSON array", "[1,2]"), ("a JSON string", '"ping"')]
        for what, msg, prop, id_ in cases:
            with self.subTest(what):
                c = self.multi()
                c.send(msg)
                err = c.next(10)
                self.check_error(err, "INVALID_MESSAGE", id_, mentions=(prop,))
                if id_ is None:
                    self.assertNotIn(err.get("id"), ("", 7), err)
                self.ping_works(c)
                c.close()
        for what, text in raw_cases:
            with self.subTest(what):
                c = self.multi()
                c.send_raw(text)
                self.check_error(c.next(10), "INVALID_MESSAGE")
                self.ping_works(c)
                c.close()
        # nothing was subscribed by any of them
        self.server.wait_for(lambda: not [x for x in self.server.json("/stream/active")[1]
                                          ["clients"] if x.get("transport") != "sse"],
                             timeout=5, what="no WebSocket client stream")

    def test_repeated_invalid_messages_close_4000(self):
        c = self.multi()
        for i in range(30):
            if not c.send_raw("{oops " + str(i)):
                break
            time.sleep(0.01)
        self.expect_close(c, (4000,), what="30 invalid messages in a row")
        errs = [m for m in c.messages() if m.get("type") == "error"]
        self.assertTrue(errs)
        for e in errs:
            self.check_error(e, "INVALID_MESSAGE")

    def test_binary_frame_closes_1003(self):
        c = self.multi()
        c.send_raw(json.dumps({"type": "ping", "id": "b"}).encode())
        self.expect_close(c, (1003,), what="binary frame")
        self.assertNotIn("pong", [m.get("type") for m in c.messages()])

    def test_message_over_1_mib_closes_1009(self):
        for compression in (None, "deflate"):
            with self.subTest(compression=compression):
                c = self.multi(compression=compression)
                big = json.dumps({"type": "ping", "id": "big", "timestamp": "x" * (MiB + 10)})
                self.assertGreater(len(big), MiB)
                c.send_raw(big)
                self.expect_close(c, (1009, 1008), 15, "message > 1 MiB")
                self.assertNotIn("pong", [m.get("type") for m in c.messages()])

    def test_message_just_under_1_mib_is_read(self):
        c = self.multi(compression=None)
        text = json.dumps({"type": "ping", "id": "big", "timestamp": "x" * (MiB - 200)})
        self.assertLessEqual(len(text.encode()), MiB)
        c.send_raw(text)
        # read and validated: timestamp is longer than 64 characters
        self.check_error(c.next(15), "INVALID_MESSAGE", "big", mentions=("timestamp",))
        self.ping_works(c)

    def test_permessage_deflate_is_negotiated(self):
        c = self.multi(compression="deflate")
        ext = c.response_headers.get("Sec-WebSocket-Extensions", "")
        self.assertIn("permessage-deflate", ext, dict(c.response_headers.raw_items()))
        self.assertTrue(c.ws.extensions, "the client took the extension into use")
        self.subscribe_ok(c, "z", "BidAsk", params={"limit": 3})
        c.wait_ticks(3)
        # without the offer: no extension, still works
        plain = self.multi(compression=None)
        self.assertNotIn("permessage-deflate",
                         plain.response_headers.get("Sec-WebSocket-Extensions", ""))
        self.ping_works(plain)

    def test_control_accepts_everything_multi_does(self):
        c = self.connect("/ws/control")
        self.ping_works(c)
        s = self.subscribe_ok(c, "cs", "BidAsk", params={"limit": 2})
        comp = c.next(20, lambda m: m.get("type") == "complete")
        self.check_complete(comp, s["request_id"], "limit_reached", 2)
        r = self.multi_subscribe(c, "cm", ["Last"])
        self.assertEqual(r["type"], "multi_subscribed", r)
        r = c.request({"type": "unsubscribe_all", "id": "cu"})
        self.assertEqual(r["data"]["unsubscribed_count"], 1, r)

    def test_schemas_endpoint(self):
        r = self.server.get("/ws/schemas")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("application/json", r.headers.get("Content-Type", ""))
        served = r.json()
        self.assertIsInstance(served, dict)
        for name in MESSAGE_TYPES:
            with self.subTest(name=name):
                self.assertIn(name, served)
                with open(os.path.join(SCHEMA_DIR, f"{name}.json")) as f:
                    self.assertEqual(served[name], json.load(f), name)
                self.assertIs(served[name]["additionalProperties"], False)


# --------------------------------------------------------------------------
class FirstTicks(WsCase):
    """A fresh simulator: the first subscription of a contract starts its
    market, so the first subscriber's ticks are the dump from its very first
    tick on (as SSE's first tick has id 1, test_server_sharing). Every way of
    subscribing, on every contract of the simulator, twice over."""

    start_in_setup = False
    N = 12

    def first_ticks(self, con_id, tick_type, how):
        if how == "path":
            c = self.ws(f"/ws/stream/{con_id}/{tick_type}", {"limit": self.N})
        else:
            c = self.multi(con_id)
            data = {"contract_id": con_id, "params": {"limit": self.N}}
            if how == "multi_subscribe":
                data["tick_types"] = [tick_type]
            else:
                data["tick_type"] = tick_type
            c.send({"type": how, "id": "f", "data": data})
        c.next(30, lambda m: m.get("type") == "complete")
        return [t["data"] for t in c.ticks()]

    def test_ticks_equal_the_dump_field_by_field(self):
        rounds = (((AAPL, "BidAsk", "multi_subscribe"), (MNQ, "AllLast", "subscribe"),
                   (EURUSD, "MidPoint", "path"), (ES, "Last", "subscribe")),
                  ((AAPL, "Last", "subscribe"), (MNQ, "BidAsk", "path"),
                   (EURUSD, "BidAsk", "multi_subscribe"), (ES, "MidPoint", "multi_subscribe")))
        for n, plan in enumerate(rounds):
            self.start()
            for con_id, tick_type, how in plan:
                with self.subTest(round=n, con_id=con_id, tick_type=tick_type, how=how):
                    got = self.first_ticks(con_id, tick_type, how)
                    want = self.sim.dump(con_id, 200, tick_type)
                    self.assertEqual(len(got), self.N)
                    self.assertEqual(got, want[:self.N],
                                     f"the first subscriber of {con_id} {tick_type} ({how}) "
                                     f"must get the market from its first tick; got a run "
                                     f"from dump index {window_offset(got, want)}")
            for c in self.clients:
                c.close()
            self._stop_server()


# --------------------------------------------------------------------------
class Limits(SharedServerCase):
    class_server_args = ("--ws-max-connections-per-ip", "3", "--ws-max-subscriptions", "2",
                         "--ws-max-messages-per-second", "20", "--linger-ms", "200")

    def setUp(self):
        super().setUp()
        self.wait_no_ws_connections()

    def test_connections_per_ip(self):
        first = [self.multi() for _ in range(3)]
        fourth = self.ws(f"/ws/stream/{AAPL}/multi")
        self.expect_close(fourth, (1008,), what="4th connection from one IP")
        self.assertNotIn("subscribed", [m.get("type") for m in fourth.messages()])
        for c in first:
            self.ping_works(c)
        stats = self.http_ws_stats()
        self.assertEqual(active_count(stats, "connections"), 3, stats)
        self.assertEqual(per_ip(stats), {"127.0.0.1": 3}, stats)
        rejected = scalar_named(stats, "rejected")
        if rejected is not None:
            self.assertGreaterEqual(rejected, 1, stats)
        limit = scalar_named(stats, "max_connections_per_ip")
        if limit is not None:
            self.assertEqual(limit, 3, stats)
        # a freed slot can be used again
        first[0].close()
        self.server.wait_for(lambda: self.ws_connections() == 2, timeout=5,
                             what="the closed connection to be counted out")
        again = self.multi()
        self.ping_works(again)
        # the single-stream endpoint counts too
        extra = self.ws(f"/ws/stream/{AAPL}/BidAsk")
        self.expect_close(extra, (1008,), what="4th connection (single stream)")

    def test_subscriptions_per_connection(self):
        c = self.multi()
        info = c.messages()[0]["server_info"]
        self.assertEqual(info["max_subscriptions_per_connection"], 2, info)
        a = self.subscribe_ok(c, "a", "BidAsk")
        self.subscribe_ok(c, "b", "Last")
        third = self.subscribe(c, "c", "MidPoint")
        self.check_error(third, "RATE_LIMIT_EXCEEDED", "c")
        multi = self.multi_subscribe(c, "d", ["MidPoint", "AllLast"])
        self.check_error(multi, "RATE_LIMIT_EXCEEDED", "d")
        self.ping_works(c)
        c.wait_ticks(3, a["request_id"])
        stats = self.http_ws_stats()
        self.assertEqual(active_count(stats, "subscriptions"), 2, stats)
        # after an unsubscribe there is room again
        c.request({"type": "unsubscribe", "id": "u", "data": {"request_id": a["request_id"]}})
        self.subscribe_ok(c, "e", "MidPoint")
        # a multi_subscribe is all or nothing
        c.request({"type": "unsubscribe_all", "id": "ua"})
        r = self.multi_subscribe(c, "f", TYPES)
        self.check_error(r, "RATE_LIMIT_EXCEEDED", "f")
        time.sleep(0.3)
        self.assertEqual(active_count(self.http_ws_stats(), "subscriptions"), 0)

    def test_message_rate_closes_1008(self):
        c = self.multi()
        for i in range(5):
            self.ping_works(c, f"slow{i}")
        time.sleep(1.2)
        sent = 0
        for i in range(50):
            if not c.send({"type": "ping", "id": f"fast{i}"}):
                break
            sent += 1
        self.expect_close(c, (1008,), what="50 pings at once with a limit of 20/s")
        pongs = [m for m in c.messages() if m.get("type") == "pong"
                 and m["id"].startswith("fast")]
        self.assertLessEqual(len(pongs), 21, "messages beyond the rate are not answered")
        # other connections are not affected
        self.ping_works(self.multi())


# --------------------------------------------------------------------------
class Control(WsCase):
    """/ws/control: get_stats and list_streams against reality and HTTP."""

    server_args = ("--linger-ms", str(LINGER_MS), "--max-streams", "9")

    def test_get_stats_counts_match_reality_and_http(self):
        ctl = self.connect("/ws/control")
        a = self.multi()
        r = self.multi_subscribe(a, "m", ["BidAsk", "Last"])
        self.assertEqual(r["type"], "multi_subscribed", r)
        b = self.connect(f"/ws/stream/{AAPL}/MidPoint")
        b.next_of_type("subscribed", 15)
        stats = ctl.request({"type": "get_stats", "id": "st"})
        self.check_envelope(stats)
        self.assertEqual(stats["type"], "stats", stats)
        d = stats["data"]
        self.assertEqual(active_count(d, "connections"), 3, d)
        self.assertEqual(per_ip(d), {"127.0.0.1": 3}, d)
        self.assertEqual(active_count(d, "subscriptions"), 3, d)
        # message rates are there (numbers)
        rates = {k: v for k, v in flatten(d).items() if "per_second" in k}
        self.assertTrue(rates, f"message rates in {d}")
        for k, v in rates.items():
            self.assertIsInstance(v, (int, float), k)
            self.assertGreaterEqual(v, 0, k)
        http = self.http_ws_stats()
        self.assertEqual(set(flatten(http)), set(flatten(d)), "same shape as GET /ws/stats")
        for k, v in flatten(d).items():
            if k.startswith("messages") or k == "timestamp":
                continue
            self.assertEqual(flatten(http)[k], v, k)

        # counts follow reality
        b.close()
        a.request({"type": "unsubscribe", "id": "u",
                   "data": {"request_id": r["data"]["subscriptions"][0]["request_id"]}})
        self.server.wait_for(lambda: self.ws_connections() == 2, timeout=5,
                             what="the closed connection to be counted out")
        d = ctl.request({"type": "get_stats", "id": "st2"})["data"]
        self.assertEqual(active_count(d, "connections"), 2, d)
        self.assertEqual(per_ip(d), {"127.0.0.1": 2}, d)
        self.assertEqual(active_count(d, "subscriptions"), 1, d)
        self.assertEqual(active_count(self.http_ws_stats(), "subscriptions"), 1)

    def test_list_streams_is_stream_active(self):
        ctl = self.connect("/ws/control")
        self.assertEqual(ctl.messages()[0]["server_info"]["max_concurrent_streams"], 9)
        a = self.multi()
        s = self.subscribe_ok(a, "s", "BidAsk", params={"timeout": 60})
        sse = self.listen(f"/stream/{AAPL}/BidAsk")
        sse.wait_ticks(2)
        a.wait_ticks(2)
        reply = ctl.request({"type": "list_streams", "id": "ls"})
        self.check_envelope(reply)
        self.assertEqual(reply["type"], "streams", reply)
        d = reply["data"]
        active = self.active()
        self.assertEqual(set(d), set(active), "same members as GET /stream/active")
        self.assertEqual(len(d["streams"]), 1, d)
        up = d["streams"][0]
        self.assertEqual(set(up), set(active["streams"][0]))
        self.assertEqual((up["contract_id"], up["tick_type"], up["clients"]),
                         (AAPL, "BidAsk", 2), up)
        self.assertEqual(len(d["clients"]), 2, d)
        self.assertEqual(set(d["clients"][0]), set(active["clients"][0]))
        transports = sorted(c["transport"] for c in d["clients"])
        self.assertEqual(transports[0], "sse", transports)
        self.assertIn(transports[1], ("websocket", "ws"), transports)
        ws_client = next(c for c in d["clients"] if c["transport"] != "sse")
        self.assertEqual(ws_client["timeout"], 60, ws_client)
        self.assertIn("127.0.0.1", ws_client["remote"], ws_client)
        self.assertGreaterEqual(ws_client["ticks_sent"], 1, ws_client)
        self.assertTrue(s["request_id"])


# --------------------------------------------------------------------------
class ApiKey(SharedServerCase):
    KEY = "ws-s3cret-4567"
    class_server_args = ("--api-key", KEY)

    def test_without_key_auth_required_then_4001(self):
        for path, params, headers in (
                (f"/ws/stream/{AAPL}/BidAsk", {"limit": 2}, None),
                (f"/ws/stream/{AAPL}/multi", None, None),
                ("/ws/control", None, None),
                (f"/ws/stream/{AAPL}/BidAsk", {"limit": 2, "api_key": "wrong-key-000"}, None),
                ("/ws/control", None, {"Authorization": "Bearer wrong-key-000"})):
            with self.subTest(path=path, params=params, headers=headers):
                c = self.ws(path, params, headers=headers)
                self.expect_close(c, (4001,), what="no valid key")
                msgs = c.messages()
                errs = [m for m in msgs if m.get("type") == "error"]
                self.assertEqual(len(errs), 1, msgs)
                self.check_error(errs[0], "AUTH_REQUIRED")
                self.assertEqual([m.get("type") for m in msgs if m.get("type") != "connected"],
                                 ["error"], msgs)
        r = self.server.get("/ws/stats")
        self.assertEqual(r.status_code, 401, r.text)

    def test_with_key(self):
        c = self.ws(f"/ws/stream/{AAPL}/BidAsk", {"limit": 2, "api_key": self.KEY})
        c.next(20, lambda m: m.get("type") == "complete")
        self.assertEqual([m["type"] for m in c.messages()],
                         ["connected", "subscribed", "tick", "tick", "complete"])
        m = self.connect(f"/ws/stream/{AAPL}/multi",
                         headers={"Authorization": f"Bearer {self.KEY}"})
        self.ping_works(m)
        ctl = self.connect("/ws/control", {"api_key": self.KEY})
        st = ctl.request({"type": "get_stats", "id": "s"})
        self.assertEqual(st["type"], "stats", st)
        r = self.server.get("/ws/stats", headers={"Authorization": f"Bearer {self.KEY}"})
        self.assertEqual(r.status_code, 200, r.text)


# --------------------------------------------------------------------------
class Sharing(WsCase):
    """One upstream per (contract, tick type) across SSE and WebSocket."""

    def test_sse_and_websocket_clients_share_one_upstream(self):
        sse = self.listen(f"/stream/{AAPL}/BidAsk")
        self.assertEqual(sse.status, 200)
        sse.wait_ticks(3)
        single = self.connect(f"/ws/stream/{AAPL}/BidAsk")
        multi = self.multi()
        rid = self.subscribe_ok(multi, "x", "BidAsk")["request_id"]
        single.wait_ticks(30, timeout=30)
        multi.wait_ticks(30, rid, timeout=30)
        reqs = self.sim.tbt(AAPL, "BidAsk")
        self.assertEqual(len(reqs), 1, f"one reqTickByTickData for 3 clients: {reqs}")
        self.assertEqual(len(self.sim.tbt()), 1, self.sim.tbt())
        [up] = self.upstreams(AAPL, "BidAsk")
        self.assertEqual(up["clients"], 3, up)

        # every client sees the same sequence: the WebSocket ticks are a
        # contiguous run of what the SSE client (which came first) received
        ws_runs = {"single": [t["data"] for t in single.ticks()],
                   "multi": [t["data"] for t in multi.ticks(rid)]}
        last = max(len(r) for r in ws_runs.values())
        n_sse = len(sse.ticks())
        sse.wait_ticks(n_sse + last + 5, timeout=30)
        ids = sse.ids()
        self.assert_consecutive(ids, "sse")
        sse_data = [d for _, d in sse.ticks()]
        want = self.sim.dump(AAPL, ids[-1] + 5, "BidAsk")
        for i, d in sse.ticks():
            self.assertEqual(d, want[i - 1], f"sse id {i}")
        for who, run in ws_runs.items():
            k = window_offset(run, sse_data)
            self.assertIsNotNone(k, f"{who}: its {len(run)} ticks are not a contiguous run of "
                                    f"the SSE client's")

    def test_unsubscribe_of_the_last_client_cancels_after_the_linger(self):
        c = self.multi()
        rid = self.subscribe_ok(c, "s", "BidAsk")["request_id"]
        c.wait_ticks(5, rid)
        [req] = self.sim.tbt(AAPL, "BidAsk")
        c.request({"type": "unsubscribe", "id": "u", "data": {"request_id": rid}})
        left = time.monotonic()
        cancelled = self.server.wait_for(lambda: self.sim.cancels([req["req_id"]]), timeout=8,
                                         interval=0.02, what="cancelTickByTickData")
        waited = time.monotonic() - left
        self.assertEqual(len(cancelled), 1)
        self.assertGreaterEqual(waited, LINGER_MS / 1000 - 0.05,
                                f"cancelled {waited:.3f}s after the unsubscribe; the linger is "
                                f"{LINGER_MS} ms")
        self.assertLess(waited, 5.0)
        self.server.wait_for(lambda: not self.active()["streams"], timeout=5,
                             what="/stream/active to be empty")
        self.ping_works(c)

    def test_resubscribe_within_the_linger_reuses_the_upstream(self):
        c = self.multi()
        rid = self.subscribe_ok(c, "s", "BidAsk")["request_id"]
        c.wait_ticks(3, rid)
        c.request({"type": "unsubscribe", "id": "u", "data": {"request_id": rid}})
        rid2 = self.subscribe_ok(c, "s2", "BidAsk")["request_id"]
        c.wait_ticks(3, rid2)
        time.sleep(LINGER_MS / 1000 * 2)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 1, self.sim.tbt())
        self.assertEqual(self.sim.cancels(), [])

    def test_closing_the_socket_frees_the_subscription(self):
        c = self.multi()
        r = self.multi_subscribe(c, "m", ["BidAsk", "MidPoint"])
        self.assertEqual(r["type"], "multi_subscribed", r)
        c.wait_ticks(5)
        self.assertEqual(len(self.active()["streams"]), 2)
        self.assertEqual(active_count(self.http_ws_stats(), "subscriptions"), 2)
        c.abort()  # no close frame, no unsubscribe
        self.server.wait_for(lambda: not self.active()["clients"], timeout=5,
                             what="the WebSocket client streams to leave /stream/active")
        self.server.wait_for(lambda: not self.active()["streams"], timeout=5,
                             what="/stream/active streams empty after the linger")
        self.server.wait_for(lambda: len(self.sim.cancels()) == 2, timeout=5,
                             what="both upstreams cancelled")
        stats = self.http_ws_stats()
        self.assertEqual(active_count(stats, "connections"), 0, stats)
        self.assertEqual(active_count(stats, "subscriptions"), 0, stats)
        self.assertEqual(per_ip(stats), {}, stats)


# --------------------------------------------------------------------------
class Liveness(WsCase):
    """WebSocket ping/pong frames for liveness: with
    --ws-idle-timeout 2 the server pings a peer silent for 1 s and drops one
    silent for 2 s; a peer answering the pings stays."""

    IDLE = 2
    server_args = WsCase.server_args + ("--ws-idle-timeout", str(IDLE))

    def test_idle_timeout_is_reported(self):
        status, root = self.server.json("/")
        self.assertEqual(status, 200, root)
        self.assertEqual(root["websocket_limits"]["idle_timeout_seconds"], self.IDLE, root)

    def test_dead_peer_is_reaped(self):
        started = time.monotonic()
        sock, buf = raw_upgrade(self.server.host, self.server.port, "/ws/control")
        self.addCleanup(sock.close)
        opcode, payload, buf = read_frame(sock, buf)
        self.assertEqual(opcode, OP_TEXT)
        self.check_connected(json.loads(payload))
        self.assertEqual(self.ws_connections(), 1)
        # From here on the peer is dead: it reads nothing and answers nothing.
        self.server.wait_for(lambda: self.ws_connections() == 0, timeout=self.IDLE + 8,
                             what="the dead peer to be reaped")
        reaped = time.monotonic() - started
        self.assertGreaterEqual(reaped, self.IDLE * 0.9, "not before the idle timeout")
        self.assertLess(reaped, self.IDLE + 4, "within a few seconds of the idle timeout")
        # What the server sent meanwhile: a ping frame, then the end (EOF or
        # reset; Beast drops the connection without a close handshake).
        sock.settimeout(5)
        frames, ended = [], False
        while not ended:
            while (frame := parse_frame(buf)) is not None:
                frames.append(frame[0])
                buf = frame[2]
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            except socket.timeout:
                self.fail(f"the server did not close the socket; frames {frames}")
            ended = not chunk
            buf += chunk
        self.assertIn(OP_PING, frames, "the server pinged the silent peer first")
        self.assertNotIn(OP_TEXT, frames, frames)
        stats = self.http_ws_stats()
        self.assertEqual(active_count(stats, "connections"), 0, stats)
        self.assertEqual(per_ip(stats), {}, stats)

    def test_dead_peer_with_a_subscription_is_reaped_and_freed(self):
        """Ticks written to a dead peer are no data from it: it is reaped and
        its subscription leaves the Hub."""
        sock, buf = raw_upgrade(self.server.host, self.server.port, f"/ws/stream/{AAPL}/BidAsk")
        self.addCleanup(sock.close)
        opcode, payload, buf = read_frame(sock, buf)
        self.check_connected(json.loads(payload))
        self.server.wait_for(lambda: self.upstreams(AAPL, "BidAsk"), timeout=10,
                             what="the path's subscription")
        self.server.wait_for(lambda: self.ws_connections() == 0, timeout=self.IDLE + 8,
                             what="the dead subscriber to be reaped")
        self.server.wait_for(lambda: not self.active()["clients"], timeout=5,
                             what="its client stream to leave /stream/active")

    def test_live_quiet_client_stays_connected(self):
        c = self.connect("/ws/control")
        answered = []  # the server's pings this client answered (websockets does it)
        pong = c.ws.pong

        async def counting_pong(data=b""):
            answered.append(time.monotonic())
            await pong(data)

        c.ws.pong = counting_pong
        time.sleep(self.IDLE * 2 + 1.5)  # sends nothing: only its pongs
        self.assertFalse(c.closed, f"closed {c.close_code} {c.close_reason!r}")
        self.assertGreaterEqual(len(answered), 2, "the server kept pinging the quiet client")
        stats = self.http_ws_stats()
        self.assertEqual(active_count(stats, "connections"), 1, stats)
        self.ping_works(c)
        self.assertEqual(active_count(c.request({"type": "get_stats", "id": "g"})["data"],
                                      "connections"), 1)


# --------------------------------------------------------------------------
class TwsLoss(WsCase):
    sim_extra = ("--max-tick-by-tick", "-1", "--client-id-hold", "0.3")

    def test_drop_then_reconnected_and_ticks_again(self):
        c = self.multi()
        rid = self.subscribe_ok(c, "s", "BidAsk")["request_id"]
        single = self.connect(f"/ws/stream/{AAPL}/Last")
        c.wait_ticks(5, rid)
        self.sim.admin("drop")
        dropped = time.monotonic()
        for who, client in (("multi", c), ("single", single)):
            client.wait(lambda s: any(err_code(m) == "TWS_DISCONNECTED" for m in s.messages()),
                        15, f"{who}: error TWS_DISCONNECTED")
            client.wait(lambda s: any(info_says(m, "reconnected") for m in s.messages()), 20,
                        f"{who}: info reconnected")
        msgs = c.messages()
        i_err = next(i for i, m in enumerate(msgs) if err_code(m) == "TWS_DISCONNECTED")
        i_rec = next(i for i, m in enumerate(msgs) if info_says(m, "reconnected"))
        self.assertLess(i_err, i_rec, "error before info reconnected")
        self.check_error(msgs[i_err], "TWS_DISCONNECTED")
        self.check_envelope(msgs[i_rec])
        if "request_id" in msgs[i_rec]:
            self.assertEqual(msgs[i_rec]["request_id"], rid, msgs[i_rec])
        n = len(c.ticks(rid))
        c.wait_ticks(n + 5, rid, timeout=20)
        self.assertFalse(c.closed, "the WebSocket stays open through a TWS reconnect")
        self.assertFalse(single.closed)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 2, "resubscribed after the drop")
        self.assertLess(time.monotonic() - dropped, 40)
        self.assertFalse([m for m in c.messages() if m.get("type") == "complete"])

    def test_tws_lost_beyond_the_grace_closes_4003(self):
        self.server.stop()
        self.server.cleanup()
        self.server = Server(self.sim, args=self.server_args + ("--ws-tws-grace", "2"))
        c = self.multi()
        rid = self.subscribe_ok(c, "s", "BidAsk")["request_id"]
        c.wait_ticks(3, rid)
        self.sim.kill()
        killed = time.monotonic()
        c.wait(lambda s: any(err_code(m) == "TWS_DISCONNECTED" for m in s.messages()), 15,
               "error TWS_DISCONNECTED")
        self.assertFalse(c.closed, "not closed at once")
        self.expect_close(c, (4003,), 20, "TWS lost beyond --ws-tws-grace 2")
        self.assertGreaterEqual(time.monotonic() - killed, 1.8, "not before the grace")


# --------------------------------------------------------------------------
class Shutdown(WsCase):
    def test_sigterm_completes_then_closes_1001(self):
        c = self.multi()
        r = self.multi_subscribe(c, "m", ["BidAsk", "Last"])
        rids = [s["request_id"] for s in r["data"]["subscriptions"]]
        single = self.connect(f"/ws/stream/{AAPL}/MidPoint")
        idle = self.connect("/ws/control")
        c.wait_ticks(3)
        self.server.signal(signal.SIGTERM)
        for who, client in (("multi", c), ("single", single), ("control", idle)):
            self.expect_close(client, (1001,), 15, who)
        for rid in rids:
            comps = [m for m in c.messages() if m.get("type") == "complete"
                     and m.get("request_id") == rid]
            self.assertEqual(len(comps), 1, f"one complete for {rid}")
            self.check_complete(comps[0], rid, "shutdown", len(c.ticks(rid)))
        comps = [m for m in single.messages() if m.get("type") == "complete"]
        self.assertEqual(len(comps), 1, single.messages()[-3:])
        self.assertEqual(comps[0]["data"]["reason"], "shutdown")
        self.assertEqual(single.messages()[-1]["type"], "complete")
        self.assertEqual(self.server.wait(15), 0)


if __name__ == "__main__":
    unittest.main()
