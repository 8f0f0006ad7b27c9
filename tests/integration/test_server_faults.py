"""ib-stream-server riding through TWS faults (api.md §3, §4), one test per
fault of the simulator (its admin port, see src/sim/admin_commands.hpp), with
real ib-tws-sim and ib-stream-server processes: clients keep their HTTP
connection, are told what happened (`error` TWS_DISCONNECTED, `info`
reconnected / stale / resumed), the server re-requests its subscriptions
(visible in the simulator's request log) and ticks flow again.

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server and
ib-tws-sim> /usr/bin/python3 -m unittest -v test_server_faults
"""
import http.client
import os
import re
import socket
import threading
import time
import unittest

from streamwatch import (AAPL, EURUSD, MNQ, ServerCase, error_code, first_index, info_says,
                         rss_kib)

BACKOFF_MAX_MS = 1000
BASE_ARGS = ("--linger-ms", "500", "--backoff-max-ms", str(BACKOFF_MAX_MS))


def is_disconnected(ev):
    return error_code(ev) == "TWS_DISCONNECTED"


class FaultCase(ServerCase):
    sim_rate = 30.0
    server_args = BASE_ARGS

    def stream_aapl(self, n=2):
        """n clients of AAPL BidAsk, each with a few ticks."""
        clients = [self.listen(f"/stream/{AAPL}/BidAsk") for _ in range(n)]
        for c in clients:
            self.assertEqual(c.status, 200, c.body)
            c.wait_ticks(5)
        return clients

    def assert_reconnect_story(self, c, who):
        """In c's events: ticks, error TWS_DISCONNECTED, info reconnected, ticks;
        ids increasing throughout; still connected."""
        evs = [ev.json for ev in c.blocks()]
        err = first_index(evs, is_disconnected)
        self.assertIsNotNone(err, f"{who}: error TWS_DISCONNECTED")
        self.assertTrue(any(e["type"] == "tick" for e in evs[:err]), f"{who}: ticks before")
        rec = first_index(evs, lambda e: info_says(e, "reconnected"), err)
        self.assertIsNotNone(rec, f"{who}: info reconnected after the error")
        self.assertTrue(any(e["type"] == "tick" for e in evs[rec:]), f"{who}: ticks after")
        self.assertFalse(any(e["type"] == "complete" for e in evs), f"{who}: stream not ended")
        self.assertFalse(c.done, f"{who}: the HTTP connection stays open")
        self.assert_increasing(c.ids(), who)

    def wait_resubscribed(self, before, timeout=20):
        """Waits for a reqTickByTickData of AAPL BidAsk after the `before` first ones;
        returns it (with a fresh request id)."""
        reqs = self.server.wait_for(lambda: self.sim.tbt(AAPL, "BidAsk")[before:], timeout=timeout,
                                    what="a new reqTickByTickData for AAPL BidAsk")
        old_ids = {r["req_id"] for r in self.sim.tbt(AAPL, "BidAsk")[:before]}
        self.assertNotIn(reqs[0]["req_id"], old_ids, "a resubscription uses a new request id")
        return reqs[0]

    def assert_one_live_upstream(self):
        """The simulator ends up with exactly one subscription for AAPL BidAsk
        (the old one cancelled or forgotten: no leak toward TWS's cap)."""
        def one():
            subs = [s for s in self.sim.status()["subscriptions"]
                    if s["con_id"] == AAPL and s["tick_type"] == "BidAsk"]
            return len(subs) == 1 and subs
        try:
            self.server.wait_for(one, timeout=5, what="one AAPL BidAsk subscription at the sim")
        except AssertionError:
            self.fail(f"simulator subscriptions: {self.sim.status()['subscriptions']}")


