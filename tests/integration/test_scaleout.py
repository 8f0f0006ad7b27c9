"""ib-stream-server scale-out on NATS JetStream (README "Scale-out"): real
processes on loopback ports: `nats-server -js` (its store in a temporary
directory), ib-tws-sim, publishers (`--role publisher`, distinct TWS client
ids) and edges (`--role edge`, no TWS connection).

- Clients on both edges get identical ids and ticks (the ids are the
  publisher's sequence numbers, which are JetStream's).
- A client of an edge that dies resumes on another edge with Last-Event-ID:
  no gap, no duplicate.
- Bad input and limits are answered on an edge as on a single node (the
  publisher answers the open).
- The leader killed: the standby takes over within a bounded time; clients
  get `reconnected` and ids continue.
- nats-server restarted: publisher and edges report `degraded`, keep their
  clients, and everything goes on.

Run: cd tests/integration && IBS_BIN_DIR=<build dir> /usr/bin/python3 -m
unittest -v test_scaleout
"""
import shutil
import sys
import tempfile
import time
import unittest

from natsproc import NatsServer, edge, nats_server_binary, publisher
from streamwatch import AAPL, UNKNOWN, Listener, Sim, info_says

NO_NATS = nats_server_binary() is None


def consecutive(ids):
    return bool(ids) and ids == list(range(ids[0], ids[0] + len(ids)))


class ScaleOutCase(unittest.TestCase):
    """nats-server, a simulator, processes started by the test, all stopped
    at the end (and their log tails printed when the test failed)."""

    def setUp(self):
        if NO_NATS:
            self.skipTest("nats-server is not installed (Debian package nats-server)")
        self.procs = []
        self.listeners = []
        self.dirs = []
        self.nats = NatsServer()
        self.addCleanup(self.nats.cleanup)
        self.sim = Sim(seed=11, rate=40.0)
        self.addCleanup(self.sim.stop)
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for listener in self.listeners:
            listener.close()
        failed = any(t is self for t, _ in getattr(self._outcome.result, "failures", []) +
                     getattr(self._outcome.result, "errors", []))
        for name, p in self.procs:
            p.stop()
            if failed:
                tail = "\n".join(p.stderr_text().splitlines()[-40:])
                sys.stderr.write(f"\n--- {name} log tail ({self.id()}) ---\n{tail}\n")
            p.cleanup()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="ibs-scaleout-")
        self.dirs.append(d)
        return d

    def start_publisher(self, name, *args, wait_leader=True):
        p = publisher(self.nats, self.sim, name, self.tmpdir(), *args)
        self.procs.append((name, p))
        if wait_leader:
            self.assertTrue(p.wait_ready(20), f"{name} never led")
        return p

    def start_edge(self, name, *args):
        e = edge(self.nats, name, *args)
        self.procs.append((name, e))
        return e

    def listen(self, server, path, **kw):
        listener = Listener(server, path, **kw)
        self.listeners.append(listener)
        return listener

    def health(self, server):
        status, body = server.json("/health")
        self.assertEqual(status, 200, body)
        return body


