"""Recording (README "Recording and history"): tracked streams written to the
SQLite day files of the data directory, gaps after outages filled with the
simulator's historical ticks, resume and history-then-live from the record,
retention, a full disk, bad input. Real processes: ib-tws-sim with a
wall-clock market (`--clock wall`: a pure function of seed, contract and
time, so `--dump --from --to` says what any interval held) and
ib-stream-server; the record is read with Python's sqlite3 module, without
our code, as docs/recording.md describes it.
"""
import glob
import json
import os
import resource
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import requests

import simproc
from serverproc import Server, run_server
from streamwatch import AAPL, MNQ, Listener, Sim

SEED = 11
RATE = 20.0
TRACK = f"{AAPL}:BidAsk,Last,MidPoint"


def now_s():
    return int(time.time())


def data_of(row):
    """A stored row as the api.md tick object (what --dump prints)."""
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["ib_time"]))
    t = row["tick_type"]
    if t in ("Last", "AllLast"):
        return {"type": "time_sales", "tick_type": t, "timestamp": ts,
                "unix_time": row["ib_time"], "price": row["price"], "size": row["size"],
                "exchange": row["exchange"], "conditions": row["conditions"],
                "past_limit": bool(row["past_limit"]), "unreported": bool(row["unreported"])}
    if t == "BidAsk":
        return {"type": "bid_ask", "timestamp": ts, "unix_time": row["ib_time"],
                "bid_price": row["bid_price"], "ask_price": row["ask_price"],
                "bid_size": row["bid_size"], "ask_size": row["ask_size"],
                "bid_past_low": bool(row["bid_past_low"]),
                "ask_past_high": bool(row["ask_past_high"])}
    return {"type": "midpoint", "timestamp": ts, "unix_time": row["ib_time"],
            "midpoint": row["midpoint"]}


def read_record(data_dir, con_id, tick_type):
    """Every row of a stream, in (seq, sub) order, from every day file."""
    rows = []
    for path in sorted(glob.glob(os.path.join(data_dir, "ticks-*.sqlite"))):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        rows += [dict(r) for r in db.execute(
            "SELECT * FROM ticks WHERE con_id = ? AND tick_type = ? ORDER BY seq, sub",
            (con_id, tick_type))]
        db.close()
    rows.sort(key=lambda r: (r["seq"], r["sub"]))
    return rows


def sse_ticks(listener):
    """[(id as sent, data)]: ids of backfilled ticks are "seq.sub"."""
    return [(ev.id, ev.json["data"]) for ev in listener.blocks() if ev.type == "tick"]


def integrity(data_dir):
    out = {}
    for path in glob.glob(os.path.join(data_dir, "*.sqlite")):
        db = sqlite3.connect(path)
        out[os.path.basename(path)] = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
    return out