class SimulatorRestart(FaultCase):
    def test_a_killed_simulator_restarted_on_the_same_port(self):
        a, b = self.stream_aapl(2)
        port = self.sim.port
        self.sim.kill()
        killed = time.monotonic()
        for c in (a, b):
            c.wait(lambda s: any(is_disconnected(e) for e in s.non_ticks()), 15,
                   "error TWS_DISCONNECTED")
        health = self.health()
        self.assertFalse(health["tws_connected"], health)
        self.assertEqual(health["status"], "degraded", health)
        self.assertEqual(self.server.get("/ready").status_code, 503)
        time.sleep(max(0.0, killed + 1.5 - time.monotonic()))
        self.sim = self.new_sim(port=port)
        for c in (a, b):
            c.wait(lambda s: any(info_says(e, "reconnected") for e in s.non_ticks()), 20,
                   "info reconnected")
            c.wait_more_ticks(5)
        for who, c in (("a", a), ("b", b)):
            self.assert_reconnect_story(c, who)
        health = self.health()
        self.assertTrue(health["tws_connected"], health)
        self.assertEqual(health["status"], "healthy", health)
        self.assertGreaterEqual(health["tws"]["reconnects"], 1, health)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 1, "resubscribed once at the new TWS")
        # The new simulator's market starts again from its first event.
        self.assert_window_of_dump([d for _, d in a.ticks()][-8:], AAPL, "BidAsk", "a, after")


class ConnectivityLost(FaultCase):
    def lost_then(self, restored):
        a, b = self.stream_aapl(2)
        before = len(self.sim.tbt(AAPL, "BidAsk"))
        self.assertEqual(before, 1)
        self.sim.admin("lost")
        time.sleep(1.0)
        self.sim.admin(f"restored {restored}")
        restored_at = time.monotonic()
        self.wait_resubscribed(before)
        for c in (a, b):
            c.wait_more_ticks(8, after=restored_at)
        self.assertTrue(self.server.proc.poll() is None)
        for who, c in (("a", a), ("b", b)):
            self.assertFalse(c.done, f"{who}: the HTTP connection stays open")
            self.assertFalse(any(e["type"] == "complete" for e in c.non_ticks()), who)
            self.assert_increasing(c.ids(), who)
            evs = c.non_ticks()
            told = first_index(evs, is_disconnected)
            if told is not None:  # 1100 reported as a loss: the recovery must be too
                self.assertIsNotNone(
                    first_index(evs, lambda e: info_says(e, "reconnected"), told),
                    f"{who}: error TWS_DISCONNECTED, then no info reconnected: {evs}")
            late = [d for at, ev in c.events() if at > restored_at and ev.type == "tick"
                    for d in [ev.json["data"]]]
            self.assert_window_of_dump(late[-8:], AAPL, "BidAsk", f"{who}, after restore")
        self.assert_one_live_upstream()
        self.assertTrue(self.health()["tws_connected"])
        return a

    def test_b_lost_then_restored_data_lost_resubscribes(self):
        self.lost_then("lost")

    def test_c_lost_then_restored_data_maintained_resubscribes(self):
        self.lost_then("maintained")


class FarmFlap(FaultCase):
    def test_d_silent_farm_flap_resubscribes(self):
        a, b = self.stream_aapl(2)
        before = len(self.sim.tbt(AAPL, "BidAsk"))
        self.sim.admin("farm-flap silent usfarm 300")
        flapped = time.monotonic()
        self.wait_resubscribed(before)
        for who, c in (("a", a), ("b", b)):
            c.wait_more_ticks(8, after=flapped + 0.3)
            self.assertFalse(c.done, who)
            self.assert_increasing(c.ids(), who)
            late = [ev.json["data"] for at, ev in c.events() if at > flapped and ev.type == "tick"]
            self.assert_window_of_dump(late[-8:], AAPL, "BidAsk", f"{who}, after the flap")
        self.assert_one_live_upstream()


