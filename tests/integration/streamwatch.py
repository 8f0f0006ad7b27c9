"""Helpers of the server sharing / fault / resume tests (test_server_sharing,
test_server_faults, test_server_resume), on top of serverproc and simproc.

    Sim(port=0, seed=7, rate=50, extra=())
        an ib-tws-sim process with an admin port (--admin-port 0); `port`
        fixes the API port (to restart a killed simulator on the same port).
        .admin(cmd) -> reply line (asserts "ok"), .status() -> parsed JSON,
        .tbt(con_id=None, tick_type=None) -> reqTickByTickData log entries,
        .cancels(req_ids=None) -> cancelTickByTickData log entries,
        .kill() -> SIGKILL (no clean close).
    Listener(server, path, params=None, headers=None)
        an SSE stream read on its own thread; every event is kept with its
        arrival time (time.monotonic()). .status / .headers of the response;
        .events() -> [(t, SSEBlock)], .ticks() -> [(id, data)], .wait(pred,
        timeout, what) waits until pred(listener) is truthy, .close().
    info_says(ev, word), error_code(ev), tick_count_after(listener, t)
    AAPL, MNQ, ES, EURUSD, UNKNOWN (no such contract), START, TYPES,
        DATA_TYPE (tick type -> its data.type), ISO (an ISO-8601 timestamp)
    flatten(obj) -> {"a.b.0": scalar}, window_offset(got, expected) -> k or None
    rss_kib(pid), fd_count(pid): a process's resident memory (KiB) and open
        file descriptors, from /proc
    start_server(sim, args=()) -> Server(sim, args=args); stops sim when the
        server does not start (for setUpClass)
    ApiAssertions: unittest.TestCase mixin, checks of api.md shapes shared by
        the SSE and WebSocket tests (test_server_api, test_ws_server, ...).
    ServerCase: unittest.TestCase with a simulator + server per test and
        assertions shared by the test files.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import simproc
from iohelpers import wait_on
from serverproc import Server, sim_admin

AAPL, MNQ, ES, EURUSD = 265598, 711280073, 551601777, 12087792
UNKNOWN = 999999
START = 1700000000
TYPES = ["Last", "AllLast", "BidAsk", "MidPoint"]
DATA_TYPE = {"Last": "time_sales", "AllLast": "time_sales", "BidAsk": "bid_ask",
             "MidPoint": "midpoint"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def flatten(obj, prefix=""):
    """{"a.b.c": value} for every scalar of a JSON value."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = obj
    return out


def window_offset(got, expected):
    """Offset k with expected[k:k+len(got)] == got, or None."""
    n = len(got)
    for k in range(0, len(expected) - n + 1):
        if expected[k:k + n] == got:
            return k
    return None


def start_server(sim, args=()):
    """Server(sim, args=args); the simulator is stopped when the server fails
    to start (setUpClass gets no tearDownClass then)."""
    try:
        return Server(sim, args=args)
    except Exception:
        sim.stop()
        raise