class RecorderCase(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="ibs-record-")
        self.start_time = now_s() - 2
        self.sims, self.servers = [], []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        for s in self.sims:
            s.stop()

    def sim(self, port=0, extra=()):
        s = Sim(port=port, seed=SEED, start_time=self.start_time, rate=RATE,
                extra=("--clock", "wall", *extra))
        self.sims.append(s)
        return s

    def server(self, sim, args=(), track=TRACK, env=None):
        argv = ["--data-dir", self.data_dir, "--linger-ms", 200, *args]
        if track:
            argv += ["--track", track]
        s = Server(sim, args=argv, env=env)
        self.servers.append(s)
        return s

    def dump(self, con_id, tick_type, frm, to):
        """The market's ticks of `tick_type` with time in [frm, to)."""
        out = subprocess.run(
            [simproc.binary("ib-tws-sim"), "--dump", str(con_id), "--clock", "wall",
             "--seed", str(SEED), "--start-time", str(self.start_time), "--rate", str(RATE),
             "--from", str(frm), "--to", str(to), "--count", "1000000"],
            check=True, capture_output=True, text=True, timeout=60).stdout
        ticks = [json.loads(line) for line in out.splitlines() if line.strip()]
        return [t["data"] for t in ticks if t["tick_type"] == tick_type]

    def tracked(self, server):
        r = server.get("/tracked")
        self.assertEqual(r.status_code, 200, r.text)
        return {f'{t["contract_id"]}:{t["tick_type"]}': t for t in r.json()["tracked"]}

    def wait_recorded(self, server, key, n, timeout=30):
        server.wait_for(lambda: self.tracked(server).get(key, {}).get("ticks_recorded", 0) >= n,
                        timeout=timeout, what=f"{n} ticks of {key} recorded")

    def wait_gaps_done(self, server, keys, timeout=60):
        def done():
            t = self.tracked(server)
            return all(t[k]["gaps"]["list"] and t[k]["gaps"]["open"] == 0 for k in keys)
        server.wait_for(done, timeout=timeout, interval=0.3, what=f"gaps of {keys} filled")

    def assert_record_is_market(self, con_id, tick_type, expect_backfill=False):
        """Inside the recorded range (whole seconds) the record is exactly the
        market: every tick once, in order, none missing."""
        rows = read_record(self.data_dir, con_id, tick_type)
        self.assertGreater(len(rows), 10, f"{tick_type}: too few rows")
        live = [r["seq"] for r in rows if r["source"] == "live"]
        self.assertEqual(live, sorted(set(live)), f"{tick_type}: live seqs repeat")
        t0, t1 = rows[0]["ib_time"], rows[-1]["ib_time"]
        inner = [data_of(r) for r in rows if t0 < r["ib_time"] < t1]
        expected = self.dump(con_id, tick_type, t0 + 1, t1)
        self.assertEqual(len(inner), len(expected), f"{tick_type}: count over ({t0}, {t1})")
        self.assertEqual(inner, expected, f"{tick_type}: the record differs from the market")
        backfilled = sum(r["source"] == "backfill" for r in rows)
        if expect_backfill:
            self.assertGreater(backfilled, 0, f"{tick_type}: nothing was backfilled")
        return rows