class Watchdog(FaultCase):
    sim_rate = 50.0
    server_args = BASE_ARGS + ("--watchdog-silence-ms", "1000")

    def test_e_silenced_subscription_is_stale_rerequested_and_resumed(self):
        opened = time.monotonic()
        a, b = self.stream_aapl(2)
        a.wait_ticks(20)
        time.sleep(1.5)
        for c in (a, b):
            self.assertFalse(any(info_says(e, "stale") for e in c.non_ticks()),
                             "no stale notice while ticks flow")
        self.sim.admin(f"silence {AAPL}")
        silenced = time.monotonic()
        for c in (a, b):
            c.wait(lambda s: any(info_says(e, "stale") for e in s.non_ticks()), 10, "info stale")
        stale_at = min(at for at, ev in a.events() if info_says(ev.json, "stale"))
        self.assertGreaterEqual(stale_at - silenced, 0.9,
                                "stale only after --watchdog-silence-ms of silence")
        # The watchdog re-requests; IB allows one identical request per
        # instrument per 15 s, so the re-request may wait for that.
        self.server.wait_for(lambda: len(self.sim.tbt(AAPL, "BidAsk")) >= 2, timeout=30,
                             interval=0.05, what="the watchdog's reqTickByTickData")
        rerequested = time.monotonic()
        self.assertGreaterEqual(rerequested - opened, 14.8,
                                "no identical request within 15 s of the previous one")
        reqs = self.sim.tbt(AAPL, "BidAsk")
        self.assertNotEqual(reqs[0]["req_id"], reqs[1]["req_id"])
        quiet = [ev for at, ev in a.events() if at > silenced + 0.5 and ev.type == "tick"]
        self.assertEqual(quiet, [], "no ticks while the simulator keeps AAPL silent")

        self.sim.admin(f"unsilence {AAPL}")
        unsilenced = time.monotonic()
        for who, c in (("a", a), ("b", b)):
            c.wait_more_ticks(8, after=unsilenced)
            c.wait(lambda s: any(info_says(e, "resumed") for e in s.non_ticks()), 10,
                   "info resumed")
            evs = [ev.json for ev in c.blocks()]
            stale = first_index(evs, lambda e: info_says(e, "stale"))
            resumed = first_index(evs, lambda e: info_says(e, "resumed"))
            self.assertLess(stale, resumed, f"{who}: stale, then resumed")
            self.assertFalse(c.done, who)
            self.assert_increasing(c.ids(), who)
            late = [ev.json["data"] for at, ev in c.events()
                    if at > unsilenced and ev.type == "tick"]
            self.assert_window_of_dump(late[-8:], AAPL, "BidAsk", f"{who}, after unsilence")
        self.assert_one_live_upstream()


class WatchdogSlowMarket(FaultCase):
    sim_extra = ("--contract-rate", f"{MNQ}=0.5")  # one MNQ event every 2 s
    server_args = BASE_ARGS + ("--watchdog-silence-ms", "1000")

    def test_e2_a_slow_market_is_not_stale(self):
        """Silence is measured against the subscription's own rate (20x its
        mean interval), not only the 1 s minimum."""
        m = self.listen(f"/stream/{MNQ}/BidAsk")
        self.assertEqual(m.status, 200, m.body)
        m.wait_ticks(3, timeout=15)  # the rate is known from here on
        known = time.monotonic()
        m.wait_more_ticks(5, timeout=20)
        late = [ev.json for at, ev in m.events() if at > known and ev.type != "tick"]
        self.assertEqual([e for e in late if info_says(e, "stale")], [],
                         "2 s between ticks is this market's usual rate, not silence")
        self.assertEqual(len(self.sim.tbt(MNQ, "BidAsk")), 1, "no watchdog re-request")


class ClientIdHeld(FaultCase):
    sim_extra = ("--client-id-hold", "3")

    def test_f_client_id_held_after_a_drop(self):
        a, b = self.stream_aapl(2)
        starts = len([r for r in self.sim.requests() if r.get("msg") == "startApi"])
        self.sim.admin("drop")
        dropped = time.monotonic()
        for c in (a, b):
            c.wait(lambda s: any(is_disconnected(e) for e in s.non_ticks()), 15,
                   "error TWS_DISCONNECTED")
            c.wait(lambda s: any(info_says(e, "reconnected") for e in s.non_ticks()), 30,
                   "info reconnected")
            c.wait_more_ticks(5)
        for who, c in (("a", a), ("b", b)):
            self.assert_reconnect_story(c, who)
        back = min(at for at, ev in a.events() if info_says(ev.json, "reconnected"))
        self.assertGreaterEqual(back - dropped, 2.5, "the client id was held for 3 s")
        attempts = [r for r in self.sim.requests() if r.get("msg") == "startApi"][starts:]
        self.assertGreaterEqual(len(attempts), 2,
                                "quick reconnects while the id is held (326), then one that "
                                f"gets in: {attempts}")
        self.assertIsNone(self.server.proc.poll(), "326 is not fatal")
        health = self.health()
        self.assertTrue(health["tws_connected"], health)
        self.assertGreaterEqual(health["tws"]["reconnects"], 1, health)


