"""ib-stream-server: one upstream subscription per (contract, tick type),
shared by every client, and its linger (api.md §4), with real ib-tws-sim and
ib-stream-server processes. The simulator's request log shows what the
server asked TWS for; the seeded market (`ib-tws-sim --dump`) says which
tick every sequence id must carry.

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server and
ib-tws-sim> /usr/bin/python3 -m unittest -v test_server_sharing
"""
import time
import unittest

from streamwatch import AAPL, ServerCase

# Long enough that a reconnect on a busy machine (ctest -j2 beside the load
# tests) still happens within it.
LINGER_MS = 1500


class Sharing(ServerCase):
    sim_rate = 20.0
    server_args = ("--linger-ms", str(LINGER_MS), "--backoff-max-ms", "1000")

    def test_five_clients_share_one_upstream_and_get_the_seeded_ticks(self):
        first = self.listen(f"/stream/{AAPL}/BidAsk")
        self.assertEqual(first.status, 200, first.body)
        first.wait_ticks(1)
        others = [self.listen(f"/stream/{AAPL}/BidAsk") for _ in range(4)]
        clients = [first] + others
        for i, c in enumerate(clients):
            self.assertEqual(c.status, 200, c.body)
            c.wait_ticks(30, timeout=30)
            self.assertEqual(c.blocks()[0].type, "info", f"client {i}: first event is info")

        reqs = self.sim.tbt(AAPL, "BidAsk")
        self.assertEqual(len(reqs), 1, f"one upstream request for 5 clients: {reqs}")
        self.assertEqual(len(self.sim.tbt()), 1, self.sim.tbt())
        [up] = self.upstreams(AAPL, "BidAsk")
        self.assertEqual(up["clients"], 5, up)

        ticks = [c.ticks() for c in clients]
        top = max(i for t in ticks for i, _ in t)
        want = self.sim.dump(AAPL, top + 5, "BidAsk")
        self.assertEqual(ticks[0][0][0], 1, "the subscription's first tick has id 1")
        for n, t in enumerate(ticks):
            self.assert_consecutive([i for i, _ in t], f"client {n}")
            for i, data in t:
                # id i is the i-th tick of the seeded market: the same for
                # every client, and the same as the simulator's --dump.
                self.assertEqual(data, want[i - 1], f"client {n}, id {i}")
        common = set.intersection(*({i for i, _ in t} for t in ticks))
        self.assertGreaterEqual(len(common), 10, "the clients overlap")

    def test_other_tick_type_is_a_second_upstream(self):
        quotes = self.listen(f"/stream/{AAPL}/BidAsk")
        quotes.wait_ticks(3)
        mids = self.listen(f"/stream/{AAPL}", params={"tick_type": "MidPoint"})
        self.assertEqual(mids.status, 200, mids.body)
        mids.wait_ticks(10, timeout=30)
        more_quotes = self.listen(f"/stream/{AAPL}/bidask")  # case-insensitive: same pair
        more_quotes.wait_ticks(3)
        mids2 = self.listen(f"/stream/{AAPL}/MidPoint")
        mids2.wait_ticks(3, timeout=30)

        reqs = self.sim.tbt()
        self.assertEqual(sorted((r["con_id"], r["tick_type"]) for r in reqs),
                         [(AAPL, "BidAsk"), (AAPL, "MidPoint")], reqs)
        self.assertNotEqual(reqs[0]["req_id"], reqs[1]["req_id"])
        self.assertEqual(len(self.active()["streams"]), 2)
        # MidPoint joined a running market: its ticks are a contiguous window
        # of the seeded MidPoint series, numbered from 1 by its own upstream.
        got = mids.ticks()
        self.assertEqual(got[0][0], 1, "a new upstream numbers from 1")
        self.assert_consecutive([i for i, _ in got], "MidPoint")
        want = self.sim.dump(AAPL, 3000, "MidPoint")
        data = [d for _, d in got]
        offset = next((k for k in range(len(want) - len(data) + 1)
                       if want[k:k + len(data)] == data), None)
        self.assertIsNotNone(offset, "MidPoint ticks are a window of the seeded market")
        for i, d in mids2.ticks():
            self.assertEqual(d, want[offset + i - 1], f"second MidPoint client, id {i}")

    def test_cancel_after_the_linger_not_before(self):
        a = self.listen(f"/stream/{AAPL}/BidAsk")
        b = self.listen(f"/stream/{AAPL}/BidAsk")
        a.wait_ticks(5)
        b.wait_ticks(5)
        [req] = self.sim.tbt(AAPL, "BidAsk")
        a.close()
        time.sleep(LINGER_MS / 1000 * 2)  # more than the linger: b streams, nothing cancelled
        self.assertEqual(self.sim.cancels(), [], "a client remains: no cancel")
        b.wait_more_ticks(3)

        b.close()
        closed_at = time.monotonic()
        cancelled_at = None
        deadline = closed_at + 8
        while time.monotonic() < deadline:
            if self.sim.cancels([req["req_id"]]):
                cancelled_at = time.monotonic()
                break
            time.sleep(0.02)
        self.assertIsNotNone(cancelled_at, "cancelTickByTickData after the last client left")
        waited = cancelled_at - closed_at
        self.assertGreaterEqual(waited, LINGER_MS / 1000 - 0.05,
                                f"cancelled {waited:.3f}s after the last client left; "
                                f"the linger is {LINGER_MS} ms")
        self.assertLess(waited, 5.0, "cancelled within a few seconds of the linger")
        self.server.wait_for(lambda: not self.upstreams(AAPL, "BidAsk"), timeout=5,
                             what="the upstream to leave /stream/active")
        self.assertEqual(len(self.sim.cancels()), 1)

        # A new client afterwards needs (and gets) a new upstream request.
        c = self.listen(f"/stream/{AAPL}/BidAsk")
        c.wait_ticks(3)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 2)

    def test_reconnect_within_the_linger_reuses_the_subscription(self):
        a = self.listen(f"/stream/{AAPL}/BidAsk")
        a.wait_ticks(10)
        a.close()
        last_a = a.ids()[-1]
        # Wait until the server has seen the client go (the subscription is
        # now lingering), then come back well within the linger.
        self.server.wait_for(lambda: self.active()["clients"] == [], timeout=5, interval=0.01,
                             what="the closed client to leave /stream/active")
        left = time.monotonic()
        b = self.listen(f"/stream/{AAPL}/BidAsk")
        self.assertLess(time.monotonic() - left, LINGER_MS / 1000,
                        "test setup: the reconnect must happen within the linger")
        self.assertEqual(b.status, 200, b.body)
        b.wait_ticks(5)
        time.sleep(LINGER_MS / 1000 * 1.5)
        b.wait_more_ticks(3)
        self.assertEqual(len(self.sim.tbt(AAPL, "BidAsk")), 1,
                         f"the lingering subscription is reused: {self.sim.tbt()}")
        self.assertEqual(self.sim.cancels(), [], "nothing cancelled")
        ids = b.ids()
        self.assertGreater(ids[0], last_a, "same upstream: its sequence continues")
        self.assert_consecutive(ids, "reconnected client")
        want = self.sim.dump(AAPL, ids[-1] + 5, "BidAsk")
        for i, d in b.ticks():
            self.assertEqual(d, want[i - 1], f"id {i}")


if __name__ == "__main__":
    unittest.main()
