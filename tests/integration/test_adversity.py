"""ib-stream-server and ib-tws-sim against hostile peers, with real processes
on loopback: a TWS that breaks the framing (zero length, 2^24+1, a truncated
frame then silence, garbage), the same bytes from a TWS API client to the
simulator, an HTTP client that trickles its headers, 10,000 connections that
never send a request, request bodies on GET and oversized headers, a
WebSocket client that never reads and one that sends a 16 MiB frame.

Each case runs while a normal SSE client and a normal WebSocket client stream
AAPL BidAsk from the same server, and checks afterwards:
  - they kept receiving ticks, gap-free (the SSE ids consecutive, the
    WebSocket's ticks a contiguous run of the SSE client's), a new stream
    works and /health answers;
  - the server's RSS and open descriptors stay bounded;
  - the server's stderr (JSON logs) has a line naming the problem.
With IBS_RECORD=1 the measurements go to docs/reliability/adversity.json
(scripts/reliability.py renders docs/RELIABILITY.md from it).

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server and
ib-tws-sim> /usr/bin/python3 -m unittest -v test_adversity
"""
import contextlib
import os
import re
import resource
import select
import socket
import struct
import sys
import threading
import time
import unittest

from iohelpers import Closing, close_quietly, wait_on
from serverproc import Server
from streamwatch import AAPL, MNQ, ServerCase, Sim, error_code, fd_count, info_says, \
    rss_kib, window_offset
from test_ws_server import parse_frame, raw_upgrade
from twsclient import TwsClient, encode_fields, is_tick
from wsclient import WS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
import reliability  # noqa: E402

MiB = 1 << 20
RESULTS = []  # one row per case, for docs/reliability/adversity.json

# Hostile TWS byte strings (shared/spec/tws-protocol.md §1.2: 4-byte length,
# 1..0xFFFFFF, then NUL-terminated fields).
ZERO_LENGTH = b"\0\0\0\0"
OVERSIZED = struct.pack(">I", (1 << 24) + 1) + b"\0" * 4096
TRUNCATED = struct.pack(">I", 200) + b"99\x001\x003\x00"  # 9 of 200 bytes, then silence
GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\xde\xad\xbe\xef" * 4
MALFORMED = encode_fields(["99", "x", "3", "not-a-time", "bid?", "", ""])


class HostileTws(Closing):
    """A fake TWS on a loopback port. Each connection is relayed to a real
    simulator (so the handshake and the market are real), TWS -> server frame
    by frame, so that hostile bytes can take the place of the next frame:
      inject(payload, then="silence"|"relay") once, on the live connection;
      persistent = payload for every connection, right after its connect burst;
      pause_next = seconds the next connection waits before it is relayed.
    After hostile bytes with then="silence" the peer sends nothing more (and
    discards what the server sends) until the server closes.
    .conns: one dict per connection (accepted, injected, closed: monotonic
    times or None)."""

    BURST = 8  # the hello frame + startApi's burst (accounts, next id, farms)

    def __init__(self, sim_port):
        self.sim_port = sim_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.cond = threading.Condition()
        self.conns = []
        self.persistent = None
        self.pause_next = 0.0
        self._inject = None
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def inject(self, payload, then="silence"):
        with self.cond:
            self._inject = (payload, then)

    def wait(self, pred, timeout, what):
        return wait_on(self.cond, pred, timeout, lambda: f"fake TWS: no {what} in {timeout}s; "
                                                         f"connections {self.conns}")

    def _accept_loop(self):
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            conn = {"accepted": time.monotonic(), "injected": None, "closed": None}
            with self.cond:
                self.conns.append(conn)
                pause, self.pause_next = self.pause_next, 0.0
                self.cond.notify_all()
            threading.Thread(target=self._relay, args=(down, conn, pause), daemon=True).start()

    def _hostile_for(self, frames):
        with self.cond:
            if frames < self.BURST:
                return None
            if self.persistent is not None:
                return self.persistent, "silence"
            planned, self._inject = self._inject, None
            return planned

    def _relay(self, down, conn, pause):
        up = None
        try:
            time.sleep(pause)
            up = socket.create_connection(("127.0.0.1", self.sim_port), timeout=10)
            pending, frames, silent = b"", 0, False
            while not self._closed:
                readable, _, _ = select.select([down] if silent else [down, up], [], [], 0.5)
                if down in readable:
                    data = down.recv(65536)
                    if not data:
                        break
                    if not silent:
                        up.sendall(data)
                if up in readable and not silent:
                    data = up.recv(65536)
                    if not data:
                        break
                    pending += data
                    while len(pending) >= 4 and not silent:
                        n = struct.unpack(">I", pending[:4])[0]
                        if len(pending) < 4 + n:
                            break
                        hostile = self._hostile_for(frames)
                        if hostile is not None:
                            down.sendall(hostile[0])
                            silent = hostile[1] == "silence"
                            with self.cond:
                                conn["injected"] = time.monotonic()
                                self.cond.notify_all()
                            continue
                        down.sendall(pending[:4 + n])
                        pending = pending[4 + n:]
                        frames += 1
        except OSError:
            pass
        finally:
            close_quietly(down, *([up] if up else []))
            with self.cond:
                conn["closed"] = time.monotonic()
                self.cond.notify_all()

    def close(self):
        self._closed = True
        close_quietly(self.sock)


