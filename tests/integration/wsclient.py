"""A WebSocket client for the server tests, driven synchronously.

Debian's python3-websockets (10.x) only has the asyncio client; this module
runs it on one background event loop so that a test reads like the SSE tests
(blocking calls with timeouts). Every message the server sends is read on that
loop as it arrives and kept with its arrival time.

    WS(url, headers=None, compression="deflate", open_timeout=10)
        connects (raises the websockets handshake exception, e.g.
        InvalidStatusCode, when the upgrade is refused).
        .response_headers (websockets Headers, case-insensitive),
        .local_port
      send(obj) -> sends json.dumps(obj) as a text message
      send_raw(text_or_bytes) -> a text (str) or binary (bytes) message;
          False when the connection was already closed
      messages() -> [parsed JSON or {"__raw__": text}] received so far
      raw_texts -> every text message as received (unparsed)
      timed() -> [(time.monotonic(), message)]
      next(timeout=10, pred=None) -> the next unread message (matching pred,
          skipping others) ; AssertionError on timeout or close
      wait(pred, timeout=10, what=...) -> waits until pred(self) is truthy
      reply(id, timeout=10) -> the first message whose `id` is id
      request(obj, timeout=10) -> send(obj), then reply(obj["id"])
      wait_closed(timeout=10) -> (code, reason) received from the server
          (code 1006 when the TCP connection ended without a close frame)
      closed -> whether the connection has ended
      close(code=1000) -> closes (idempotent, never raises)
"""
import asyncio
import json
import os
import threading
import time

import websockets
import websockets.exceptions

from iohelpers import Closing, wait_on

_loop = None
_loop_lock = threading.Lock()


def loop():
    """The process-wide event loop of the WebSocket clients (a daemon thread)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="ws-loop", daemon=True).start()
        return _loop


def run(coro, timeout=30):
    """Runs a coroutine on the clients' loop; returns its result."""
    return asyncio.run_coroutine_threadsafe(coro, loop()).result(timeout)


# The compression a client offers unless a test says otherwise: "deflate"
# (Beast writes and compresses each message) or "none" (the server frames
# and batches messages itself). ctest runs the WebSocket tests both ways.
DEFAULT_COMPRESSION = (None if os.environ.get("IBS_WS_COMPRESSION", "deflate") == "none"
                       else "deflate")


class WS(Closing):
    def __init__(self, url, headers=None, compression="default", open_timeout=10):
        if compression == "default":
            compression = DEFAULT_COMPRESSION
        self.url = url
        self.cond = threading.Condition()
        self._msgs = []  # (arrival time, message)
        self._read = 0   # index of the next message for next()
        self.raw_texts = []  # every text message as received
        self.close_code = None
        self.close_reason = None
        self.closed = False
        async def open_():
            return await websockets.connect(url, extra_headers=headers or {},
                                            compression=compression, open_timeout=open_timeout,
                                            ping_interval=None, max_size=None, max_queue=None,
                                            close_timeout=5)

        self.ws = run(open_(), timeout=open_timeout + 5)
        self.response_headers = self.ws.response_headers
        self.local_port = self.ws.local_address[1]
        self._reader = asyncio.run_coroutine_threadsafe(self._read_loop(), loop())

    async def _read_loop(self):
        try:
            async for raw in self.ws:
                if isinstance(raw, bytes):
                    msg = {"__binary__": raw}
                else:
                    with self.cond:
                        self.raw_texts.append(raw)
                    try:
                        msg = json.loads(raw)
                    except ValueError:
                        msg = {"__raw__": raw}
                with self.cond:
                    self._msgs.append((time.monotonic(), msg))
                    self.cond.notify_all()
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001 - recorded for the test to see
            with self.cond:
                self._msgs.append((time.monotonic(), {"__exception__": repr(e)}))
        finally:
            with self.cond:
                self.closed = True
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason
                self.cond.notify_all()

    # --- sending ---------------------------------------------------------
    def send(self, obj):
        return self.send_raw(json.dumps(obj))

    def send_raw(self, data):
        try:
            run(self.ws.send(data), timeout=30)
            return True
        except websockets.exceptions.ConnectionClosed:
            return False

    # --- reading ---------------------------------------------------------
    def timed(self):
        with self.cond:
            return list(self._msgs)

    def messages(self):
        return [m for _, m in self.timed()]

    def wait(self, pred, timeout=10, what="condition"):
        def describe():
            msgs = [m for _, m in self._msgs]
            non_ticks = [m for m in msgs if m.get("type") != "tick"]
            return (f"{self.url}: timed out after {timeout}s waiting for {what}; "
                    f"{len(msgs)} messages ({len(msgs) - len(non_ticks)} ticks), "
                    f"non-tick messages: {non_ticks[-8:]}, closed={self.closed} "
                    f"code={self.close_code}")

        return wait_on(self.cond, lambda: pred(self), timeout, describe)

    def next(self, timeout=10, pred=None):
        """The next message not yet returned by next() (with pred: the next
        one matching pred; the ones before it are passed over)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                while self._read < len(self._msgs):
                    msg = self._msgs[self._read][1]
                    self._read += 1
                    if pred is None or pred(msg):
                        return msg
                if self.closed:
                    raise AssertionError(f"{self.url}: closed ({self.close_code} "
                                         f"{self.close_reason!r}) before the expected message")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.url}: no expected message within {timeout}s; "
                                         f"last: {[m for _, m in self._msgs][-5:]}")
                self.cond.wait(min(left, 0.2))

    def next_of_type(self, type_, timeout=10):
        return self.next(timeout, lambda m: m.get("type") == type_)

    def reply(self, id_, timeout=10):
        return self.wait(lambda s: next((m for m in s.messages() if m.get("id") == id_), None),
                         timeout, f"a reply with id {id_!r}")

    def request(self, obj, timeout=10):
        self.send(obj)
        return self.reply(obj["id"], timeout)

    def ticks(self, request_id=None):
        return [m for m in self.messages() if m.get("type") == "tick"
                and (request_id is None or m.get("request_id") == request_id)]

    def wait_ticks(self, n, request_id=None, timeout=20):
        return self.wait(lambda s: len(s.ticks(request_id)) >= n, timeout,
                         f"{n} ticks of {request_id or 'any subscription'}")

    def wait_closed(self, timeout=10):
        self.wait(lambda s: s.closed, timeout, "the server to close the connection")
        return self.close_code, self.close_reason

    def close(self, code=1000):
        if not self.closed:
            try:
                run(self.ws.close(code), timeout=10)
            except Exception:  # noqa: BLE001 - best effort
                pass
        self._join_reader()

    def abort(self):
        """Drops the TCP connection without a close frame."""
        try:
            loop().call_soon_threadsafe(self.ws.transport.abort)
        except Exception:  # noqa: BLE001
            pass
        self._join_reader()

    def _join_reader(self):
        """Waits (5 s at most) for the read loop to end."""
        try:
            self._reader.result(5)
        except Exception:  # noqa: BLE001
            pass