class Sim(simproc.Simulator):
    """ib-tws-sim with an admin port, optionally on a fixed API port."""

    def __init__(self, port=0, seed=7, start_time=START, rate=50.0, extra=()):
        self.seed, self.start_time, self.rate = seed, start_time, rate
        self.log_path = f"/tmp/ibs-sim-requests-{os.getpid()}-{time.monotonic_ns()}.jsonl"
        args = [simproc.binary("ib-tws-sim"), "--port", str(port), "--admin-port", "0",
                "--seed", str(seed), "--start-time", str(start_time), "--rate", str(rate),
                "--request-log", self.log_path, *map(str, extra)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("ib-tws-sim exited before listening: " + " ".join(args))
        info = json.loads(line)
        assert info["event"] == "listening", line
        self.port = info["port"]
        self.admin_port = info["admin_port"]

    def admin(self, command):
        reply = sim_admin(self.admin_port, command)
        assert reply.startswith("ok"), f"{command!r} -> {reply!r}"
        return reply

    def status(self):
        return json.loads(self.admin("status")[3:])

    def tbt(self, con_id=None, tick_type=None):
        return [r for r in self.requests()
                if r.get("msg") == "reqTickByTickData"
                and (con_id is None or r.get("con_id") == con_id)
                and (tick_type is None or r.get("tick_type") == tick_type)]

    def cancels(self, req_ids=None):
        return [r for r in self.requests()
                if r.get("msg") == "cancelTickByTickData"
                and (req_ids is None or r.get("req_id") in req_ids)]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


class Listener:
    """One SSE client stream, read on a thread."""

    def __init__(self, server, path, params=None, headers=None, timeout=15):
        self.path = path
        self.stream = server.stream(path, params=params, headers=headers, timeout=timeout)
        self.status = self.stream.status
        self.headers = self.stream.headers
        self.local_port = self.stream.sock.getsockname()[1]
        self._events = []
        self.cond = threading.Condition()
        self.done = False
        self.failure = None
        self.body = None
        if self.status != 200:
            try:
                self.body = self.stream.json(timeout=10)
            except (ValueError, OSError, TimeoutError) as e:
                self.body = {"unreadable": repr(e)}
            self.done = True
            self.thread = None
            return
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                try:
                    ev = self.stream.next_event(timeout=3600)
                except TimeoutError:
                    continue
                if ev is None:
                    break
                with self.cond:
                    self._events.append((time.monotonic(), ev))
                    self.cond.notify_all()
        except (OSError, ValueError) as e:
            self.failure = e
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    # --- views -----------------------------------------------------------
    def events(self):
        with self.cond:
            return list(self._events)

    def blocks(self):
        return [ev for _, ev in self.events()]

    def ticks(self):
        """[(id, data)] of every tick event so far."""
        return [(int(ev.id), ev.json["data"]) for ev in self.blocks() if ev.type == "tick"]

    def ids(self):
        return [i for i, _ in self.ticks()]

    def non_ticks(self):
        return [ev.json for ev in self.blocks() if ev.type != "tick"]

    def wait(self, pred, timeout=20, what="condition"):
        return wait_on(self.cond, lambda: pred(self), timeout, lambda: (
            f"{self.path}: timed out after {timeout}s waiting for {what}; "
            f"{len(self._events)} events, non-tick events: "
            f"{[ev.json for _, ev in self._events if ev.type != 'tick'][-8:]}, "
            f"ended={self.done}"))

    def wait_ticks(self, n, timeout=20):
        """Waits for at least n tick events in total."""
        return self.wait(lambda s: len(s.ticks()) >= n, timeout, f"{n} ticks")

    def wait_more_ticks(self, n, timeout=20, after=None):
        """Waits for n ticks that arrive after time `after` (default: now)."""
        after = time.monotonic() if after is None else after
        return self.wait(lambda s: tick_count_after(s, after) >= n, timeout,
                         f"{n} more ticks")

    def close(self):
        try:
            self.stream.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.thread is not None:
            self.thread.join(5)
        self.stream.close()


def tick_count_after(listener, t):
    return sum(1 for at, ev in listener.events() if at > t and ev.type == "tick")


def info_says(ev_json, word):
    """An `info` event whose info.code or info.message carries `word`."""
    if not isinstance(ev_json, dict) or ev_json.get("type") != "info":
        return False
    info = ev_json.get("info") or {}
    text = " ".join(str(info.get(k, "")) for k in ("code", "message", "status", "event"))
    return word.lower() in text.lower()


def error_code(ev_json):
    if isinstance(ev_json, dict) and ev_json.get("type") == "error":
        return (ev_json.get("error") or {}).get("code")
    return None


def first_index(items, pred, start=0):
    for i in range(start, len(items)):
        if pred(items[i]):
            return i
    return None


def numbers_in(obj):
    """Every integer in an info object (keys with 'lost' first), and in its message."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, int) and not isinstance(v, bool) and "lost" in k.lower():
                out.append(v)
        msg = obj.get("message")
        if isinstance(msg, str):
            out.extend(int(x) for x in re.findall(r"\d+", msg))
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    """Open file descriptors of a process (sockets included)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


class ApiAssertions:
    """unittest.TestCase mixin: api.md shapes that SSE and WebSocket share."""

    def check_error_object(self, err, code, where):
        """An `error` object: the code, a non-empty message, details."""
        self.assertEqual(err.get("code"), code, where)
        self.assertIsInstance(err.get("message"), str, where)
        self.assertTrue(err["message"], where)
        self.assertIn("details", err, where)
        return err

    def check_tick_data(self, d, tick_type, where):
        """A tick's `data`: its type for the tick type (and time & sales'
        tick_type), its timestamp the UTC text of its unix_time."""
        self.assertEqual(d["type"], DATA_TYPE[tick_type], where)
        if DATA_TYPE[tick_type] == "time_sales":
            self.assertEqual(d["tick_type"], tick_type, where)
        self.assertEqual(d["timestamp"],
                         time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(d["unix_time"])))
        return d

    def check_mnq_contract(self, c):
        self.assertEqual((c["symbol"], c["sec_type"], c["exchange"], c["currency"],
                          c["min_tick"]), ("MNQ", "FUT", "CME", "USD", 0.25))


