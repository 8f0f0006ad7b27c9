"""A small TWS API socket-protocol client for integration tests (stdlib only).

It speaks shared/spec/tws-protocol.md at the byte level: the "API\\0"
handshake, length-prefixed frames of NUL-terminated fields, the requests the
simulator serves, and decoders that turn replies into plain Python values.

    c = TwsClient(port)                  # TCP connect
    version, conn_time = c.handshake()   # "API\\0" + v100..187
    c.start_api(client_id=7)
    burst = c.read_frames(7)             # managedAccounts, nextValidId, farms...
    c.req_tick_by_tick(1, 265598, "BidAsk")
    tick = tick_json(c.read_frame())     # same shape as `ib-tws-sim --dump` data
    c.req_historical_ticks(2, 265598, start="20231114-22:13:20", count=100, what="TRADES")
    ticks, done = historical_ticks(c.read_frame())  # such tick objects, oldest first

Frames are returned as lists of str fields (the message id first). Every
read has a timeout and raises socket.timeout / ConnectionClosed instead of
hanging.
"""
import json
import socket
import struct
import time

from iohelpers import Closing, close_quietly, deadline_after, time_left

MIN_VERSION = 100
MAX_VERSION = 187

# Incoming (TWS -> client) message ids used here.
ERR_MSG = "4"
NEXT_VALID_ID = "9"
CONTRACT_DATA = "10"
MANAGED_ACCTS = "15"
CURRENT_TIME = "49"
CONTRACT_DATA_END = "52"
TICK_BY_TICK = "99"
HISTORICAL_TICKS = "96"           # MIDPOINT
HISTORICAL_TICKS_BID_ASK = "97"   # BID_ASK
HISTORICAL_TICKS_LAST = "98"      # TRADES

TICK_TYPE_CODES = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
TICK_TYPE_NAMES = {v: k for k, v in TICK_TYPE_CODES.items()}


class ConnectionClosed(Exception):
    """The peer closed the socket (EOF or reset)."""


