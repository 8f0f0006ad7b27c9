"""Starting a real ib-stream-server process and reading its SSE streams.

API (kept stable; the server test files build on it):

    from serverproc import Server, SSEStream, sim_admin, closed_port

    Server(sim=None, *, simulate=False, tws_ports=None, client_id=None,
           args=(), env=None, listen="127.0.0.1:0", wait_ready=None,
           start_timeout=20, clear_env=True, bare=False)
        Starts `ib-stream-server --listen LISTEN ...` and waits for its one
        stdout line {"event":"listening","host":..,"port":N,"simulator":..}.
        - sim: a simproc.Simulator -> adds --ports SIM.port.
        - simulate=True: adds --simulate (the server's in-process simulator).
        - neither: no TWS -> --ports <a closed loopback port> (never the real
          7497), unless tws_ports is given.
        - tws_ports: explicit --ports value (int, str or list of ints).
        - client_id: --client-id (default: a fresh id per server, from 40 up).
        - args: extra command-line arguments, e.g. ("--max-streams", "1").
        - env: extra environment variables (IB_STREAM_* ...). IB_STREAM_*
          variables of the caller's environment are removed first unless
          clear_env=False.
        - bare=True: no --listen, --ports or --client-id flags at all (only
          --simulate when asked, and args): everything else from env.
          client_id is then None.
        - wait_ready: poll GET /ready until 200 (default: True with a sim or
          simulate, False without TWS); raises if not ready in start_timeout.
        Attributes: proc, host, port, base_url ("http://127.0.0.1:N"),
        listening (the parsed stdout line), simulator (its "simulator" field:
        None or {"port":P,"admin_port":A|None}), stdout_rest (later stdout
        lines, should stay empty), argv.
        Raises ServerStartError (with .returncode and .stderr) when the
        process exits before listening.

      url(path) -> absolute URL
      get(path, **kw), delete(path, **kw), options(path, **kw),
      request(method, path, **kw) -> requests.Response (timeout default 10s)
      json(path, **kw) -> (status, parsed JSON body) of a GET
      stream(path, params=None, headers=None, timeout=10, method="GET")
          -> SSEStream (raw socket, already past the response headers)
      wait_ready(timeout=20) -> True when GET /ready answered 200
      wait_for(predicate, timeout=10, interval=0.05) -> value of predicate
          once truthy (raises AssertionError on timeout)
      stderr_text() -> everything written on stderr so far
      log_lines() -> stderr parsed as JSON lines (non-JSON lines skipped)
      sim_admin(command) -> reply line of the in-process simulator's admin
          port (needs --sim-admin-port 0 in args)
      signal(sig) -> sends a signal
      wait(timeout) -> exit code (raises subprocess.TimeoutExpired)
      stop(timeout=15) -> (returncode, stderr_text): SIGTERM, wait; kills
          after timeout (returncode is then what kill gave, e.g. -9).
          Idempotent.
      cleanup() -> stop() and remove the stderr log file (what __exit__ does;
          call stop() first when the test wants the exit code or stderr).

    run_server(args=(), env=None, timeout=15, clear_env=True) -> CompletedProcess
        of a server expected to exit by itself (bad configuration: exit 2).

    SSEStream(host, port, path, params=None, headers=None, timeout=10,
              method="GET")
        A raw HTTP/1.1 request on its own socket; handles chunked, sized and
        close-delimited bodies. Times out with TimeoutError.
        Attributes: status (int), reason, headers (dict, lower-case names;
        repeated headers joined with ", "), header_list [(name, value)],
        raw (every body byte received so far, de-chunked), ended (the
        response body ended: last chunk / Content-Length / EOF).
      body(timeout=None) -> bytes of the whole body (for non-SSE answers)
      json(timeout=None) -> the body parsed as JSON
      next_block(timeout=None) -> SSEBlock (one blank-line-terminated block:
          may be a comment or a retry line only) or None at the end of the body
      next_event(timeout=None) -> next SSEBlock that has data (comments and
          retry-only blocks are skipped but kept in .comments / .retry);
          None at the end of the body
      events(n, timeout=None) -> list of the next n events (fewer if the
          body ended)
      until(pred, timeout=None) -> list of events up to and including the
          first one for which pred(event) is true (AssertionError if the body
          ends first)
      read_to_end(timeout=None) -> list of every remaining SSEBlock
      comments (list of every comment line seen, without the ':'),
      retry (the last retry value seen, str), blocks (every block seen)
      close()

    SSEBlock: lines (raw lines), id (str|None), data (str|None, lines joined
        with "\\n"), data_lines (count), event (str|None), retry (str|None),
        comments (list), fields (list of (name, value)), json (parsed data or
        None), type (json["type"] or None).

    sim_admin(admin_port, command, timeout=5) -> the reply line of an
        ib-tws-sim admin port ("ok ..." / "error ...").
    closed_port() -> a loopback TCP port with nothing listening.
"""
import itertools
import re
import json
import os
import signal as _signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import requests