class ServerCase(ApiAssertions, unittest.TestCase):
    """A simulator + server per test (setUp, or start() with other options);
    listeners, server and simulators are cleaned up even when the test
    fails, and the server's log tail is then printed on stderr."""

    sim_rate = 20.0
    sim_extra = ()
    server_args = ("--linger-ms", "500", "--backoff-max-ms", "1000")
    start_in_setup = True

    def setUp(self):
        self.listeners = []
        self.server = None
        if self.start_in_setup:
            self.start()

    def start(self, sim_rate=None, sim_extra=None, server_args=None):
        self.sim = self.new_sim(rate=self.sim_rate if sim_rate is None else sim_rate,
                                extra=self.sim_extra if sim_extra is None else sim_extra)
        self.server = Server(self.sim, args=self.server_args if server_args is None
                             else server_args)
        self.addCleanup(self._stop_server)

    def new_sim(self, port=0, rate=None, extra=()):
        sim = Sim(port=port, seed=7, rate=self.sim_rate if rate is None else rate, extra=extra)
        self.addCleanup(sim.stop)
        return sim

    def _failed(self):
        result = getattr(self._outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in list(result.failures) + list(result.errors))

    def _stop_server(self):
        for listener in self.listeners:
            listener.close()
        self.server.stop()
        if self._failed():
            tail = "\n".join(self.server.stderr_text().splitlines()[-80:])
            sys.stderr.write(f"\n--- server log tail ({self.id()}) ---\n{tail}\n---\n")
        self.server.cleanup()

    def listen(self, path, **kw):
        listener = Listener(self.server, path, **kw)
        self.listeners.append(listener)
        return listener

    def active(self):
        status, body = self.server.json("/stream/active")
        self.assertEqual(status, 200, body)
        return body

    def health(self):
        status, body = self.server.json("/health")
        self.assertEqual(status, 200, body)
        return body

    def upstreams(self, con_id, tick_type):
        return [s for s in self.active()["streams"]
                if s["contract_id"] == con_id and s["tick_type"] == tick_type]

    def assert_consecutive(self, ids, who):
        self.assertTrue(ids, f"{who}: no ticks")
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))),
                         f"{who}: ids must be consecutive (no gap, no duplicate)")

    def assert_increasing(self, ids, who):
        bad = [(a, b) for a, b in zip(ids, ids[1:]) if b <= a]
        self.assertEqual(bad, [], f"{who}: ids must increase (no duplicate, no restart)")

    def assert_window_of_dump(self, data, con_id, tick_type, who, count=4000):
        """`data` (tick objects) is a contiguous window of the seeded market."""
        offset = window_offset(data, self.sim.dump(con_id, count, tick_type))
        self.assertIsNotNone(offset, f"{who}: {len(data)} ticks are not a contiguous window of "
                                     f"the seeded {tick_type} series (duplicates or gaps)")
        return offset