class AdversityCase(ServerCase):
    """A server with two bystanders (an SSE and a WebSocket client of AAPL
    BidAsk); hostile() measures a case around them."""

    start_in_setup = False
    server_args = ("--linger-ms", "500", "--buffer-size", "1000")

    def start_simulated(self, rate=50, args=()):
        self.server = Server(simulate=True, args=(
            "--sim-rate", str(rate), "--sim-admin-port", "0", *self.server_args, *args))
        self.addCleanup(self._stop_server)
        self.bystanders()

    def bystanders(self):
        self.sse = self.listen(f"/stream/{AAPL}/BidAsk")
        self.assertEqual(self.sse.status, 200, self.sse.body)
        self.sse.wait_ticks(3)
        self.ws = WS(f"ws://{self.server.host}:{self.server.port}/ws/stream/{AAPL}/BidAsk")
        self.addCleanup(self.ws.close)
        self.ws.wait_ticks(3)

    # --- measurements ----------------------------------------------------
    def sample(self):
        pid = self.server.proc.pid
        return rss_kib(pid), fd_count(pid)

    def log_mark(self):
        return len(self.server.log_lines())

    def logged(self, pattern, mark, timeout=10):
        """The first log line after `mark` whose msg matches `pattern`."""
        rx = re.compile(pattern)

        def find():
            return next((line for line in self.server.log_lines()[mark:]
                         if rx.search(str(line.get("msg", "")))), None)
        line = self.server.wait_for(find, timeout=timeout, what=f"a log line /{pattern}/")
        return line["msg"]

    @contextlib.contextmanager
    def hostile(self, name, rss_bound_mib=16, fd_slack=4):
        """Measures one case: yields a dict for the case's findings ("held",
        "log"); then checks the bystanders, a new stream, /health, RSS and
        descriptors, and records the row."""
        rss0, fds0 = self.sample()
        t0 = time.monotonic()
        case = {"held": "", "log": "-", "peak_rss": rss0}
        yield case
        t1 = time.monotonic()
        self.sse.wait_more_ticks(5, timeout=30, after=t1)
        self.ws.wait(lambda w: any(at > t1 for at, m in w.timed() if m.get("type") == "tick"), 30,
                     "a tick after the case")
        self.assert_gap_free()
        fresh = self.listen(f"/stream/{AAPL}/MidPoint", params={"limit": 3})
        self.assertEqual(fresh.status, 200, fresh.body)
        fresh.wait(lambda s: s.done, 20, "a new stream to complete")
        self.assertEqual([e["type"] for e in fresh.non_ticks()][-1:], ["complete"])
        status, health = self.server.json("/health")
        self.assertEqual(status, 200, health)
        self.assertIsNone(self.server.proc.poll(), "the server is still running")
        fresh.close()
        self.server.wait_for(lambda: self.sample()[1] <= fds0 + fd_slack, timeout=15,
                             what=f"descriptors back near {fds0} (now {self.sample()[1]})")
        rss1, fds1 = self.sample()
        t2 = time.monotonic()
        during = sum(1 for at, ev in self.sse.events() if t0 <= at <= t2 and ev.type == "tick")
        peak = max(case["peak_rss"], rss1)
        # Under a sanitizer (scripts/sanitize.sh sets IBS_SANITIZER) RSS says
        # nothing about the server: ASan holds freed memory in its quarantine
        # (256 MiB) and TSan keeps shadow memory; leaks are LeakSanitizer's job.
        if not os.environ.get("IBS_SANITIZER"):
            self.assertLess((peak - rss0) / 1024, rss_bound_mib,
                            f"{name}: RSS {rss0} -> peak {peak} KiB")
        RESULTS.append([name, case["held"], f"{rss0 / 1024:.1f} -> {rss1 / 1024:.1f}"
                        f" (peak {peak / 1024:.1f})", f"{fds0} -> {fds1}",
                        f"{during} in {t2 - t0:.1f} s", case["log"]])

    def assert_gap_free(self):
        """SSE ids consecutive; the WebSocket ticks a contiguous run of the SSE ones."""
        self.assert_consecutive(self.sse.ids(), "SSE bystander")
        ws_data = [m["data"] for m in self.ws.ticks()]
        self.sse.wait(lambda s: window_offset(ws_data[-20:], [d for _, d in s.ticks()]) is not None,
                      10, "the SSE bystander to have the WebSocket's last ticks")
        sse_data = [d for _, d in self.sse.ticks()]
        self.assertIsNotNone(window_offset(ws_data, sse_data),
                             f"WebSocket bystander: its {len(ws_data)} ticks are not a gap-free "
                             f"run of the SSE bystander's {len(sse_data)}")
        self.assertFalse(self.ws.closed, "the WebSocket bystander is still connected")
        self.assertFalse(self.sse.done, "the SSE bystander is still connected")


