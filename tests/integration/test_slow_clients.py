"""ib-stream-server: the one slow-client rule of SSE and WebSocket (README
"Slow clients"). A client may fall IB_STREAM_BUFFER_SIZE ticks behind its
stream; when its socket has not taken more, it skips ahead: the skipped
ticks are counted (`dropped` in /stream/active) and announced with an `info`
`ticks_lost` carrying their number, right before the ticks after the gap.
A client that stays behind for IB_STREAM_SLOW_CONSUMER_SECONDS is ended
with `error` SLOW_CONSUMER (SSE: the response ends; WebSocket: close 1008).
Also: permessage-deflate is declined for a client that asks for a smaller
server window, and the client event loops (--threads) all serve the same
stream. Real ib-tws-sim and ib-stream-server processes, raw sockets with a
small receive buffer as the slow clients.

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server and
ib-tws-sim> /usr/bin/python3 -m unittest -v test_slow_clients
"""
import json
import socket
import struct
import threading
import time

from streamwatch import AAPL, Listener, ServerCase, window_offset
from test_ws_server import OP_CLOSE, OP_TEXT, parse_frame, raw_upgrade

WINDOW = 50
# Long enough for the socket buffers to fill at FAST ev/s (the kernel lets a
# loopback send buffer grow to about 4 MiB: ~3 s of this stream).
FAST = 5000.0
PAUSE = 7.0


def sse_events(data):
    """(id or None, parsed data JSON) of every whole SSE event in data."""
    out = []
    for block in data.split(b"\n\n")[:-1]:  # the last one may be cut
        ev_id, payload = None, None
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                ev_id = int(line[4:])
            elif line.startswith(b"data: "):
                payload = json.loads(line[6:])
        if payload is not None:
            out.append((ev_id, payload))
    return out


def read_for(sock, seconds):
    """Everything the socket yields within `seconds` (up to EOF)."""
    out, until = b"", time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < until:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not chunk:
            break
        out += chunk
    return out


