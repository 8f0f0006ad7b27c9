"""GET /metrics (README "Metrics") on a real ib-stream-server with its
in-process simulator: the Prometheus text format checked by Debian's
`promtool check metrics`, a real Prometheus server scraping it every second
and finding the series through its HTTP query API, the per-stream series
gone once a stream ended, the API key (and --metrics-public), and
--metrics off.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import requests

from serverproc import Server
from simproc import free_port
from streamwatch import AAPL, EURUSD, MNQ

KEY = "metrics-key-123"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def tool(name):
    path = shutil.which(name) or f"/usr/bin/{name}"
    if not os.path.exists(path):
        raise AssertionError(f"{name} is missing: scripts/install-deps.sh installs Debian's "
                             "prometheus package")
    return path


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        name, labels = head, {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for part in rest.rstrip("}").split('",'):
                if part:
                    k, v = part.split("=", 1)
                    labels[k] = v.strip('"')
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def value(parsed, name, **labels):
    want = {(k, str(v)) for k, v in labels.items()}
    found = [v for (n, ls), v in parsed.items() if n == name and want <= ls]
    return sum(found) if found else None


class MetricsEndpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # AAPL BidAsk is tracked (always open, recorded); MNQ streams come
        # and go (a short linger, so their series end quickly).
        cls.server = Server(simulate=True,
                            args=("--sim-rate", "40", "--linger-ms", "300",
                                  "--track", f"{AAPL}:BidAsk"))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def scrape(self):
        r = self.server.get("/metrics")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers["content-type"], CONTENT_TYPE)
        return r.text

    def stream_ticks(self, con_id, tick_type, n):
        s = self.server.stream(f"/stream/{con_id}/{tick_type}", params={"limit": n}, timeout=20)
        try:
            events = s.until(lambda e: e.type == "complete", timeout=20)
        finally:
            s.close()
        self.assertEqual(sum(1 for e in events if e.type == "tick"), n)

    def test_families_after_streaming(self):
        self.stream_ticks(AAPL, "BidAsk", 10)
        self.assertEqual(self.server.get("/no/such/path").status_code, 404)
        text = self.scrape()
        for family in ("ib_stream_tws_connected", "ib_stream_tws_reconnects_total",
                       "ib_stream_tws_messages_received_total", "ib_stream_upstream_streams",
                       "ib_stream_ticks_received_total", "ib_stream_ticks_delivered_total",
                       "ib_stream_ticks_dropped_total", "ib_stream_slow_consumer_ends_total",
                       "ib_stream_clients", "ib_stream_http_requests_total",
                       "ib_stream_delivery_latency_seconds", "ib_stream_recorder_rows_total",
                       "ib_stream_recorder_lag_seconds", "ib_stream_recorder_write_errors_total",
                       "ib_stream_record_size_bytes", "ib_stream_history_requests_total",
                       "ib_stream_history_query_duration_seconds", "process_cpu_seconds_total",
                       "process_resident_memory_bytes", "process_open_fds",
                       "process_start_time_seconds"):
            self.assertIn(f"# HELP {family} ", text)
            self.assertIn(f"# TYPE {family} ", text)
        m = samples(text)
        aapl = {"contract_id": AAPL, "tick_type": "BidAsk"}
        self.assertEqual(value(m, "ib_stream_tws_connected"), 1)
        self.assertGreater(value(m, "ib_stream_tws_messages_received_total", type="tick_by_tick"),
                           0)
        self.assertGreaterEqual(value(m, "ib_stream_ticks_received_total", **aapl), 10)
        self.assertGreaterEqual(value(m, "ib_stream_ticks_delivered_total", **aapl), 10)
        self.assertEqual(value(m, "ib_stream_upstream_streams", state="live"), 1)
        self.assertGreaterEqual(
            value(m, "ib_stream_http_requests_total",
                  route="/stream/{contract_id}/{tick_type}", status=200), 1)
        self.assertGreaterEqual(
            value(m, "ib_stream_http_requests_total", route="other", status=404), 1)
        self.assertNotIn("/no/such/path", text)
        self.assertGreater(value(m, "ib_stream_delivery_latency_seconds_count"), 0)
        inf = value(m, "ib_stream_delivery_latency_seconds_bucket", le="+Inf")
        self.assertEqual(inf, value(m, "ib_stream_delivery_latency_seconds_count"))
        self.assertEqual(value(m, "ib_stream_clients", transport="sse"), 0)
        self.assertGreater(value(m, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(value(m, "process_open_fds"), 3)
        self.assertAlmostEqual(value(m, "process_start_time_seconds"), time.time(), delta=300)
        # The recorder writes the tracked stream.
        self.server.wait_for(
            lambda: value(samples(self.scrape()), "ib_stream_recorder_rows_total", source="live",
                          **aapl), timeout=10)

    def test_websocket_deliveries_and_latency(self):
        import asyncio
        import websockets

        before = samples(self.scrape())
        seen = {}

        async def run():
            url = f"ws://127.0.0.1:{self.server.port}/ws/stream/{EURUSD}/MidPoint?limit=5"
            async with websockets.connect(url) as ws:
                ticks = 0
                async for message in ws:
                    kind = json.loads(message)["type"]
                    ticks += kind == "tick"
                    if ticks == 1 and "during" not in seen:
                        seen["during"] = samples(await asyncio.to_thread(self.scrape))
                    if kind in ("complete", "error"):
                        break

        asyncio.run(asyncio.wait_for(run(), 30))
        during = seen["during"]
        self.assertEqual(value(during, "ib_stream_clients", transport="websocket"), 1)
        self.assertEqual(value(during, "ib_stream_websocket_connections"), 1)
        after = samples(self.scrape())
        self.assertEqual(value(after, "ib_stream_ticks_delivered_total", contract_id=EURUSD,
                               tick_type="MidPoint"), 5)
        self.assertGreater(value(after, "ib_stream_delivery_latency_seconds_count"),
                           value(before, "ib_stream_delivery_latency_seconds_count"))
        self.assertEqual(value(after, "ib_stream_http_requests_total",
                               route="/ws/stream/{contract_id}/{tick_type}", status=101), 1)

    def test_promtool_check_metrics(self):
        self.stream_ticks(AAPL, "BidAsk", 5)
        self.server.get("/history/%d/BidAsk" % AAPL, params={"limit": 5})
        text = self.scrape()
        r = subprocess.run([tool("promtool"), "check", "metrics"], input=text, text=True,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual((r.stdout + r.stderr).strip(), "", "lint findings")

    def test_series_of_an_ended_stream_are_removed(self):
        self.stream_ticks(MNQ, "Last", 3)
        # Right after the stream, the upstream lingers: its series are there.
        mnq = f'contract_id="{MNQ}"'
        self.assertIn(mnq, self.scrape())
        # Once the Hub let it go, they are gone; the tracked stream stays.
        self.server.wait_for(lambda: mnq not in self.scrape(), timeout=10)
        self.assertIn(f'contract_id="{AAPL}"', self.scrape())

    def test_prometheus_scrapes_and_finds_the_series(self):
        self.stream_ticks(AAPL, "BidAsk", 3)
        work = tempfile.mkdtemp(prefix="ibs-prometheus-")
        port = free_port()
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: ib-stream\n    scrape_interval: 1s\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.server.port}']\n")
        log = open(os.path.join(work, "prometheus.log"), "w+")
        proc = subprocess.Popen(
            [tool("prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(work, 'data')}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work)
        base = f"http://127.0.0.1:{port}"

        def query(q):
            try:
                r = requests.get(f"{base}/api/v1/query", params={"query": q}, timeout=5)
            except requests.RequestException:
                return None
            if r.status_code != 200:
                return None
            body = r.json()
            return body["data"]["result"] if body.get("status") == "success" else None

        try:
            deadline = time.monotonic() + 20
            wanted = {
                "up": 'up{job="ib-stream"} == 1',
                "ticks": f'ib_stream_ticks_received_total{{contract_id="{AAPL}",'
                         'tick_type="BidAsk"} > 0',
                "requests": 'ib_stream_http_requests_total{route="/stream/{contract_id}/'
                            '{tick_type}",status="200"} > 0',
                "latency": "ib_stream_delivery_latency_seconds_count > 0",
                "cpu": 'process_cpu_seconds_total{job="ib-stream"}',
            }
            found = {}
            while time.monotonic() < deadline and len(found) < len(wanted):
                if proc.poll() is not None:
                    break
                for name, q in wanted.items():
                    if name not in found:
                        result = query(q)
                        if result:
                            found[name] = result
                if len(found) < len(wanted):
                    time.sleep(0.5)
            log.seek(0)
            self.assertEqual(set(found), set(wanted),
                             f"series Prometheus has not found; its log:\n{log.read()[-3000:]}")
            self.assertEqual(found["ticks"][0]["metric"]["instance"],
                             f"127.0.0.1:{self.server.port}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            shutil.rmtree(work, ignore_errors=True)


class MetricsSettings(unittest.TestCase):
    def test_api_key_required_unless_public(self):
        with Server(simulate=True, args=("--api-key", KEY)) as s:
            r = s.get("/metrics")
            self.assertEqual(r.status_code, 401, r.text)
            self.assertEqual(r.json()["error"]["code"], "AUTH_REQUIRED")
            r = s.get("/metrics", headers={"Authorization": f"Bearer {KEY}"})
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.headers["content-type"], CONTENT_TYPE)
            self.assertIn("ib_stream_tws_connected 1", r.text)
            self.assertEqual(s.get("/metrics", params={"api_key": KEY}).status_code, 200)
            # The key never shows in a label.
            self.assertNotIn(KEY, s.get("/metrics", params={"api_key": KEY}).text)
        with Server(simulate=True, args=("--api-key", KEY, "--metrics-public")) as s:
            r = s.get("/metrics")
            self.assertEqual(r.status_code, 200, r.text)
            self.assertIn("# TYPE ib_stream_ticks_received_total counter", r.text)
            # Only /metrics is exempt.
            self.assertEqual(s.get("/stream/active").status_code, 401)
        with Server(simulate=True, env={"IB_STREAM_API_KEY": KEY,
                                        "IB_STREAM_METRICS_PUBLIC": "true"}) as s:
            self.assertEqual(s.get("/metrics").status_code, 200)

    def test_metrics_off(self):
        for args, env in ((("--metrics", "off"), None), ((), {"IB_STREAM_METRICS": "0"})):
            with Server(args=args, env=env) as s:
                r = s.get("/metrics")
                self.assertEqual(r.status_code, 404, r.text)
                self.assertEqual(r.json()["error"]["code"], "NOT_FOUND")
                self.assertEqual(s.get("/health").status_code, 200)

    def test_bad_setting_stops_the_server(self):
        from serverproc import run_server
        r = run_server(env={"IB_STREAM_METRICS": "sometimes"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("IB_STREAM_METRICS='sometimes' is invalid", r.stderr)


if __name__ == "__main__":
    unittest.main()