class Recording(RecorderCase):
    def test_record_equals_the_market(self):
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 60)
        self.assertEqual(server.stop()[0], 0)
        for t in ("BidAsk", "Last", "MidPoint"):
            with self.subTest(tick_type=t):
                rows = self.assert_record_is_market(AAPL, t)
                self.assertEqual([r["seq"] for r in rows], list(range(1, len(rows) + 1)))
                self.assertTrue(all(r["source"] == "live" and r["sub"] == 0 for r in rows))
        self.assertTrue(all(v == "ok" for v in integrity(self.data_dir).values()))

    def test_tracked_endpoint_health_and_active(self):
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 5)
        t = self.tracked(server)[f"{AAPL}:BidAsk"]
        self.assertEqual(t["state"], "live")
        self.assertGreater(t["last_tick_unix"], self.start_time - 1)
        self.assertIn("seconds", t["recorder_lag"])
        self.assertEqual(t["gaps"]["open"], 0)
        paths = {(e["method"], e["path"]) for e in server.get("/").json()["endpoints"]}
        self.assertTrue({("GET", "/tracked"), ("POST", "/tracked/{contract_id}"),
                         ("DELETE", "/tracked/{contract_id}")} <= paths, paths)
        health = server.get("/health").json()
        self.assertEqual(health["status"], "healthy")
        self.assertEqual(health["recorder"]["status"], "ok")
        self.assertEqual(health["recorder"]["tracked_streams"], 3)
        active = server.get("/stream/active").json()
        ups = {(u["contract_id"], u["tick_type"]): u for u in active["streams"]}
        self.assertTrue(ups[(AAPL, "BidAsk")]["tracked"])
        self.assertEqual(ups[(AAPL, "BidAsk")]["clients"], 0, "the recorder is not a client")
        self.assertEqual(active["clients"], [])
        # A client shares the tracked upstream: one TWS request per stream.
        lst = Listener(server, f"/stream/{AAPL}/BidAsk", {"limit": "3"})
        lst.wait_ticks(3)
        lst.close()
        self.assertEqual(len(sim.tbt(AAPL, "BidAsk")), 1, sim.tbt(AAPL, "BidAsk"))
        # DELETE /stream ends clients, never the recording.
        server.delete(f"/stream/{AAPL}")
        time.sleep(0.5)
        n = self.tracked(server)[f"{AAPL}:BidAsk"]["ticks_recorded"]
        self.wait_recorded(server, f"{AAPL}:BidAsk", n + 5)

    def test_runtime_changes_persist(self):
        sim = self.sim()
        server = self.server(sim, track=None)
        self.assertEqual(self.tracked(server), {})
        r = server.request("POST", f"/tracked/{MNQ}?tick_types=AllLast,BidAsk")
        self.assertEqual(r.status_code, 201, r.text)
        self.assertEqual({t["tick_type"] for t in r.json()["tracked"]}, {"AllLast", "BidAsk"})
        self.wait_recorded(server, f"{MNQ}:BidAsk", 3)
        server.stop()
        # Restarted without --track: the data directory remembers.
        server = self.server(sim, track=None)
        self.assertEqual(set(self.tracked(server)), {f"{MNQ}:AllLast", f"{MNQ}:BidAsk"})
        r = server.delete(f"/tracked/{MNQ}")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual((r.json()["contract_id"], r.json()["tracked"], r.json()["saved"]),
                         (MNQ, False, True))
        self.assertEqual(self.tracked(server), {})
        self.assertEqual(server.delete(f"/tracked/{MNQ}").status_code, 404)
        server.stop()
        server = self.server(sim, track=None)
        self.assertEqual(self.tracked(server), {})

    def test_readers_and_the_writer_at_once(self):
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 10)
        results, stop = [], threading.Event()

        def read():
            last = 0
            while not stop.is_set():
                r = server.get(f"/history/{AAPL}/BidAsk", params={"limit": "100000",
                                                                "format": "ndjson"})
                n = len(r.text.splitlines()) if r.status_code == 200 else -1
                results.append((r.status_code, n >= last))
                last = max(last, n)

        threads = [threading.Thread(target=read) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(20)
        self.assertTrue(results)
        self.assertTrue(all(code == 200 and grew for code, grew in results), results[:5])
        server.stop()
        self.assert_record_is_market(AAPL, "BidAsk")


class Gaps(RecorderCase):
    def test_tws_outage_is_backfilled(self):
        port = simproc.free_port()
        sim = self.sim(port=port)
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 30)
        sim.kill()
        time.sleep(3)  # the market goes on; nobody records it
        self.sim(port=port)  # the same market, continued at the current time
        keys = [f"{AAPL}:{t}" for t in ("BidAsk", "Last", "MidPoint")]
        self.wait_gaps_done(server, keys)
        t = self.tracked(server)
        for k in keys:
            gap = t[k]["gaps"]["list"][-1]
            self.assertEqual(gap["state"], "filled", gap)
        self.wait_recorded(server, f"{AAPL}:BidAsk", t[keys[0]]["ticks_recorded"] + 10)
        server.stop()
        for tt in ("BidAsk", "Last", "MidPoint"):
            with self.subTest(tick_type=tt):
                self.assert_record_is_market(AAPL, tt, expect_backfill=tt != "Last")

    def test_connectivity_lost_and_farm_down_are_backfilled(self):
        sim = self.sim()
        server = self.server(sim, track=f"{AAPL}:BidAsk,MidPoint")
        keys = [f"{AAPL}:BidAsk", f"{AAPL}:MidPoint"]
        self.wait_recorded(server, keys[0], 20)
        sim.admin("lost")  # 1100: no ticks
        time.sleep(2.5)
        sim.admin("restored lost")  # 1101: the server re-requests
        self.wait_gaps_done(server, keys)
        n = len(self.tracked(server)[keys[0]]["gaps"]["list"])
        sim.admin("farm-down usfarm")  # 2103: the farm's ticks stop
        time.sleep(2.5)
        sim.admin("farm-up usfarm")
        server.wait_for(lambda: len(self.tracked(server)[keys[0]]["gaps"]["list"]) > n,
                        timeout=30, what="a gap for the farm outage")
        self.wait_gaps_done(server, keys)
        for k in keys:
            states = [g["state"] for g in self.tracked(server)[k]["gaps"]["list"]]
            self.assertEqual(set(states), {"filled"}, states)
        n = self.tracked(server)[keys[0]]["ticks_recorded"]
        self.wait_recorded(server, keys[0], n + 10)
        server.stop()
        for tt in ("BidAsk", "MidPoint"):
            with self.subTest(tick_type=tt):
                self.assert_record_is_market(AAPL, tt, expect_backfill=True)

    def test_what_ib_cannot_fill_stays_a_gap(self):
        port = simproc.free_port()
        sim = self.sim(port=port)
        server = self.server(sim, track=f"{AAPL}:BidAsk")
        key = f"{AAPL}:BidAsk"
        self.wait_recorded(server, key, 20)
        sim.kill()
        time.sleep(2)
        # A TWS whose history starts only now: the outage cannot be filled.
        self.start_time = now_s()
        self.sim(port=port)
        self.wait_gaps_done(server, [key])
        gap = self.tracked(server)[key]["gaps"]["list"][-1]
        self.assertIn(gap["state"], ("unfillable", "partial"), gap)
        self.assertTrue(gap["detail"], gap)
        summary = server.get(f"/history/{AAPL}").json()
        self.assertIn(gap["state"], json.dumps(summary), summary)

    def test_kill9_loses_at_most_a_batch_and_restart_backfills(self):
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 30)
        server.signal(signal.SIGKILL)
        server.wait(10)
        self.assertTrue(all(v == "ok" for v in integrity(self.data_dir).values()),
                        integrity(self.data_dir))
        before = read_record(self.data_dir, AAPL, "BidAsk")
        time.sleep(2)
        server = self.server(sim)
        keys = [f"{AAPL}:BidAsk", f"{AAPL}:MidPoint"]
        self.wait_gaps_done(server, keys)
        gap = self.tracked(server)[keys[0]]["gaps"]["list"][-1]
        self.assertEqual(gap["reason"], "server restart")
        self.assertEqual(gap["state"], "filled", gap)
        self.assertEqual(gap["after_seq"], before[-1]["seq"])
        after_live = [r for r in read_record(self.data_dir, AAPL, "BidAsk")
                      if r["source"] == "live" and r["seq"] > before[-1]["seq"]]
        if after_live:
            self.assertEqual(after_live[0]["seq"], before[-1]["seq"] + 1,
                             "sequence numbers go on from the record")
        self.wait_recorded(server, keys[0], 10)
        server.stop()
        for tt in ("BidAsk", "MidPoint"):
            with self.subTest(tick_type=tt):
                self.assert_record_is_market(AAPL, tt, expect_backfill=True)