def catch_up(sock):
    """A slow client turned fast: a receive buffer as large as the kernel allows."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)


class SlowReader(threading.Thread):
    """Reads the socket slowly (4 KiB every 50 ms, far less than the stream
    sends), so that the client stays behind while the server sees it read;
    after fast() it reads everything at once, up to EOF (or `seconds`)."""

    def __init__(self, sock, seconds=60.0):
        super().__init__(daemon=True)
        self.sock, self.seconds = sock, seconds
        self.data = b""
        self.eof = False
        self._fast = threading.Event()
        self.start()

    def fast(self):
        catch_up(self.sock)
        self._fast.set()

    def run(self):
        until = time.monotonic() + self.seconds
        self.sock.settimeout(0.2)
        while time.monotonic() < until:
            try:
                chunk = self.sock.recv(1 << 20 if self._fast.is_set() else 4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                self.eof = True
                break
            self.data += chunk
            if not self._fast.is_set():
                self._fast.wait(0.05)

    def result(self, test):
        self.join(self.seconds + 5)
        test.assertTrue(self.eof, f"the server closed the connection ({len(self.data)} bytes read)")
        return self.data


def sse_request(server, path):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((server.host, server.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\n"
                 f"Accept: text/event-stream\r\n\r\n".encode())
    return sock


def ws_messages(data):
    """The text messages of whole frames in data (and a close code, if any)."""
    msgs, close = [], None
    while (frame := parse_frame(data)) is not None:
        opcode, payload, data = frame
        if opcode == OP_TEXT:
            msgs.append(json.loads(payload))
        elif opcode == OP_CLOSE and len(payload) >= 2:
            close = struct.unpack("!H", payload[:2])[0]
    return msgs, close


class FallingBehind(ServerCase):
    sim_rate = FAST
    server_args = ("--buffer-size", str(WINDOW), "--slow-consumer-seconds", "60",
                   "--linger-ms", "500")

    def dropped_of(self, port):
        return [c["dropped"] for c in self.active()["clients"]
                if str(c.get("remote", "")).endswith(f":{port}")]

    def test_sse_client_that_pauses_skips_ahead_and_is_told_how_many_ticks_it_lost(self):
        sock = sse_request(self.server, f"/stream/{AAPL}/BidAsk")
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        first = read_for(sock, 0.5)
        self.assertIn(b"200 OK", first)
        time.sleep(PAUSE)  # not reading: the stream runs on, the socket fills
        rest = read_for(sock, 3.0)
        events = sse_events(first.split(b"\r\n\r\n", 1)[1] + rest)
        ticks = [(i, ev) for i, ev in events if ev["type"] == "tick"]
        self.assertGreater(len(ticks), 100)
        lost = [(k, ev) for k, (i, ev) in enumerate(events)
                if ev["type"] == "info" and ev["info"].get("code") == "ticks_lost"]
        self.assertTrue(lost, "a client that fell behind is told it lost ticks")
        # Each announcement stands right before the ticks after its gap, and
        # says exactly how many ticks the gap holds.
        total_gap = 0
        prev_id = None
        for i, ev in events:
            if ev["type"] == "tick":
                if prev_id is not None:
                    total_gap += i - prev_id - 1
                prev_id = i
        announced = sum(ev["info"]["ticks_lost"] for _, ev in lost)
        self.assertEqual(announced, total_gap, "the announced counts add up to the gaps")
        for k, ev in lost:
            before = [i for i, e in events[:k] if e["type"] == "tick"]
            after = [i for i, e in events[k + 1:] if e["type"] == "tick"]
            self.assertTrue(before and after)
            self.assertEqual(after[0] - before[-1] - 1, ev["info"]["ticks_lost"], ev)
            self.assertIn(str(ev["info"]["ticks_lost"]), ev["info"]["message"])
        self.assertFalse([e for _, e in events if e["type"] in ("error", "complete")],
                         "a client that catches up is not ended")
        # The client may fall behind again after it stopped reading: at least.
        self.server.wait_for(lambda: (self.dropped_of(port) or [0])[0] >= announced, timeout=5,
                             what=f"/stream/active: dropped >= {announced}")

    def test_websocket_subscription_that_pauses_skips_ahead_and_is_told_how_many(self):
        sock, rest = raw_upgrade(self.server.host, self.server.port, f"/ws/stream/{AAPL}/BidAsk",
                                 rcvbuf=4096)
        self.addCleanup(sock.close)
        data = rest + read_for(sock, 0.5)
        time.sleep(PAUSE)
        data += read_for(sock, 3.0)
        msgs, close = ws_messages(data)
        self.assertIsNone(close)
        self.assertEqual(msgs[0]["type"], "connected")
        rid = next(m for m in msgs if m["type"] == "subscribed")["data"]["request_id"]
        body = [m for m in msgs if m["type"] in ("tick", "info", "error", "complete")]
        self.assertFalse([m for m in body if m["type"] in ("error", "complete")])
        lost = [m for m in body if m["type"] == "info"]
        self.assertTrue(lost, "a subscription that fell behind is told it lost ticks")
        for m in lost:
            self.assertEqual(m["request_id"], rid)
            self.assertEqual(m["info"]["code"], "ticks_lost")
        # Checked now, before the long walk below: the client reads no more
        # and would be ended as a slow consumer after the setting (60 s).
        port = sock.getsockname()[1]
        announced = sum(m["info"]["ticks_lost"] for m in lost)
        # The client may fall behind again after it stopped reading: at least.
        self.server.wait_for(lambda: (self.dropped_of(port) or [0])[0] >= announced, timeout=5,
                             what=f"/stream/active: dropped >= {announced}")
        # WebSocket ticks carry no id: the seeded market says where each one
        # is. Walk the series: a tick is the next one, or - right after an
        # announcement - the one `ticks_lost` further.
        series = self.sim.dump(AAPL, 100000, "BidAsk")
        first_run = []
        for m in body:
            if m["type"] != "tick":
                break
            first_run.append(m["data"])
        at = window_offset(first_run, series)
        self.assertIsNotNone(at, "the first ticks are a run of the seeded series")
        at -= 1
        skip = 0
        for m in body:
            if m["type"] == "info":
                skip += m["info"]["ticks_lost"]
                continue
            at += 1 + skip
            skip = 0
            self.assertEqual(m["data"], series[at], f"tick #{at} of the series")


class StayingBehind(ServerCase):
    sim_rate = 2000.0
    server_args = ("--buffer-size", str(WINDOW), "--slow-consumer-seconds", "2",
                   "--linger-ms", "500")

    def test_sse_client_that_stays_behind_is_ended_after_the_setting(self):
        start = time.monotonic()
        sock = sse_request(self.server, f"/stream/{AAPL}/BidAsk")
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        reader = SlowReader(sock)
        self.server.wait_for(lambda: self.active_ports(port), timeout=5, what="the client")
        self.server.wait_for(lambda: not self.active_ports(port), timeout=30,
                             what="the slow client ended")
        ended = time.monotonic() - start
        self.assertGreaterEqual(ended, 2.0, "behind for the whole setting first")
        # The server gives an ended slow client 5 s to read the rest, and 5 s
        # more each time it read something (a minute at most); this one,
        # still reading, now reads fast, up to the server's close.
        reader.fast()
        data = reader.result(self)
        last = data.rstrip(b"\n").rsplit(b"\n\n", 1)[-1]
        self.assertTrue(last.startswith(b"data: "), f"{len(data)} bytes, ending {last[-300:]!r}")
        ev = json.loads(last[6:])
        self.assertEqual(ev["type"], "error", ev)
        self.assertEqual(ev["error"]["code"], "SLOW_CONSUMER")

    def test_websocket_client_that_stays_behind_is_closed_1008(self):
        start = time.monotonic()
        sock, rest = raw_upgrade(self.server.host, self.server.port, f"/ws/stream/{AAPL}/BidAsk",
                                 rcvbuf=4096)
        self.addCleanup(sock.close)

        def connections():
            return self.server.json("/ws/stats")[1]["connections"]

        reader = SlowReader(sock)
        self.server.wait_for(lambda: connections() == 1, timeout=5, what="the connection")
        port = sock.getsockname()[1]
        self.server.wait_for(lambda: self.active_ports(port), timeout=5, what="the subscription")
        # Ended: its subscription leaves at once; the connection is closed
        # once the client read what was written (or after a short grace).
        self.server.wait_for(lambda: not self.active_ports(port), timeout=30,
                             what="the slow client ended")
        self.assertGreaterEqual(time.monotonic() - start, 2.0)
        reader.fast()
        msgs, close = ws_messages(rest + reader.result(self))
        self.assertEqual(close, 1008)
        errors = [m for m in msgs if m["type"] == "error"]
        self.assertTrue(errors and errors[-1]["error"]["code"] == "SLOW_CONSUMER", msgs[-3:])
        self.assertEqual(msgs[-1], errors[-1], "the error is the last message before the close")

    def active_ports(self, port):
        return [c for c in self.active()["clients"]
                if str(c.get("remote", "")).endswith(f":{port}")]


class Compression(ServerCase):
    sim_rate = 50.0

    def test_a_client_asking_for_a_smaller_server_window_gets_no_compression(self):
        sock, rest = raw_upgrade(
            self.server.host, self.server.port, f"/ws/stream/{AAPL}/BidAsk?limit=3",
            extensions="permessage-deflate; server_max_window_bits=10; client_max_window_bits")
        self.addCleanup(sock.close)
        data = rest + read_for(sock, 3.0)
        frames = []
        while (frame := parse_frame(data, with_rsv1=True)) is not None:
            opcode, rsv1, payload, data = frame
            frames.append((opcode, rsv1, payload))
        texts = [json.loads(p) for op, rsv1, p in frames if op == OP_TEXT]
        self.assertFalse(any(rsv1 for _, rsv1, _ in frames), "nothing compressed")
        self.assertEqual([m["type"] for m in texts if m["type"] == "tick"], ["tick"] * 3)

    def test_the_offer_is_declined_in_the_handshake(self):
        for offer, accepted in (("permessage-deflate; server_max_window_bits=10", False),
                                ('permessage-deflate; server_max_window_bits="9"', False),
                                ("permessage-deflate; server_max_window_bits=15", True),
                                ("permessage-deflate; client_max_window_bits", True)):
            with self.subTest(offer=offer):
                sock = socket.create_connection((self.server.host, self.server.port), timeout=5)
                sock.sendall((f"GET /ws/control HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                              f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {offer}\r\n"
                              f"\r\n").encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += sock.recv(4096)
                sock.close()
                self.assertIn(b"101", head.split(b"\r\n")[0])
                self.assertEqual(b"permessage-deflate" in head.lower(), accepted, head)


class ManyLoops(ServerCase):
    sim_rate = 200.0
    server_args = ("--threads", "3", "--linger-ms", "500")

    def test_clients_on_every_loop_get_the_same_ticks(self):
        clients = [self.listen(f"/stream/{AAPL}/BidAsk") for _ in range(9)]
        for c in clients:
            self.assertEqual(c.status, 200, c.body)
        for c in clients:
            c.wait_ticks(50)
        target = max(c.ids()[0] for c in clients) + 40
        for c in clients:
            c.wait(lambda s: s.ids()[-1] >= target, 10, "ticks")
        for c in clients:
            self.assert_consecutive(c.ids(), "client")
        common = [dict(c.ticks()) for c in clients]
        start = max(c.ids()[0] for c in clients)
        for i in range(start, target):
            self.assertEqual(len({json.dumps(t[i], sort_keys=True) for t in common}), 1, f"id {i}")


if __name__ == "__main__":
    import unittest
    unittest.main()