class TwoEdges(ScaleOutCase):
    def setUp(self):
        super().setUp()
        self.pub = self.start_publisher("pub-a", "--max-streams", "3")
        self.e1 = self.start_edge("edge-1")
        self.e2 = self.start_edge("edge-2")

    def test_edges_serve_identical_ids_and_ticks(self):
        a = self.listen(self.e1, f"/stream/{AAPL}/Last")
        b = self.listen(self.e2, f"/stream/{AAPL}/Last")
        self.assertEqual((a.status, b.status), (200, 200), (a.body, b.body))
        a.wait_ticks(40)
        b.wait_ticks(40)
        ta, tb = dict(a.ticks()), dict(b.ticks())
        for who, ids in (("edge-1", a.ids()), ("edge-2", b.ids())):
            self.assertTrue(consecutive(ids), f"{who}: ids must be consecutive: {ids[:50]}")
        common = sorted(set(ta) & set(tb))
        self.assertGreaterEqual(len(common), 30, "the two edges overlap")
        for i in common:
            self.assertEqual(ta[i], tb[i], f"tick {i} differs between the edges")
        # The same ids a client of the publisher itself sees (a single node).
        c = self.listen(self.pub, f"/stream/{AAPL}/Last")
        c.wait_ticks(5)
        tc = dict(c.ticks())
        a.wait(lambda s: max(s.ids()) >= max(tc), what="edge-1 past the publisher's client")
        ta = dict(a.ticks())
        for i in tc:
            self.assertEqual(tc[i], ta[i], f"tick {i}: the edge and the publisher differ")
        # The edges say where they are.
        h = self.health(self.e1)
        self.assertEqual(h["status"], "healthy", h)
        self.assertEqual(h["nats"]["role"], "edge")
        self.assertTrue(h["nats"]["connected"])
        self.assertEqual(h["nats"]["publisher"], "pub-a")
        self.assertTrue(h["tws_connected"], "the publisher's TWS link, through the bus")
        hp = self.health(self.pub)
        self.assertTrue(hp["nats"]["leader"], hp)
        self.assertGreater(hp["nats"]["ticks_published"], 0)
        self.assertEqual(hp["nats"]["publish_failures"], 0, hp)
        # An edge records nothing.
        r = self.e1.request("POST", f"/tracked/{AAPL}?tick_types=Last")
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("edge", r.json()["error"]["message"])
        # /stream/active on an edge lists its own clients and streams.
        status, active = self.e2.json("/stream/active")
        self.assertEqual(status, 200)
        self.assertTrue(any(s["contract_id"] == AAPL and s["tick_type"] == "Last"
                            for s in active["streams"]), active)

    def test_a_client_resumes_on_another_edge_without_gap_or_duplicate(self):
        e3 = self.start_edge("edge-3")
        keeper = self.listen(self.e2, f"/stream/{AAPL}/BidAsk")  # sees everything
        moving = self.listen(e3, f"/stream/{AAPL}/BidAsk")
        moving.wait_ticks(20)
        e3.proc.kill()  # the edge dies; its client's connection breaks
        moving.wait(lambda s: s.done, what="the dead edge's stream to end")
        last = moving.ids()[-1]
        time.sleep(0.5)  # ticks go on meanwhile
        resumed = self.listen(self.e1, f"/stream/{AAPL}/BidAsk",
                              headers={"Last-Event-ID": str(last)})
        self.assertEqual(resumed.status, 200, resumed.body)
        resumed.wait_ticks(30)
        ids = resumed.ids()
        self.assertEqual(ids[0], last + 1, "resumed right after the last id seen")
        self.assertTrue(consecutive(ids), f"resumed: no gap, no duplicate: {ids[:40]}")
        self.assertFalse([e for e in resumed.non_ticks() if info_says(e, "lost")],
                         "nothing lost")
        keeper.wait(lambda s: max(s.ids()) >= ids[-1], what="the keeper to catch up")
        kept = dict(keeper.ticks())
        for i, data in resumed.ticks():
            if i in kept:
                self.assertEqual(data, kept[i], f"tick {i}")

    def test_a_stream_opened_again_after_its_last_client_left(self):
        e3 = self.start_edge("edge-3", "--linger-ms", "300")
        first = self.listen(e3, f"/stream/{AAPL}/MidPoint")
        first.wait_ticks(5)
        first.close()
        e3.wait_for(lambda: not e3.json("/stream/active")[1]["streams"], timeout=10,
                    what="the edge to drop the stream after its linger")
        # No edge keeps it any more: the publisher closes it too (its client
        # "nats" goes; the upstream lingers, then goes).
        self.pub.wait_for(lambda: not [c for c in self.pub.json("/stream/active")[1]["clients"]
                                       if c["transport"] == "nats" and
                                       c["tick_type"] == "MidPoint"],
                          timeout=10, what="the publisher to close the stream no edge keeps")
        again = self.listen(e3, f"/stream/{AAPL}/MidPoint")
        again.wait_ticks(10, timeout=15)
        ids = again.ids()
        self.assertTrue(consecutive(ids), ids)
        self.assertGreater(ids[0], first.ids()[-1], "the numbering goes on")
        # JetStream kept every tick: those of the first time, and those the
        # publisher's upstream got while it lingered unpublished. A client
        # resuming from the very first id on another edge misses nothing.
        back = self.listen(self.e1, f"/stream/{AAPL}/MidPoint",
                           headers={"Last-Event-ID": str(first.ids()[0])})
        back.wait(lambda s: s.ids() and s.ids()[-1] >= ids[-1], timeout=15,
                  what="the resumed client to reach the reopened stream")
        self.assertEqual(back.ids()[0], first.ids()[0] + 1)
        self.assertTrue(consecutive(back.ids()), back.ids())
        self.assertFalse([e for e in back.non_ticks() if info_says(e, "lost")], back.non_ticks())

    def test_bad_input_and_limits_are_answered_as_on_a_single_node(self):
        for path in (f"/stream/abc/Last", f"/stream/{AAPL}/Trades", f"/stream/{UNKNOWN}/Last",
                     f"/stream/{AAPL}/Last?limit=0", f"/stream/{AAPL}/Last?timeout=1"):
            on_edge = self.e1.get(path, stream=True, timeout=15)
            on_pub = self.pub.get(path, stream=True, timeout=15)
            self.assertEqual(on_edge.status_code, on_pub.status_code, path)
            self.assertIn(on_edge.status_code, (400, 404), path)
            self.assertEqual(on_edge.json()["error"]["code"], on_pub.json()["error"]["code"],
                             path)
            on_edge.close()
            on_pub.close()
        # The publisher's stream limit (3) holds for streams asked through edges.
        open_ = [self.listen(self.e1, f"/stream/{AAPL}/{t}")
                 for t in ("Last", "BidAsk", "MidPoint")]
        self.assertEqual([l.status for l in open_], [200, 200, 200])
        r = self.e2.get(f"/stream/{AAPL}/AllLast", stream=True, timeout=15)
        self.assertEqual(r.status_code, 429, r.text)
        self.assertEqual(r.json()["error"]["code"], "RATE_LIMIT_EXCEEDED")
        self.assertIn("Retry-After", r.headers)
        r.close()
        # The other clients were not harmed.
        for listener in open_:
            listener.wait_more_ticks(3)