class TickByTickCap(FaultCase):
    sim_extra = ("--max-tick-by-tick", "2")

    def test_g_third_subscription_over_the_tws_cap_is_429(self):
        a = self.listen(f"/stream/{AAPL}/BidAsk")
        b = self.listen(f"/stream/{MNQ}/BidAsk")
        for c in (a, b):
            self.assertEqual(c.status, 200, c.body)
            c.wait_ticks(5)
        c = self.listen(f"/stream/{EURUSD}/BidAsk")
        self.assertEqual(c.status, 429, c.body)
        self.assertEqual(c.body["error"]["code"], "RATE_LIMIT_EXCEEDED", c.body)
        self.assertIn("retry-after", c.headers, c.headers)
        after = time.monotonic()
        for who, s in (("AAPL", a), ("MNQ", b)):
            s.wait_more_ticks(10, after=after)
            self.assertEqual([e for e in s.non_ticks() if e["type"] != "info"], [],
                             f"{who}: unharmed")
            self.assert_consecutive(s.ids(), who)
        pairs = sorted((u["contract_id"], u["tick_type"]) for u in self.active()["streams"])
        self.assertEqual(pairs, [(AAPL, "BidAsk"), (MNQ, "BidAsk")])
        self.assertEqual(self.server.get("/ready").status_code, 200)

        # A freed slot can be used: the failure was not remembered.
        b.close()
        self.server.wait_for(lambda: self.sim.cancels(
            {r["req_id"] for r in self.sim.tbt(MNQ, "BidAsk")}), timeout=10,
            what="MNQ cancelled after its linger")
        d = self.listen(f"/stream/{EURUSD}/BidAsk")
        self.assertEqual(d.status, 200, d.body)
        d.wait_ticks(3)


class RawReader(threading.Thread):
    """A lean SSE reader for high rates: tick ids and arrival times only."""

    ID = re.compile(rb"^id: (\d+)$", re.M)

    def __init__(self, host, port, path):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.ids, self.times, self.errors = [], [], []
        self.stop_flag = False

    def run(self):
        pending = b""
        try:
            while not self.stop_flag:
                data = self.resp.read1(65536)
                if not data:
                    break
                now = time.monotonic()
                pending += data
                cut = pending.rfind(b"\n\n")
                if cut < 0:
                    continue
                done, pending = pending[:cut + 2], pending[cut + 2:]
                for m in self.ID.finditer(done):
                    self.ids.append(int(m.group(1)))
                    self.times.append(now)
                if b'"type":"error"' in done:
                    self.errors.append(done[done.find(b'"type":"error"') - 60:][:400])
        except (OSError, http.client.HTTPException):
            pass

    def close(self):
        self.stop_flag = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.join(5)
        self.conn.close()