# --------------------------------------------------------------------------
class HostileTwsPeer(AdversityCase):
    """The server's TWS is a fake that relays a real simulator and then sends
    hostile bytes: the server logs it, drops that connection, says degraded
    and reconnects (with backoff when the peer keeps doing it)."""

    def setUp(self):
        super().setUp()
        self.sim = self.new_sim(rate=50, extra=("--client-id-hold", "0"))
        self.peer = HostileTws(self.sim.port)
        self.addCleanup(self.peer.close)
        self.server = Server(tws_ports=self.peer.port, wait_ready=True, args=(
            *self.server_args, "--backoff-max-ms", "2000"))
        self.addCleanup(self._stop_server)
        self.bystanders()

    def drop_and_reconnect(self, name, payload, log_pattern, drop_timeout=10):
        with self.hostile(name) as case:
            mark = self.log_mark()
            before = len(self.peer.conns)
            live = self.peer.conns[-1]
            self.peer.pause_next = 1.5
            self.peer.inject(payload)
            self.peer.wait(lambda: live["injected"], 10, "injection")
            self.peer.wait(lambda: live["closed"], drop_timeout, "drop by the server")
            dropped_after = live["closed"] - live["injected"]
            health = self.server.wait_for(
                lambda: (h := self.server.json("/health")[1])["status"] == "degraded" and h,
                timeout=1.2, what="/health degraded")
            self.assertFalse(health["tws_connected"], health)
            self.peer.wait(lambda: len(self.peer.conns) > before, 10, "a new connection")
            for who, c in (("SSE", self.sse), ("WebSocket", self.ws)):
                c.wait(lambda s: any(info_says(m, "reconnected") for m in self.notices(s)), 20,
                       f"{who}: info reconnected")
            self.assertTrue(any(error_code(m) == "TWS_DISCONNECTED" for m in self.sse.non_ticks()))
            back = self.peer.conns[before]["accepted"] - live["closed"]
            case["log"] = self.logged(log_pattern, mark)
            case["held"] = (f"dropped {dropped_after * 1000:.0f} ms after the bytes; /health "
                            f"degraded; reconnected {back:.1f} s later; bystanders told "
                            "TWS_DISCONNECTED then reconnected")

    @staticmethod
    def notices(client):
        if isinstance(client, WS):
            return [m for m in client.messages() if m.get("type") != "tick"]
        return client.non_ticks()

    def test_a_zero_length_frame(self):
        self.drop_and_reconnect("TWS sends a frame of length 0", ZERO_LENGTH,
                                r"framing lost \(frame with length 0")

    def test_b_frame_length_2_24_plus_1(self):
        self.drop_and_reconnect("TWS sends a frame length of 2^24+1", OVERSIZED,
                                r"framing lost \(frame longer than the 16 MiB cap")

    def test_c_garbage_bytes(self):
        self.drop_and_reconnect("TWS sends garbage (an HTTP answer)", GARBAGE,
                                r"framing lost")

    def test_d_truncated_frame_then_silence(self):
        # The keepalive finds it: reqCurrentTime after 20 s of silence, dead
        # 10 s later without an answer.
        self.drop_and_reconnect("TWS sends a truncated frame, then nothing", TRUNCATED,
                                r"keepalive", drop_timeout=40)

    def test_e_malformed_message_in_a_whole_frame_is_skipped(self):
        with self.hostile("TWS sends a whole frame with a malformed tick") as case:
            mark = self.log_mark()
            before = len(self.peer.conns)
            live = self.peer.conns[-1]
            self.peer.inject(MALFORMED, then="relay")
            self.peer.wait(lambda: live["injected"], 10, "injection")
            case["log"] = self.logged(r"skipping malformed TWS message", mark)
            time.sleep(1.0)
            self.assertIsNone(live["closed"], "a malformed message in a whole frame is skipped")
            self.assertEqual(len(self.peer.conns), before)
            self.assertFalse([m for m in self.sse.non_ticks() if m["type"] == "error"])
            case["held"] = "message skipped, connection kept, no notice to clients"

    def test_f_a_peer_that_always_breaks_the_framing_gets_backoff(self):
        with self.hostile("TWS breaks the framing after every handshake, 10 s") as case:
            mark = self.log_mark()
            start = len(self.peer.conns)
            self.peer.persistent = ZERO_LENGTH
            time.sleep(10)
            self.peer.persistent = None
            times = [c["accepted"] for c in self.peer.conns[start:]]
            gaps = [b - a for a, b in zip(times, times[1:])]
            self.assertLessEqual(len(times), 12, f"reconnects in 10 s: {len(times)} ({gaps})")
            self.assertGreaterEqual(max(gaps), 1.5, f"backoff grows to the cap: {gaps}")
            case["log"] = self.logged(r"next attempt in \d+ ms", mark)
            self.sse.wait(lambda s: (ev := s.non_ticks()) and info_says(ev[-1], "reconnected"),
                          10, "reconnected for good")
            case["held"] = (f"{len(times)} connections in 10 s, gaps growing to "
                            f"{max(gaps):.1f} s (backoff cap 2 s); reconnected for good after")