class History(ScaleOutCase):
    """History on an edge is the publisher's record, forwarded through NATS."""

    def test_history_on_an_edge_is_the_publishers(self):
        self.sim = Sim(seed=12, rate=400.0)
        self.addCleanup(self.sim.stop)
        pub = self.start_publisher("pub-a", "--track", f"{AAPL}:BidAsk")
        e1 = self.start_edge("edge-1")
        def recorded():
            status, body = pub.json(f"/history/{AAPL}")
            return body["tick_types"][0] if status == 200 and body["tick_types"][0]["rows"] >= 1500 \
                else None
        summary = pub.wait_for(recorded, timeout=60, interval=0.5,
                               what="ticks recorded on the publisher")
        # The simulator's market time (its --start-time): the range recorded.
        query = (f"start={summary['first']['unix_time']}&end={summary['last']['unix_time']}"
                 "&limit=100000")
        for fmt in ("json", "ndjson", "csv"):
            path = f"/history/{AAPL}/BidAsk?{query}&format={fmt}"
            on_pub = pub.get(path, timeout=30)
            on_edge = e1.get(path, timeout=30)
            self.assertEqual(on_pub.status_code, 200, on_pub.text[:300])
            self.assertEqual(on_edge.status_code, 200, on_edge.text[:300])
            self.assertEqual(on_edge.headers["Content-Type"], on_pub.headers["Content-Type"])
            self.assertEqual(on_edge.content, on_pub.content, f"{fmt}: the same answer")
        # (pieces of at most 256 KiB, 64 KiB sent at once: the csv is several)
        self.assertGreater(len(on_edge.content), 100_000, "an answer of several pieces")
        # What is tracked, the summary, and the errors are the publisher's too.
        self.assertEqual(e1.json("/tracked")[1]["tracked"][0]["contract_id"], AAPL)
        r = e1.delete(f"/tracked/{AAPL}")
        self.assertEqual(r.status_code, 400, "an edge records nothing")
        self.assertEqual(e1.json(f"/history/{AAPL}")[1]["contract_id"], AAPL)
        r = e1.get("/history/123456/Last?duration=15m")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"]["code"], "CONTRACT_NOT_FOUND")
        r = e1.get(f"/history/{AAPL}/BidAsk?duration=15m&limit=0")
        self.assertEqual(r.status_code, 400, "validated on the edge as on a single node")
        # Replay is not forwarded: the edge says where the record is.
        r = e1.get(f"/replay/{AAPL}?tick_types=BidAsk&{query}", timeout=30)
        self.assertEqual(r.status_code, 404, r.text[:300])
        self.assertIn("edge", r.json()["error"]["message"])
        self.assertIn("publisher", r.json()["error"]["details"])
        # With no publisher, the edge says so.
        pub.stop()
        r = e1.get(f"/history/{AAPL}/BidAsk?duration=15m", timeout=30)
        self.assertEqual(r.status_code, 503, r.text)
        self.assertIn("publisher", r.json()["error"]["message"])