def encode_fields(fields):
    """One frame: 4-byte big-endian length + NUL-terminated fields."""
    payload = b"".join(str(f).encode("ascii") + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


def fmt_double(v):
    """Python-client style double text ("0.0", "189.5")."""
    return str(float(v))


class TwsClient(Closing):
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.server_version = None
        self.connection_time = None

    # ------------------------------------------------------------ raw I/O
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_fields(self, fields):
        self.sock.sendall(encode_fields(fields))

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out waiting for data")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionClosed(str(e)) from e
        if not chunk:
            raise ConnectionClosed("EOF")
        self.buf += chunk

    def read_frame(self, timeout=None):
        """The next frame as a list of str fields."""
        deadline = deadline_after(timeout, self.timeout)
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + n:
                    payload = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    if not payload.endswith(b"\0"):
                        raise ValueError(f"payload without final NUL: {payload!r}")
                    return payload[:-1].decode("ascii").split("\0")
            self._fill(deadline)

    def read_frames(self, count, timeout=None):
        return [self.read_frame(timeout) for _ in range(count)]

    def read_until(self, predicate, timeout=None, keep=None):
        """Reads frames until predicate(frame) is true; returns that frame.
        Frames read on the way are appended to `keep` (a list) when given."""
        deadline = deadline_after(timeout, self.timeout)
        while True:
            frame = self.read_frame(time_left(deadline))
            if predicate(frame):
                return frame
            if keep is not None:
                keep.append(frame)

    def read_for(self, seconds):
        """Every frame that arrives within `seconds` (stops early on EOF)."""
        out = []
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out
            try:
                out.append(self.read_frame(remaining))
            except socket.timeout:
                return out

    def expect_closed(self, timeout=10.0):
        """Reads (and returns) frames until the server closes the socket."""
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                frames.append(self.read_frame(time_left(deadline)))
            except ConnectionClosed:
                return frames

    def close(self):
        close_quietly(self.sock)

    # ------------------------------------------------------------ session
    def handshake(self, min_version=MIN_VERSION, max_version=MAX_VERSION, options=""):
        """Sends "API\\0" + the version range; returns (version, time)."""
        text = f"v{min_version}" if min_version == max_version else f"v{min_version}..{max_version}"
        if options:
            text += " " + options
        body = text.encode("ascii")
        self.send_raw(b"API\0" + struct.pack(">I", len(body)) + body)
        hello = self.read_frame()
        if len(hello) != 2:
            raise ValueError(f"server hello must have 2 fields: {hello}")
        self.server_version = int(hello[0])
        self.connection_time = hello[1]
        return self.server_version, self.connection_time

    def start_api(self, client_id, capabilities=""):
        self.send_fields([71, 2, client_id, capabilities])

    def connect(self, client_id, options=""):
        """Handshake + startApi + the 7-frame connect burst; returns the burst."""
        self.handshake(options=options)
        self.start_api(client_id)
        return self.read_frames(7)

    # ------------------------------------------------------------ requests
    def req_ids(self, num_ids=-1):
        self.send_fields([8, 1, num_ids])

    def req_current_time(self):
        self.send_fields([49, 1])

    def req_managed_accts(self):
        self.send_fields([17, 1])

    def req_market_data_type(self, market_data_type):
        self.send_fields([59, 1, market_data_type])

    @staticmethod
    def contract_fields(con_id=0, symbol="", sec_type="", expiry="", strike=0.0, right="",
                        multiplier="", exchange="", primary_exchange="", currency="",
                        local_symbol="", trading_class=""):
        return [con_id, symbol, sec_type, expiry, fmt_double(strike), right, multiplier,
                exchange, primary_exchange, currency, local_symbol, trading_class]

    def req_contract_details(self, req_id, con_id=0, **contract):
        fields = [9, 8, req_id] + self.contract_fields(con_id, **contract)
        fields += [0, "", ""]  # includeExpired, secIdType, secId
        if (self.server_version or MAX_VERSION) >= 176:
            fields.append("")  # issuerId
        self.send_fields(fields)

    def req_tick_by_tick(self, req_id, con_id, tick_type, number_of_ticks=0,
                         ignore_size=False, **contract):
        fields = [97, req_id] + self.contract_fields(con_id, **contract) + [tick_type]
        if (self.server_version or MAX_VERSION) >= 140:
            fields += [number_of_ticks, int(bool(ignore_size))]
        self.send_fields(fields)

    def tick_by_tick_frame(self, req_id, con_id, tick_type):
        """The bytes of a reqTickByTickData (to batch several in one send)."""
        return encode_fields([97, req_id] + self.contract_fields(con_id) + [tick_type, 0, 0])

    def cancel_tick_by_tick(self, req_id):
        self.send_fields([98, req_id])

    def req_historical_ticks(self, req_id, con_id, start="", end="", count=1000,
                             what="TRADES", use_rth=0, ignore_size=False, **contract):
        """reqHistoricalTicks (id 96, 22 fields, tws-protocol.md §10.2)."""
        self.send_fields([96, req_id] + self.contract_fields(con_id, **contract) +
                         [0, start, end, count, what, use_rth, int(bool(ignore_size)), ""])


# ---------------------------------------------------------------- decoding
def is_error(frame, code=None, req_id=None):
    if frame[0] != ERR_MSG:
        return False
    if code is not None and int(frame[3]) != code:
        return False
    return req_id is None or int(frame[2]) == req_id


def error_of(frame):
    """ERR_MSG -> (id, code, text)."""
    assert frame[0] == ERR_MSG, frame
    return int(frame[2]), int(frame[3]), frame[4]


def is_tick(frame, req_id=None):
    return frame[0] == TICK_BY_TICK and (req_id is None or int(frame[1]) == req_id)


def _number(text):
    """A wire number as JSON would print it: int when integral."""
    v = float(text)
    return int(v) if v.is_integer() and "e" not in text.lower() and "." not in text else v


def _utc(unix_time):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix_time))


def tick_json(frame):
    """A TICK_BY_TICK frame as the tick object of `ib-tws-sim --dump` ("data")."""
    assert frame[0] == TICK_BY_TICK, frame
    kind = int(frame[2])
    t = int(frame[3])
    if kind in (1, 2):
        mask = int(frame[6])
        return {"type": "time_sales", "tick_type": TICK_TYPE_NAMES[kind], "timestamp": _utc(t),
                "unix_time": t, "price": float(frame[4]), "size": _number(frame[5]),
                "exchange": frame[7], "conditions": frame[8],
                "past_limit": bool(mask & 1), "unreported": bool(mask & 2)}
    if kind == 3:
        mask = int(frame[8])
        return {"type": "bid_ask", "timestamp": _utc(t), "unix_time": t,
                "bid_price": float(frame[4]), "ask_price": float(frame[5]),
                "bid_size": _number(frame[6]), "ask_size": _number(frame[7]),
                "bid_past_low": bool(mask & 1), "ask_past_high": bool(mask & 2)}
    if kind == 4:
        return {"type": "midpoint", "timestamp": _utc(t), "unix_time": t,
                "midpoint": float(frame[4])}
    raise ValueError(f"tick type {kind}: {frame}")


def is_historical(frame, req_id=None):
    return (frame[0] in (HISTORICAL_TICKS, HISTORICAL_TICKS_BID_ASK, HISTORICAL_TICKS_LAST)
            and (req_id is None or int(frame[1]) == req_id))


