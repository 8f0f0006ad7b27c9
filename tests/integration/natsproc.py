"""A real nats-server with JetStream for the scale-out tests, and the nodes
around it (README "Scale-out").

    NatsServer(port=None, store_dir=None)
        `nats-server -a 127.0.0.1 -p PORT -js -sd STORE`: a free port and a
        fresh store directory unless given (restart() keeps both).
        Attributes: port, url ("nats://127.0.0.1:PORT"), store_dir.
      stop(), kill(), restart(), cleanup() (stop and remove the store)

    publisher(nats, sim, name, data_dir, *args) / edge(nats, name, *args)
        -> serverproc.Server of ib-stream-server in that role.

    nats_server_binary() -> the path, or None when nats-server is missing.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from serverproc import Server
from simproc import free_port


def nats_server_binary():
    return shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if os.path.exists("/usr/sbin/nats-server") else None)


class NatsServer:
    def __init__(self, port=None, store_dir=None):
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._own_store = store_dir is None
        self.store_dir = store_dir or tempfile.mkdtemp(prefix="ibs-nats-")
        self.proc = None
        self.start()

    def start(self, timeout=10):
        self.log = open(os.path.join(self.store_dir, "nats-server.log"), "ab")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd",
             self.store_dir], stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited ({self.proc.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not listen")

    def _end(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def stop(self):
        self._end(signal.SIGTERM)

    def kill(self):
        self._end(signal.SIGKILL)

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        if self._own_store:
            shutil.rmtree(self.store_dir, ignore_errors=True)


def publisher(nats, sim, name, data_dir, *args, **kw):
    """A publisher node; it leads when it gets the lease (/ready then 200)."""
    return Server(sim, args=("--nats", nats.url, "--role", "publisher", "--node-name", name,
                             "--data-dir", data_dir, "--lease-ms", "1500", *args),
                  wait_ready=kw.pop("wait_ready", False), **kw)


def edge(nats, name, *args, **kw):
    """An edge node (no TWS; its data directory a fresh temporary one); ready
    once a leading publisher is heard."""
    data_dir = tempfile.mkdtemp(prefix=f"ibs-{name}-")
    return Server(args=("--nats", nats.url, "--role", "edge", "--node-name", name,
                        "--data-dir", data_dir, *args),
                  wait_ready=kw.pop("wait_ready", True), **kw)