from iohelpers import Closing, close_quietly, deadline_after, time_left
from simproc import binary, free_port

_client_ids = itertools.count(40)


class ServerStartError(RuntimeError):
    def __init__(self, message, returncode=None, stderr=""):
        super().__init__(f"{message} (exit {returncode}): {stderr.strip()[-2000:]}")
        self.returncode = returncode
        self.stderr = stderr


def closed_port():
    """A loopback port nothing listens on (connect -> refused)."""
    return free_port()


def sim_admin(admin_port, command, timeout=5):
    """Sends one command to an ib-tws-sim admin port; returns its reply line."""
    with socket.create_connection(("127.0.0.1", admin_port), timeout=timeout) as s:
        s.sendall(command.encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf.split(b"\n", 1)[0].decode()


def _server_env(env, clear_env):
    e = dict(os.environ)
    if clear_env:
        for k in list(e):
            if k.startswith("IB_STREAM_"):
                del e[k]
    e.update({k: str(v) for k, v in (env or {}).items()})
    # The record goes to a directory of the test's own unless it names one:
    # never ./data of the source tree, never shared by parallel tests.
    if "IB_STREAM_DATA_DIR" not in e:
        e["IB_STREAM_DATA_DIR"] = tempfile.mkdtemp(prefix="ibs-data-")
    return e


def run_server(args=(), env=None, timeout=15, clear_env=True):
    """Runs ib-stream-server expecting it to exit by itself; CompletedProcess."""
    return subprocess.run([binary("ib-stream-server"), *map(str, args)],
                          env=_server_env(env, clear_env), capture_output=True, text=True,
                          timeout=timeout)


class Server:
    def __init__(self, sim=None, *, simulate=False, tws_ports=None, client_id=None, args=(),
                 env=None, listen="127.0.0.1:0", wait_ready=None, start_timeout=20,
                 clear_env=True, bare=False):
        argv = [binary("ib-stream-server")]
        if not bare:
            argv += ["--listen", listen]
        if simulate:
            argv.append("--simulate")
        if bare:
            pass
        elif tws_ports is not None:
            if isinstance(tws_ports, (list, tuple)):
                tws_ports = ",".join(map(str, tws_ports))
            argv += ["--ports", str(tws_ports)]
        elif sim is not None:
            argv += ["--ports", str(sim.port)]
        elif not simulate:
            argv += ["--ports", str(closed_port())]
        if bare:
            client_id = None
        else:
            if client_id is None:
                client_id = next(_client_ids)
            argv += ["--client-id", str(client_id)]
        argv += [str(a) for a in args]
        self.argv = argv
        self.client_id = client_id
        self._stderr_file = tempfile.NamedTemporaryFile(
            prefix="ibs-server-stderr-", suffix=".log", delete=False)
        self.stderr_path = self._stderr_file.name
        try:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr_file,
                                         stdin=subprocess.DEVNULL,
                                         env=_server_env(env, clear_env))
        except BaseException:
            self._stderr_file.close()
            os.unlink(self.stderr_path)
            raise
        self._stopped = None
        self.stdout_rest = []
        try:
            self._start(sim, simulate, wait_ready, start_timeout)
        except BaseException:
            self.cleanup()
            raise

    def _start(self, sim, simulate, wait_ready, start_timeout):
        line = self._read_listening(start_timeout)
        try:
            info = json.loads(line)
        except ValueError:
            self.stop()
            raise ServerStartError(f"first stdout line is not JSON: {line!r}",
                                   self.proc.returncode, self.stderr_text())
        if info.get("event") != "listening":
            self.stop()
            raise ServerStartError(f"unexpected first stdout line {line!r}",
                                   self.proc.returncode, self.stderr_text())
        self.listening = info
        self.host = info["host"]
        self.port = info["port"]
        self.simulator = info.get("simulator")
        self.base_url = f"http://{self.host}:{self.port}"
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        if wait_ready is None:
            wait_ready = sim is not None or simulate
        if wait_ready and not self.wait_ready(start_timeout):
            rc, err = self.stop()
            raise ServerStartError("server never became ready (GET /ready != 200)", rc, err)

    # --- process -------------------------------------------------------
    def _read_listening(self, timeout):
        result = {}

        def read():
            result["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            rc, err = self.stop()
            raise ServerStartError(f"no listening line within {timeout}s", rc, err)
        line = result.get("line", b"").decode(errors="replace")
        if not line:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            rc, err = self.stop()
            raise ServerStartError("server exited before listening", rc, err)
        return line.strip()

    def _drain_stdout(self):
        try:
            for line in self.proc.stdout:
                self.stdout_rest.append(line.decode(errors="replace").rstrip("\n"))
        except (ValueError, OSError):
            pass

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=15):
        """SIGTERM, wait (kill after timeout); returns (returncode, stderr)."""
        if self._stopped is None:
            if self.proc.poll() is None:
                self.proc.send_signal(_signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self._stopped = self.proc.returncode
            try:
                self._stderr_file.close()
            except OSError:
                pass
        err = self.stderr_text()
        if self.proc.stdout:
            if hasattr(self, "_drain"):
                self._drain.join(2)
            if not getattr(self, "_drain", None) or not self._drain.is_alive():
                self.proc.stdout.close()
        return self._stopped, err

    def cleanup(self):
        self.stop()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_lines(self):
        out = []
        for line in self.stderr_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    # --- HTTP ----------------------------------------------------------
    def url(self, path):
        return self.base_url + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.request(method, self.url(path), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def json(self, path, **kw):
        r = self.get(path, **kw)
        return r.status_code, r.json()

    def stream(self, path, params=None, headers=None, timeout=10, method="GET"):
        return SSEStream(self.host, self.port, path, params=params, headers=headers,
                         timeout=timeout, method=method)

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.get("/ready", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def wait_for(self, predicate, timeout=10, interval=0.05, what="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")

    def sim_admin(self, command):
        if not self.simulator or not self.simulator.get("admin_port"):
            raise RuntimeError("no simulator admin port (start with --simulate "
                               "--sim-admin-port 0)")
        return sim_admin(self.simulator["admin_port"], command)


class SSEBlock:
    """One blank-line-terminated block of an event stream."""

    def __init__(self, lines):
        self.lines = lines
        self.id = None
        self.event = None
        self.retry = None
        self.comments = []
        self.fields = []
        data = []
        for line in lines:
            if line.startswith(":"):
                self.comments.append(line[1:].lstrip(" "))
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            self.fields.append((name, value))
            if name == "data":
                data.append(value)
            elif name == "id":
                self.id = value
            elif name == "event":
                self.event = value
            elif name == "retry":
                self.retry = value
        self.data_lines = len(data)
        self.data = "\n".join(data) if data else None
        self.json = None
        if self.data is not None:
            try:
                self.json = json.loads(self.data)
            except ValueError:
                self.json = None

    @property
    def type(self):
        return self.json.get("type") if isinstance(self.json, dict) else None

    def __repr__(self):
        return f"SSEBlock({self.lines!r})"


class SSEStream(Closing):
    def __init__(self, host, port, path, params=None, headers=None, timeout=10, method="GET"):
        if params:
            items = params.items() if isinstance(params, dict) else params
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(list(items))
        self.path = path
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        hdrs = {"Host": f"{host}:{port}", "Accept": "text/event-stream",
                "User-Agent": "ibs-tests"}
        hdrs.update(headers or {})
        req = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        self.sock.sendall(req.encode())
        self._buf = b""          # undecoded socket bytes
        self._eof = False
        self.raw = b""           # decoded body bytes received
        self._text = ""          # decoded body not yet split into lines
        self._pending_lines = []  # lines of the block being read
        self.ended = False
        self.comments = []
        self.retry = None
        self.blocks = []
        self._chunk_left = 0
        self._read_head()

    # --- low level -----------------------------------------------------
    def _recv(self, timeout):
        if self._eof:
            return False
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except socket.timeout:
            raise TimeoutError(f"no data within {timeout or self.timeout}s on {self.path}")
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def _read_line_raw(self, timeout):
        while b"\r\n" not in self._buf:
            if not self._recv(timeout):
                raise ConnectionError(f"connection closed in headers of {self.path}")
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def _read_head(self):
        status = self._read_line_raw(self.timeout)
        parts = status.split(" ", 2)
        self.http_version = parts[0]
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.header_list = []
        while True:
            line = self._read_line_raw(self.timeout)
            if line == "":
                break
            name, _, value = line.partition(":")
            self.header_list.append((name.strip(), value.strip()))
        self.headers = {}
        for name, value in self.header_list:
            k = name.lower()
            self.headers[k] = f"{self.headers[k]}, {value}" if k in self.headers else value
        te = self.headers.get("transfer-encoding", "").lower()
        self._chunked = "chunked" in te
        self._length = None
        if not self._chunked and "content-length" in self.headers:
            self._length = int(self.headers["content-length"])
            if self._length == 0:
                self.ended = True

    def _fill(self, timeout):
        """Decodes more body bytes into self._text; False at the end of the body."""
        if self.ended:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            before = len(self.raw)
            self._decode()
            if len(self.raw) > before:
                return True
            if self.ended:
                return False
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no data within {timeout}s on {self.path}")
            if not self._recv(remaining):
                self._decode()
                self.ended = True  # EOF (a chunked body without its last chunk: cut short)
                return len(self.raw) > before

    def _take(self, data):
        self.raw += data
        self._text += data.decode("utf-8", errors="replace")

    def _decode(self):
        if self._chunked:
            while True:
                if self._chunk_left == 0:
                    if b"\r\n" not in self._buf:
                        return
                    size_line, rest = self._buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self._buf = rest
                        self.ended = True
                        return
                    self._buf = rest
                    self._chunk_left = size + 2  # data + CRLF
                take = min(self._chunk_left, len(self._buf))
                if take == 0:
                    return
                piece, self._buf = self._buf[:take], self._buf[take:]
                data_left = self._chunk_left - 2
                self._chunk_left -= take
                self._take(piece[:max(0, min(len(piece), data_left))])
        elif self._length is not None:
            need = self._length - len(self.raw)
            piece, self._buf = self._buf[:need], self._buf[need:]
            if piece:
                self._take(piece)
            if len(self.raw) >= self._length:
                self.ended = True
        else:
            if self._buf:
                self._take(self._buf)
                self._buf = b""
            if self._eof:
                self.ended = True

    # --- whole body ----------------------------------------------------
    def body(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.ended:
            self._fill(time_left(deadline))
        return self.raw

    def json(self, timeout=None):
        return json.loads(self.body(timeout))

    # --- events --------------------------------------------------------
    _EOL = re.compile(r"\r\n|\n|\r")

    def _split_line(self):
        m = self._EOL.search(self._text)
        if m is None:
            return None
        if m.group() == "\r" and m.end() == len(self._text) and not self.ended:
            return None  # maybe a CRLF split across reads
        line = self._text[:m.start()]
        self._text = self._text[m.end():]
        return line

    def _next_line(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            line = self._split_line()
            if line is not None:
                return line
            if self.ended:
                return None
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"no complete SSE line within {timeout}s on {self.path}")
            self._fill(remaining if remaining is not None else self.timeout)

    def next_block(self, timeout=None):
        deadline = deadline_after(timeout, self.timeout)
        while True:
            line = self._next_line(time_left(deadline))
            if line is None:
                if self._pending_lines:  # incomplete block at the end: not dispatched
                    lines, self._pending_lines = self._pending_lines, []
                    block = SSEBlock(lines)
                    block.incomplete = True
                    self.blocks.append(block)
                    return block
                return None
            if line == "":
                if not self._pending_lines:
                    continue
                lines, self._pending_lines = self._pending_lines, []
                block = SSEBlock(lines)
                block.incomplete = False
                self.blocks.append(block)
                self.comments.extend(block.comments)
                if block.retry is not None:
                    self.retry = block.retry
                return block
            self._pending_lines.append(line)

    def next_event(self, timeout=None):
        deadline = deadline_after(timeout, self.timeout)
        while True:
            block = self.next_block(time_left(deadline))
            if block is None or block.data is not None:
                return block

    def events(self, n, timeout=None):
        deadline = deadline_after(timeout, self.timeout)
        out = []
        while len(out) < n:
            ev = self.next_event(time_left(deadline))
            if ev is None:
                break
            out.append(ev)
        return out

    def until(self, pred, timeout=None):
        deadline = deadline_after(timeout, self.timeout)
        out = []
        while True:
            ev = self.next_event(time_left(deadline))
            if ev is None:
                raise AssertionError(f"stream ended before the expected event; got {out!r}")
            out.append(ev)
            if pred(ev):
                return out

    def read_to_end(self, timeout=None):
        deadline = deadline_after(timeout, self.timeout)
        out = []
        while True:
            block = self.next_block(time_left(deadline))
            if block is None:
                return out
            out.append(block)

    def close(self):
        close_quietly(self.sock)