def historical_ticks(frame):
    """HISTORICAL_TICKS(_BID_ASK/_LAST) -> (ticks, done): each tick the object
    of `ib-tws-sim --dump` data (TRADES as AllLast). Checks the field count."""
    kind, n = frame[0], int(frame[2])
    width = 4 if kind == HISTORICAL_TICKS else 6
    assert len(frame) == 4 + width * n, (len(frame), n, frame[:8])
    ticks = []
    for i in range(n):
        r = frame[3 + width * i:3 + width * (i + 1)]
        t = int(r[0])
        if kind == HISTORICAL_TICKS:
            assert r[1] == "0", r
            ticks.append({"type": "midpoint", "timestamp": _utc(t), "unix_time": t,
                          "midpoint": float(r[2])})
        elif kind == HISTORICAL_TICKS_BID_ASK:
            mask = int(r[1])  # bit 0 askPastHigh, bit 1 bidPastLow (§10.4)
            ticks.append({"type": "bid_ask", "timestamp": _utc(t), "unix_time": t,
                          "bid_price": float(r[2]), "ask_price": float(r[3]),
                          "bid_size": _number(r[4]), "ask_size": _number(r[5]),
                          "bid_past_low": bool(mask & 2), "ask_past_high": bool(mask & 1)})
        elif kind == HISTORICAL_TICKS_LAST:
            mask = int(r[1])
            ticks.append({"type": "time_sales", "tick_type": "AllLast", "timestamp": _utc(t),
                          "unix_time": t, "price": float(r[2]), "size": _number(r[3]),
                          "exchange": r[4], "conditions": r[5],
                          "past_limit": bool(mask & 1), "unreported": bool(mask & 2)})
        else:
            raise ValueError(f"not a historical ticks frame: {frame[:4]}")
    return ticks, frame[-1] == "1"


def contract_data(frame, server_version=MAX_VERSION):
    """CONTRACT_DATA -> dict of the fields tests look at (layouts 100..187)."""
    assert frame[0] == CONTRACT_DATA, frame
    f = list(frame[1:])
    pos = 0

    def take():
        nonlocal pos
        pos += 1
        return f[pos - 1]

    out = {}
    if server_version < 164:
        out["version"] = take()
    out["req_id"] = int(take())
    out["symbol"] = take()
    out["sec_type"] = take()
    out["last_trade_date_or_contract_month"] = take()
    if server_version >= 182:
        out["last_trade_date"] = take()
    out["strike"] = float(take() or 0)
    out["right"] = take()
    out["exchange"] = take()
    out["currency"] = take()
    out["local_symbol"] = take()
    out["market_name"] = take()
    out["trading_class"] = take()
    out["con_id"] = int(take())
    out["min_tick"] = float(take())
    if 110 <= server_version < 164:
        out["md_size_multiplier"] = take()
    for k in ("multiplier", "order_types", "valid_exchanges"):
        out[k] = take()
    out["price_magnifier"] = int(take())
    out["under_con_id"] = int(take())
    for k in ("long_name", "primary_exchange", "contract_month", "industry", "category",
              "subcategory", "time_zone_id", "trading_hours", "liquid_hours", "ev_rule",
              "ev_multiplier"):
        out[k] = take()
    n = int(take())
    out["sec_ids"] = {take(): take() for _ in range(n)}
    if server_version >= 121:
        out["agg_group"] = int(take())
    if server_version >= 122:
        out["under_symbol"] = take()
        out["under_sec_type"] = take()
    if server_version >= 126:
        out["market_rule_ids"] = take()
    if server_version >= 134:
        out["real_expiration_date"] = take()
    if server_version >= 152:
        out["stock_type"] = take()
    if server_version == 163:
        out["size_min_tick"] = take()
    if server_version >= 164:
        out["min_size"] = float(take())
        out["size_increment"] = float(take())
        out["suggested_size_increment"] = float(take())
    if server_version >= 186:
        m = int(take())
        out["ineligibility_reasons"] = [(take(), take()) for _ in range(m)]
    out["_field_count"] = len(frame)
    out["_unread"] = len(f) - pos
    return out


class AdminClient(Closing):
    """The simulator's line-based admin port."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rwb")

    def command(self, line):
        self.file.write(line.encode("ascii") + b"\n")
        self.file.flush()
        reply = self.file.readline()
        if not reply:
            raise ConnectionClosed("admin port closed")
        return reply.decode("ascii").rstrip("\n")

    def status(self):
        reply = self.command("status")
        assert reply.startswith("ok "), reply
        return json.loads(reply[3:])

    def close(self):
        close_quietly(self.file, self.sock)