class HostileSimClient(AdversityCase):
    """A TWS API client that sends the same bytes to ib-tws-sim (the
    server's in-process one, whose logs are the server's): the simulator
    drops that client and keeps serving the others."""

    def setUp(self):
        super().setUp()
        self.start_simulated()
        self.other = TwsClient(self.server.simulator["port"])
        self.addCleanup(self.other.close)
        self.other.connect(client_id=90)
        self.other.req_tick_by_tick(1, MNQ, "BidAsk")

    def other_ticks(self, seconds=1.5):
        return sum(1 for f in self.other.read_for(seconds) if is_tick(f, 1))

    def test_hostile_bytes_from_an_api_client(self):
        cases = [("a frame of length 0", ZERO_LENGTH, r"framing lost"),
                 ("a frame length of 2^24+1", OVERSIZED, r"framing lost"),
                 ("garbage after the handshake", GARBAGE, r"framing lost"),
                 ("garbage instead of the handshake", GARBAGE, r"not a TWS API client")]
        for i, (what, payload, pattern) in enumerate(cases):
            with self.subTest(what), self.hostile(f"API client sends the simulator {what}") \
                    as case:
                mark = self.log_mark()
                c = TwsClient(self.server.simulator["port"])
                if "instead" not in what:
                    c.connect(client_id=100 + i)
                c.send_raw(payload)
                start = time.monotonic()
                c.expect_closed(timeout=5)
                closed = time.monotonic() - start
                c.close()
                case["log"] = self.logged(pattern, mark)
                ticks = self.other_ticks()
                self.assertGreater(ticks, 0, "the other API client still gets ticks")
                case["held"] = (f"that client closed after {closed * 1000:.0f} ms; another API "
                                f"client got {ticks} ticks in the next 1.5 s")

    def test_truncated_frame_then_silence(self):
        with self.hostile("API client sends the simulator a truncated frame, then nothing") \
                as case:
            c = TwsClient(self.server.simulator["port"])
            self.addCleanup(c.close)
            c.connect(client_id=110)
            c.send_raw(TRUNCATED)
            ticks = self.other_ticks(3)
            self.assertGreater(ticks, 0, "the other API client still gets ticks")
            status = self.server.sim_admin("status")
            c.close()
            case["held"] = (f"kept open, like TWS keeps an idle client, and freed when it "
                            f"leaves; another API client got {ticks} ticks in 3 s; simulator "
                            f"status answered ({len(status)} bytes)")


