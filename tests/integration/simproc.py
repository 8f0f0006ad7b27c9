"""Starting real ib-tws-sim / ib-stream processes for integration tests."""
import json
import os
import signal
import subprocess
import time

BIN_DIR = os.environ.get(
    "IBS_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not built (set IBS_BIN_DIR)")
    return path


class Simulator:
    """An ib-tws-sim process on a free loopback port, seeded."""

    def __init__(self, seed=7, start_time=1700000000, rate=50.0, extra=()):
        self.seed, self.start_time, self.rate = seed, start_time, rate
        self.log_path = f"/tmp/ibs-sim-requests-{os.getpid()}-{time.monotonic_ns()}.jsonl"
        args = [binary("ib-tws-sim"), "--port", "0", "--seed", str(seed),
                "--start-time", str(start_time), "--rate", str(rate),
                "--request-log", self.log_path, *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("ib-tws-sim exited before listening")
        info = json.loads(line)
        assert info["event"] == "listening", line
        self.port = info["port"]
        self.admin_port = info.get("admin_port")

    def requests(self):
        """The simulator's request log, parsed."""
        try:
            with open(self.log_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def dump(self, con_id, count, tick_type):
        """The first `count` ticks of `tick_type` the seeded market produces."""
        out = subprocess.run(
            [binary("ib-tws-sim"), "--dump", str(con_id), "--count", str(count),
             "--seed", str(self.seed), "--start-time", str(self.start_time),
             "--rate", str(self.rate)],
            check=True, capture_output=True, text=True, timeout=60).stdout
        ticks = [json.loads(line) for line in out.splitlines() if line.strip()]
        return [t["data"] for t in ticks if t["tick_type"] == tick_type][:count]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_stream(args, timeout=60):
    """Runs ib-stream to completion; returns the CompletedProcess."""
    return subprocess.run([binary("ib-stream"), *args], capture_output=True, text=True,
                          timeout=timeout)