class FromTheRecord(RecorderCase):
    def test_history_then_live_sse(self):
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:BidAsk", 40)
        since = self.start_time - 5
        lst = Listener(server, f"/stream/{AAPL}/BidAsk", {"since": str(since)})
        recorded = self.tracked(server)[f"{AAPL}:BidAsk"]["ticks_recorded"]
        lst.wait_ticks(recorded + 30, timeout=30)
        lst.close()
        ids = [int(i) for i, _ in sse_ticks(lst)]
        self.assertEqual(ids[0], 1, "from the first tick recorded")
        self.assertEqual(ids, list(range(1, len(ids) + 1)), "no gap, no duplicate at the switch")
        got = [d for _, d in sse_ticks(lst)]
        server.stop()
        rows = read_record(self.data_dir, AAPL, "BidAsk")
        self.assertEqual(got[:len(rows)], [data_of(r) for r in rows][:len(got)])

    def test_history_then_live_websocket(self):
        from wsclient import WS
        sim = self.sim()
        server = self.server(sim)
        self.wait_recorded(server, f"{AAPL}:MidPoint", 20)
        recorded = self.tracked(server)[f"{AAPL}:MidPoint"]["ticks_recorded"]
        ws_url = f"ws://{server.host}:{server.port}"
        # On the path ...
        a = WS(f"{ws_url}/ws/stream/{AAPL}/MidPoint?since={self.start_time - 5}")
        # ... and in a subscribe message (a duration).
        b = WS(f"{ws_url}/ws/control")
        b.next_of_type("connected")
        reply = b.request({"type": "subscribe", "id": "s1",
                           "data": {"contract_id": AAPL, "tick_type": "MidPoint",
                                    "params": {"since": "10m"}}})
        self.assertEqual(reply["type"], "subscribed", reply)
        bad = b.request({"type": "subscribe", "id": "s2",
                         "data": {"contract_id": AAPL, "tick_type": "MidPoint",
                                  "params": {"since": "soon"}}})
        self.assertEqual(bad["type"], "error")
        self.assertIn("since", bad["error"]["message"])
        a.wait_ticks(recorded + 20, timeout=30)
        b.wait_ticks(recorded + 20, timeout=30)
        got_a = [m["data"] for m in a.ticks()]
        got_b = [m["data"] for m in b.ticks()]
        a.close()
        b.close()
        server.stop()
        rows = [data_of(r) for r in read_record(self.data_dir, AAPL, "MidPoint")]
        for got in (got_a, got_b):
            n = min(len(got), len(rows))
            self.assertGreater(n, recorded)
            self.assertEqual(got[:n], rows[:n], "history then live: every tick once, in order")

    def test_resume_from_the_record_across_a_restart(self):
        sim = self.sim()
        server = self.server(sim)
        lst = Listener(server, f"/stream/{AAPL}/MidPoint")
        lst.wait_ticks(10)
        lst.close()
        last_seen = int(sse_ticks(lst)[4][0])
        self.wait_recorded(server, f"{AAPL}:MidPoint", 30)
        server.stop()
        server = self.server(sim)
        lst = Listener(server, f"/stream/{AAPL}/MidPoint",
                       headers={"Last-Event-ID": str(last_seen)})
        lst.wait_ticks(40, timeout=30)
        lst.close()
        ids = [i for i, _ in sse_ticks(lst)]
        self.assertEqual(ids[0], str(last_seen + 1), ids[:5])
        whole = [int(i.split(".")[0]) for i in ids]
        self.assertEqual(whole, sorted(whole), "ids never go back")
        seen = sorted(set(whole))
        self.assertEqual(seen, list(range(seen[0], seen[-1] + 1)), "no id is missing")
        self.assertFalse([e for e in lst.non_ticks() if "ticks_lost" in json.dumps(e)])

    def test_bad_since_is_400(self):
        sim = self.sim()
        server = self.server(sim, track=None)
        r = server.get(f"/stream/{AAPL}/BidAsk", params={"since": "yesterday"}, stream=True)
        self.assertEqual(r.status_code, 400)
        self.assertIn("since", r.json()["error"]["message"])