class Failover(ScaleOutCase):
    def test_standby_takes_over_and_ids_continue(self):
        lead = self.start_publisher("pub-a")
        standby = self.start_publisher("pub-b", wait_leader=False)
        e1 = self.start_edge("edge-1")
        self.assertFalse(self.health(standby)["nats"]["leader"])
        self.assertEqual(self.health(standby)["nats"]["leader_name"], "pub-a")
        client = self.listen(e1, f"/stream/{AAPL}/BidAsk")
        client.wait_ticks(20)
        killed_at = time.monotonic()
        lead.proc.kill()  # no goodbye: the lease has to expire
        client.wait(lambda s: any(info_says(e, "reconnected") or
                                  (e.get("info") or {}).get("code") == "reconnected"
                                  for e in s.non_ticks()),
                    timeout=30, what="`reconnected` from the standby")
        n = len(client.ticks())
        client.wait(lambda s: len(s.ticks()) >= n + 20, timeout=30,
                    what="ticks from the new leader")
        takeover = next(at for at, ev in client.events()
                        if at > killed_at and ev.type == "tick") - killed_at
        ids = client.ids()
        self.assertEqual(ids, sorted(set(ids)), "no duplicate, no restart of the numbering")
        self.assertTrue(all(b > a for a, b in zip(ids, ids[1:])))
        self.assertTrue(self.health(standby)["nats"]["leader"])
        # How long it took is reported, not asserted (a shared machine); the
        # waits above bound it.
        sys.stderr.write(f"\n[failover] first tick from the new leader {takeover:.2f} s after "
                         f"the leader was killed\n")


    def test_a_leader_that_lost_its_lease_stops(self):
        import signal
        lead = self.start_publisher("pub-a")
        standby = self.start_publisher("pub-b", wait_leader=False)
        e1 = self.start_edge("edge-1")
        client = self.listen(e1, f"/stream/{AAPL}/Last")
        client.wait_ticks(5)
        # Frozen (a stopped VM, a long pause) past its lease: the standby leads.
        lead.signal(signal.SIGSTOP)
        standby.wait_for(lambda: self.health(standby)["nats"]["leader"], timeout=20,
                         what="the standby to lead")
        n = len(client.ticks())
        client.wait(lambda s: len(s.ticks()) >= n + 5, timeout=30, what="ticks from pub-b")
        # Woken up, the old leader finds its lease gone and stops (exit 3),
        # so that two publishers never subscribe at once.
        lead.signal(signal.SIGCONT)
        self.assertEqual(lead.wait(20), 3, lead.stderr_text()[-2000:])
        self.assertIn("lost the lease", lead.stderr_text())
        ids = client.ids()
        self.assertTrue(all(b > a for a, b in zip(ids, ids[1:])), "ids increase")


class NatsRestart(ScaleOutCase):
    def test_everything_recovers_after_nats_server_restarts(self):
        pub = self.start_publisher("pub-a")
        e1 = self.start_edge("edge-1")
        client = self.listen(e1, f"/stream/{AAPL}/MidPoint")
        client.wait_ticks(10)
        self.nats.stop()
        for node in (pub, e1):
            node.wait_for(lambda n=node: self.health(n)["status"] == "degraded", timeout=10,
                          what="degraded while nats-server is down")
            self.assertFalse(self.health(node)["nats"]["connected"])
        self.assertFalse(client.done, "the edge keeps its client")
        self.nats.start()
        n = len(client.ticks())
        client.wait(lambda s: len(s.ticks()) >= n + 20, timeout=30,
                    what="ticks after nats-server is back")
        for node in (pub, e1):
            node.wait_for(lambda n=node: self.health(n)["status"] == "healthy", timeout=15,
                          what="healthy again")
        ids = client.ids()
        self.assertTrue(all(b > a for a, b in zip(ids, ids[1:])), "ids increase")


if __name__ == "__main__":
    unittest.main()