class SlowConsumer(FaultCase):
    sim_rate = 2000.0
    # 1000 queued ticks (~0.5 s at this rate) so that a scheduling hiccup of
    # this shared test machine does not make the *fast* client lose ticks.
    server_args = BASE_ARGS + ("--buffer-size", "1000")

    def test_h_a_client_that_stops_reading_does_not_hurt_others(self):
        fast = RawReader(self.server.host, self.server.port, f"/stream/{AAPL}/BidAsk")
        self.assertEqual(fast.resp.status, 200)
        fast.start()
        self.addCleanup(fast.close)
        self.server.wait_for(lambda: len(fast.ids) > 100, timeout=15, what="fast ticks")

        slow = socket.socket()
        self.addCleanup(slow.close)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect((self.server.host, self.server.port))
        slow_port = slow.getsockname()[1]
        slow.sendall(f"GET /stream/{AAPL}/BidAsk HTTP/1.1\r\nHost: {self.server.host}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        # ...and never reads, unless the server ends it: then it reads what
        # is left, at once, to see why.
        self.server.wait_for(lambda: self.slow_entry(slow_port), timeout=5,
                             what="the slow client in /stream/active")
        time.sleep(1.0)
        pid = self.server.proc.pid
        rss_start = rss_kib(pid)
        window_start = time.monotonic()
        rss_max = rss_start
        max_dropped, ended_data = 0, None
        while time.monotonic() - window_start < 11.0:
            time.sleep(0.1)  # the server gives an ended slow client ~5 s to read the rest
            rss_max = max(rss_max, rss_kib(pid))
            if ended_data is None:
                entry = self.slow_entry(slow_port)
                if entry:
                    max_dropped = max(max_dropped, entry[0]["dropped"])
                else:
                    ended_data = self.read_rest(slow)
        window_end = time.monotonic()
        # How far along the upstream is now: the fast client must catch up
        # to it at once (it was not held back).
        served = self.sim.status()["served_ticks"]
        self.server.wait_for(lambda: fast.ids and fast.ids[-1] >= served - 5, timeout=2,
                             what=f"the fast client to reach id {served} (it lags)")
        ids = fast.ids[:]
        times = fast.times[:len(ids)]
        self.assert_increasing(ids, "fast client")
        # The fast client may lose a few ticks to a scheduling hiccup of this
        # busy test machine (it too has a bounded queue), but nothing like
        # the slow client.
        missing = (ids[-1] - ids[0] + 1) - len(ids)
        self.assertLessEqual(missing, len(ids) // 50,
                             f"fast client lost {missing} of {ids[-1] - ids[0] + 1} ticks")
        in_window = [(t, i) for t, i in zip(times, ids) if window_start <= t <= window_end]
        span = in_window[-1][1] - in_window[0][1] + 1
        self.assertGreater(span, 5000, f"fast client: ids {in_window[0][1]}..{in_window[-1][1]} "
                                       "in 11 s at ~1800 ticks/s")
        gaps = max(b[0] - a[0] for a, b in zip(in_window, in_window[1:]))
        self.assertLess(gaps, 1.0, "fast client: never stalled for a second")
        self.assertEqual(fast.errors, [], "the fast client got no error")
        growth_mib = (rss_max - rss_start) / 1024
        # Under a sanitizer (scripts/sanitize.sh sets IBS_SANITIZER) RSS says
        # nothing about the server: ASan holds freed memory in its quarantine
        # (256 MiB) and TSan keeps shadow memory; leaks are LeakSanitizer's job.
        if not os.environ.get("IBS_SANITIZER"):
            self.assertLess(growth_mib, 32, f"server RSS grew {growth_mib:.1f} MiB "
                                            f"({rss_start} -> {rss_max} KiB)")
        self.assertTrue(max_dropped > 0 or ended_data is not None,
                        "the slow client's drops show in /stream/active, or it was ended")
        if ended_data is not None:
            # api.md §4: one that stays behind is ended with `error` SLOW_CONSUMER.
            tail = ended_data[-2000:]
            last = tail.rstrip(b"\n").rsplit(b"\n\n", 1)[-1]
            self.assertIn(b"SLOW_CONSUMER", tail,
                          f"the slow client was ended ({len(ended_data)} bytes left to read) "
                          f"without an error SLOW_CONSUMER; the stream ends with {last[-300:]!r}")

    def slow_entry(self, port):
        return [c for c in self.active()["clients"]
                if str(c.get("remote", "")).endswith(f":{port}")]

    def read_rest(self, sock, timeout=5):
        """Everything left on a socket the server has ended (up to EOF)."""
        sock.settimeout(timeout)
        chunks = []
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            self.fail("the slow client left /stream/active but its connection stayed open")
        except ConnectionResetError:
            chunks.append(b"<connection reset>")
        return b"".join(chunks)


class GatewayRestart(FaultCase):
    def test_i_refused_port_reconnects_after_it_reopens(self):
        a, b = self.stream_aapl(2)
        mnq = self.listen(f"/stream/{MNQ}/MidPoint")  # a second upstream
        self.assertEqual(mnq.status, 200, mnq.body)
        mnq.wait_ticks(2)
        self.sim.admin("refuse 3")
        refused = time.monotonic()
        for c in (a, b):
            c.wait(lambda s: any(is_disconnected(e) for e in s.non_ticks()), 15,
                   "error TWS_DISCONNECTED")
        if time.monotonic() - refused < 2.5:
            health = self.health()
            self.assertFalse(health["tws_connected"], health)
            self.assertEqual(health["status"], "degraded", health)
            self.assertEqual(self.server.get("/ready").status_code, 503)
        for c in (a, b):
            c.wait(lambda s: any(info_says(e, "reconnected") for e in s.non_ticks()), 25,
                   "info reconnected")
            c.wait_more_ticks(5)
        back = min(at for at, ev in a.events() if info_says(ev.json, "reconnected"))
        self.assertGreaterEqual(back - refused, 2.8, "the port was closed for 3 s")
        self.assertLess(back - refused, 3 + BACKOFF_MAX_MS / 1000 + 4,
                        "reconnected soon after the port reopened (backoff capped)")
        for who, c in (("a", a), ("b", b)):
            self.assert_reconnect_story(c, who)
        health = self.health()
        self.assertTrue(health["tws_connected"], health)
        self.assertGreaterEqual(health["tws"]["reconnects"], 1, health)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 2, "resubscribed after the restart")
        self.assert_one_live_upstream()
        mnq.wait_more_ticks(2, after=back)
        self.assert_reconnect_story(mnq, "MNQ MidPoint")
        self.assertEqual(len(self.sim.tbt(MNQ, "MidPoint")), 2, "every upstream is re-requested")