class Retention(RecorderCase):
    def make_day_files(self, days):
        """Day files of other days, made like the server makes its own: the
        schema of a day file it wrote, the `day` in its meta table."""
        sim = self.sim()
        server = self.server(sim, track=f"{AAPL}:BidAsk")
        self.wait_recorded(server, f"{AAPL}:BidAsk", 3)
        server.stop()
        today = glob.glob(os.path.join(self.data_dir, "ticks-*.sqlite"))[0]
        src = sqlite3.connect(today)
        ddl = [r[0] for r in src.execute(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid")]
        meta = list(src.execute("SELECT key, value FROM meta"))
        src.close()
        paths = []
        for day in days:
            path = os.path.join(self.data_dir, f"ticks-{day}.sqlite")
            db = sqlite3.connect(path)
            for stmt in ddl:
                db.execute(stmt)
            for key, value in meta:
                db.execute("INSERT INTO meta VALUES (?, ?)", (key, day if key == "day" else value))
            db.commit()
            db.close()
            paths.append(path)
        return sim, paths

    def test_old_day_files_are_deleted(self):
        old_day = time.strftime("%Y-%m-%d", time.gmtime(now_s() - 40 * 86400))
        recent_day = time.strftime("%Y-%m-%d", time.gmtime(now_s() - 3 * 86400))
        sim, (old, recent) = self.make_day_files([old_day, recent_day])
        server = self.server(sim, args=("--retention-days", 30), track=None)
        server.wait_for(lambda: not os.path.exists(old), timeout=10, what="old file deleted")
        self.assertTrue(os.path.exists(recent))
        server.stop()

    def test_zero_keeps_everything(self):
        old_day = time.strftime("%Y-%m-%d", time.gmtime(now_s() - 400 * 86400))
        sim, (old,) = self.make_day_files([old_day])
        server = self.server(sim, args=("--retention-days", 0), track=None)
        time.sleep(2)
        self.assertTrue(os.path.exists(old))
        server.stop()


class FullDisk(RecorderCase):
    def test_file_size_limit_degrades_then_recovers(self):
        sim = self.sim()
        sim.admin(f"rate {AAPL} 400")
        server = self.server(sim, track=f"{AAPL}:BidAsk")
        self.wait_recorded(server, f"{AAPL}:BidAsk", 20)
        pid = server.proc.pid
        # No file of the server may grow past the day file's size now: the
        # day file (and soon its write-ahead log) cannot take more.
        day_file = glob.glob(os.path.join(self.data_dir, "ticks-*.sqlite"))[0]
        limit = os.path.getsize(day_file)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

        def degraded():
            h = server.get("/health").json()
            return h["status"] == "degraded" and h["recorder"]["status"] == "degraded"
        server.wait_for(degraded, timeout=30, what="degraded")
        h = server.get("/health").json()
        self.assertIn("ticks wait to be written", h["recorder"]["message"])
        # Clients are served meanwhile.
        lst = Listener(server, f"/stream/{AAPL}/BidAsk", {"limit": "20"})
        lst.wait_ticks(20)
        lst.close()
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        server.wait_for(lambda: server.get("/health").json()["recorder"]["status"] == "ok",
                        timeout=30, what="recovered")
        n = self.tracked(server)[f"{AAPL}:BidAsk"]["ticks_recorded"]
        self.wait_recorded(server, f"{AAPL}:BidAsk", n + 50)
        self.assertIsNone(server.proc.poll())
        server.stop()
        self.assertTrue(all(v == "ok" for v in integrity(self.data_dir).values()))
        rows = read_record(self.data_dir, AAPL, "BidAsk")
        live = [r["seq"] for r in rows if r["source"] == "live"]
        self.assertEqual(live, list(range(1, len(live) + 1)),
                         "nothing lost while the disk was full: the queue held it")


class BadInput(RecorderCase):
    def test_bad_track_value_exits_2(self):
        for value, part in (("265598", "265598"), ("-1:Last", "-1"),
                            ("ES:FUTURE:Last", "FUTURE"), ("265598:Bid", "Bid")):
            with self.subTest(value=value):
                r = run_server(["--data-dir", self.data_dir, "--track", value])
                self.assertEqual(r.returncode, 2, r.stderr)
                lines = [l for l in r.stderr.splitlines() if l.strip()]
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn("--track", lines[0])
                self.assertIn(part, lines[0])
                r = run_server(["--data-dir", self.data_dir], env={"IB_STREAM_TRACK": value})
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("IB_STREAM_TRACK", r.stderr)

    def test_bad_tracked_requests(self):
        sim = self.sim()
        server = self.server(sim, track=None)
        for path, status, word in (
                ("/tracked/-1?tick_types=Last", 400, "contract_id"),
                ("/tracked/NOSUCH?tick_types=Last", 404, "NOSUCH"),
                (f"/tracked/{AAPL}", 400, "tick_types"),
                (f"/tracked/{AAPL}?tick_types=Bid", 400, "Bid"),
                (f"/tracked/{AAPL}?tick_types=Last,", 400, "tick type"),
                ("/tracked/999999?tick_types=Last", 404, "999999")):
            with self.subTest(path=path):
                r = server.request("POST", path)
                self.assertEqual(r.status_code, status, r.text)
                self.assertIn(word, r.json()["error"]["message"])
        self.assertEqual(self.tracked(server), {}, "nothing was added")
        self.assertEqual(server.delete(f"/tracked/{AAPL}").status_code, 404)
        self.assertEqual(server.get(f"/tracked/{AAPL}").status_code, 405)
        with open(os.path.join(self.data_dir, "tracked.json")) as f:
            self.assertEqual(json.load(f), {"tracked": []})


if __name__ == "__main__":
    unittest.main()