class HostileHttp(AdversityCase):
    def setUp(self):
        super().setUp()
        self.start_simulated()

    def test_slowloris(self):
        """Headers one byte per second: the 30 s request timeout ends them."""
        n = 50
        with self.hostile(f"{n} clients send their headers one byte per second") as case:
            mark = self.log_mark()
            socks = [socket.create_connection((self.server.host, self.server.port))
                     for _ in range(n)]
            self.addCleanup(close_quietly, *socks)
            request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100
            start, sent, open_ = time.monotonic(), 0, set(range(n))
            ended = {}
            while open_ and time.monotonic() - start < 45:
                for i in list(open_):
                    try:
                        socks[i].sendall(request[sent:sent + 1])
                        readable, _, _ = select.select([socks[i]], [], [], 0)
                        if readable and not socks[i].recv(4096):
                            raise ConnectionResetError
                    except OSError:
                        ended[i] = time.monotonic() - start
                        open_.discard(i)
                sent += 1
                case["peak_rss"] = max(case["peak_rss"], self.sample()[0])
                time.sleep(1.0)
            self.assertFalse(open_, f"{len(open_)} trickling clients still open after 45 s")
            self.assertGreaterEqual(min(ended.values()), 25, "not cut before the timeout")
            case["log"] = self.logged(r"request incomplete", mark)
            case["held"] = (f"all {n} closed {min(ended.values()):.1f} to "
                            f"{max(ended.values()):.1f} s after they started (30 s request "
                            "timeout)")

    def test_ten_thousand_connections_without_a_request(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        batch = 500
        if soft < batch + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        with self.hostile("10,000 connections opened and dropped without a request",
                          fd_slack=4) as case:
            mark = self.log_mark()
            peak_fds = 0
            start = time.monotonic()
            for b in range(10000 // batch):
                socks = [socket.create_connection((self.server.host, self.server.port))
                         for _ in range(batch)]
                if b % 2:  # half of them reset instead of closing
                    for s in socks:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                peak_fds = max(peak_fds, self.sample()[1])
                close_quietly(*socks)
            took = time.monotonic() - start
            case["peak_rss"] = self.sample()[0]
            accept_failed = [line for line in self.server.log_lines()[mark:]
                             if "accept failed" in str(line.get("msg"))]
            self.assertEqual(accept_failed, [])
            case["log"] = "none (a connection without a request is not logged)"
            case["held"] = (f"10,000 in {took:.1f} s, server fds peaked at {peak_fds}, "
                            "then back to the baseline")

    def exchange(self, data, timeout=10):
        """Sends raw bytes; returns everything the server sends until it closes."""
        with socket.create_connection((self.server.host, self.server.port), timeout=timeout) as s:
            s.sendall(data)
            out = b""
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except ConnectionResetError:
                pass
            return out

    def test_bodies_on_get_and_oversized_headers(self):
        second = b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        cases = [
            ("GET with a Content-Length body, then a second request",
             b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + second,
             ["200", "200"]),
            ("GET with a chunked body, then a second request",
             b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0\r\n\r\n" + second, ["200", "200"]),
            ("GET with both Content-Length and chunked",
             b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + second, ["400"]),
            ("GET with a 100 KiB header",
             b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 << 10) + b"\r\n\r\n",
             ["431"]),
            ("GET with a 100 KiB body",
             b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 102400\r\n\r\n" +
             b"a" * (100 << 10), ["413"]),
        ]
        for what, data, statuses in cases:
            with self.subTest(what), self.hostile(what) as case:
                mark = self.log_mark()
                reply = self.exchange(data)
                got = re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)
                self.assertEqual([g.decode() for g in got], statuses, reply[:300])
                if statuses[0] != "200":
                    self.assertIn(b'"code":"INVALID_REQUEST"', reply)
                case["log"] = self.logged(rf'^request$', mark) + \
                    f" (status {statuses[-1]}, note {self.last_note(mark)})"
                case["held"] = ("answered " + ", ".join(statuses) +
                                (", same connection" if len(statuses) > 1 else ", then closed"))

    def last_note(self, mark):
        lines = [line for line in self.server.log_lines()[mark:] if line.get("msg") == "request"]
        return lines[-1].get("note") or "-"


class HostileWebSocket(AdversityCase):
    def setUp(self):
        super().setUp()
        self.start_simulated(rate=1000)

    def test_a_client_that_never_reads(self):
        with self.hostile("WebSocket client subscribes to a 1000 ev/s stream, never reads",
                          rss_bound_mib=32) as case:
            mark = self.log_mark()
            sock, _ = raw_upgrade(self.server.host, self.server.port, f"/ws/stream/{AAPL}/BidAsk",
                                  rcvbuf=4096)
            self.addCleanup(sock.close)
            start = time.monotonic()

            def connections():
                return self.server.json("/ws/stats")[1]["connections"]

            self.server.wait_for(lambda: connections() == 2, 5, what="two WebSocket connections")
            while connections() == 2 and time.monotonic() - start < 30:
                case["peak_rss"] = max(case["peak_rss"], self.sample()[0])
                time.sleep(0.2)
            closed_after = time.monotonic() - start
            self.assertEqual(connections(), 1, "the server closes a client that never reads")
            rest = self.read_rest(sock)
            told = b"SLOW_CONSUMER" in rest
            case["log"] = self.logged(r"slow consumer", mark)
            case["held"] = (f"closed after {closed_after:.1f} s"
                            f"{' with error SLOW_CONSUMER' if told else ''}; "
                            f"{len(rest) >> 10} KiB left for it to read")

    @staticmethod
    def read_rest(sock, timeout=5):
        sock.settimeout(timeout)
        out = b""
        try:
            while chunk := sock.recv(1 << 20):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out

    def test_b_a_16_mib_frame_closes_1009(self):
        with self.hostile("WebSocket client sends one 16 MiB frame") as case:
            mark = self.log_mark()
            sock, buf = raw_upgrade(self.server.host, self.server.port, "/ws/control")
            self.addCleanup(sock.close)
            size = 16 * MiB
            mask = os.urandom(4)
            sock.sendall(bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big") + mask)
            chunk = bytes(b ^ mask[i % 4] for i, b in enumerate(b"x" * 65536))
            sent = 0
            sock.settimeout(0.05)
            frames = []
            try:
                while sent < size:
                    sock.sendall(chunk)
                    sent += len(chunk)
                    try:
                        buf += sock.recv(65536)
                    except socket.timeout:
                        pass
                    while (frame := parse_frame(buf)) is not None:
                        frames.append(frame[:2])
                        buf = frame[2]
                    if any(op == 0x8 for op, _ in frames):
                        break
            except OSError:
                pass
            sock.settimeout(5)
            try:
                while not any(op == 0x8 for op, _ in frames):
                    data = sock.recv(65536)
                    if not data:
                        break
                    buf += data
                    while (frame := parse_frame(buf)) is not None:
                        frames.append(frame[:2])
                        buf = frame[2]
            except OSError:
                pass
            close = [payload for op, payload in frames if op == 0x8]
            self.assertTrue(close, f"a close frame; got opcodes {[op for op, _ in frames]}")
            code = int.from_bytes(close[0][:2], "big")
            self.assertEqual(code, 1009, close[0])
            case["log"] = self.logged(r"message too big", mark)
            case["held"] = f"close 1009 after {sent >> 10} KiB of the 16 MiB were sent"


def tearDownModule():
    if os.environ.get("IBS_RECORD") != "1" or not RESULTS:
        return
    reliability.write_fragment("adversity", {
        "section": "Protocol adversity",
        "order": 4,
        "command": "cd tests/integration && IBS_RECORD=1 IBS_BIN_DIR=../../build "
                   "/usr/bin/python3 -m unittest -v test_adversity",
        "date": reliability.utc_now(),
        "machine": reliability.machine(),
        "summary": "Hostile TWS peers, API clients, HTTP and WebSocket clients against real "
                   "processes, while an SSE and a WebSocket client stream AAPL BidAsk from the "
                   "same server: after each case they had kept receiving ticks gap-free, a new "
                   "stream worked and /health answered.",
        "columns": ["input / fault", "what held", "server RSS before -> after (MiB)",
                    "server fds before -> after", "bystander SSE ticks, case and checks",
                    "log line"],
        "rows": RESULTS,
        "notes": [
            "RSS and descriptors are those of ib-stream-server (/proc/PID/status, /proc/PID/fd); "
            "'after' is measured once the case's own connections are gone.",
            "Bystander ticks: what the SSE bystander received from the start of the case until "
            "the checks after it were done (the checks wait for 5 more ticks and a new stream); "
            "0 during a TWS outage is expected, the ids then carry on without a gap.",
            "Gap-free: the SSE bystander's ids are consecutive and the WebSocket bystander's "
            "ticks are a contiguous run of the SSE bystander's (both read one upstream "
            "subscription); across a TWS reconnect the ids carry on.",
            "The fake TWS relays a real ib-tws-sim (the handshake and market are real) and puts "
            "the hostile bytes in place of the next frame.",
        ],
    })


if __name__ == "__main__":
    unittest.main()