class RequestsDuringAnOutage(FaultCase):
    server_args = BASE_ARGS + ("--connection-timeout", "4")

    def test_j_a_new_stream_waits_for_tws_or_gets_503(self):
        a = self.listen(f"/stream/{AAPL}/BidAsk")
        a.wait_ticks(3)
        # Short outage (2 s < --connection-timeout 4): the request waits for TWS.
        self.sim.admin("refuse 2")
        refused = time.monotonic()
        a.wait(lambda s: any(is_disconnected(e) for e in s.non_ticks()), 10,
               "error TWS_DISCONNECTED")
        b = self.listen(f"/stream/{MNQ}/BidAsk")
        self.assertEqual(b.status, 200, b.body)
        self.assertGreater(time.monotonic() - refused, 1.5, "answered once TWS was back")
        b.wait_ticks(3)
        a.wait(lambda s: any(info_says(e, "reconnected") for e in s.non_ticks()), 20,
               "info reconnected")
        # Long outage (8 s > 4 s): 503 TWS_UNAVAILABLE after the connect timeout.
        def reconnects(s):
            return len([e for e in s.non_ticks() if info_says(e, "reconnected")])
        before = {id(s): reconnects(s) for s in (a, b)}
        self.sim.admin("refuse 8")
        refused = time.monotonic()
        a.wait(lambda s: len([e for e in s.non_ticks() if is_disconnected(e)]) >= 2, 10,
               "a second error TWS_DISCONNECTED")
        c = self.listen(f"/stream/{EURUSD}/MidPoint")
        waited = time.monotonic() - refused
        self.assertEqual(c.status, 503, c.body)
        self.assertEqual(c.body["error"]["code"], "TWS_UNAVAILABLE", c.body)
        self.assertLess(waited, 8, "503 before TWS came back")
        # ...and everything recovers when the port reopens.
        for s in (a, b):
            s.wait(lambda s: reconnects(s) > before[id(s)], 25,
                   "info reconnected after the long outage")
            s.wait_more_ticks(3)
        d = self.listen(f"/stream/{EURUSD}/MidPoint")
        self.assertEqual(d.status, 200, d.body)
        d.wait_ticks(2, timeout=30)


class CompetingSession(FaultCase):
    def test_k_10197_is_reported_and_the_stream_goes_on(self):
        a, b = self.stream_aapl(2)
        self.sim.admin(f"silence {AAPL} 10197")
        for c in (a, b):
            c.wait(lambda s: any(error_code(e) == "TWS_ERROR_10197" for e in s.non_ticks()), 10,
                   "error TWS_ERROR_10197")
        time.sleep(0.5)
        self.sim.admin(f"unsilence {AAPL}")
        for who, c in (("a", a), ("b", b)):
            c.wait_more_ticks(5)
            self.assertFalse(c.done, f"{who}: 10197 is a notice, not the end of the stream")
            self.assertFalse(any(e["type"] == "complete" for e in c.non_ticks()), who)
            self.assert_increasing(c.ids(), who)


if __name__ == "__main__":
    unittest.main()
