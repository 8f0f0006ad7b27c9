"""docs/openapi.json against a running ib-stream-server --simulate, both ways.

- Every endpoint the server lists at GET / is documented; the document's
  component schemas are valid JSON Schema (draft 2020-12, what OpenAPI 3.1
  uses); GET /openapi.json serves exactly docs/openapi.json.
- Every documented operation, called with its documented examples (the
  simulator's contracts: 265598 AAPL, 12087792 EUR.USD), answers a documented
  status with a documented content type, and its body validates against the
  documented schema: JSON bodies whole, SSE streams event by event (limit=2),
  WebSocket endpoints with their 101 handshake and their 426 for a plain GET.
- For every parameter with a range, an enum or a pattern, one value outside
  it is answered with the documented 400 and the Error body.
- The server runs with an API key: every operation that the document marks
  as needing it answers 401 (documented, Error body) without it, and every
  one marked as not needing it does not.

The route list of the router itself is checked against the document by the
unit test tests/unit/http/test_openapi_routes.cpp.
"""
import base64
import json
import os
import shutil
import socket
import tempfile
import unittest

import requests
from jsonschema import Draft202012Validator, RefResolver

from serverproc import Server

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC_FILE = os.path.join(ROOT, "docs", "openapi.json")
KEY = "openapi-test-key-0123"
AUTH = {"Authorization": "Bearer " + KEY}
METHODS = ("get", "post", "delete")

# Query parameters each operation is called with, beyond its required ones
# (documented examples): streams stop after two ticks, replays run at once.
TEST_QUERY = {
    "streamTicks": {"tick_type": "BidAsk", "limit": "2", "timeout": "20"},
    "streamTicksOfType": {"limit": "2", "timeout": "20"},
    "replay": {"duration": "1h", "speed": "max"},
    "getHistory": {"limit": "5"},
    "searchContracts": {"symbol": "ES", "sec_type": "FUT"},
    "streamDeltaStudy": {"duration": "1h", "limit": "2", "timeout": "20"},
}
# Path parameters other than the documented examples: track and untrack a
# contract the server does not record already.
TEST_PATH = {"track": {"contract_id": "12087792"}, "untrack": {"contract_id": "12087792"}}
# Order: reads first, then what changes state.
ORDER = {"post": 1, "delete": 2}


def load_doc():
    with open(DOC_FILE, encoding="utf-8") as f:
        return json.load(f)


DOC = load_doc()
RESOLVER = RefResolver(base_uri="", referrer=DOC)


def deref(node):
    while isinstance(node, dict) and "$ref" in node:
        node = RESOLVER.resolve(node["$ref"])[1]
    return node


def explain(error):
    """The useful complaint of a oneOf of kinds (events, ticks): the one about
    the branch whose `type` matches, not about the others' `type` const."""
    while error.context:
        branches = {}
        for e in error.context:
            branches.setdefault(e.schema_path[0], []).append(e)
        kind_ok = [errs for errs in branches.values()
                   if not any(e.validator == "const" and list(e.relative_path) == ["type"]
                              for e in errs)]
        error = min(kind_ok or list(branches.values()), key=len)[0]
    return error


def validate(schema, instance, what):
    errors = list(Draft202012Validator(schema, resolver=RESOLVER).iter_errors(instance))
    if errors:
        best = explain(errors[0])
        raise AssertionError(f"{what}: {best.message} at {list(best.path)} "
                             f"(schema {list(best.schema_path)}); body: {json.dumps(instance)[:800]}")


def operations():
    """(path, method, operation, parameters) of the document, in test order."""
    ops = []
    for path, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                params = [deref(p) for p in item.get("parameters", []) + op.get("parameters", [])]
                ops.append((path, method, op, params))
    return sorted(ops, key=lambda o: ORDER.get(o[1], 0))


def needs_key(op):
    return op.get("security", DOC["security"]) != []


def media(content_type):
    return (content_type or "").split(";")[0].strip().lower()


class OpenApiDocument(unittest.TestCase):
    server = None
    data_dir = None

    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="ibs-openapi-")
        cls.server = Server(simulate=True,
                            args=("--data-dir", cls.data_dir, "--track", "265598:BidAsk,Last",
                                  "--sim-rate", "50", "--api-key", KEY))
        # the record has ticks of both tracked types (history, replay)
        cls.server.wait_for(lambda: cls._recorded(), timeout=20)

    @classmethod
    def _recorded(cls):
        r = cls.server.get("/history/265598", headers=AUTH)
        return r.status_code == 200 and len(r.json()["tick_types"]) == 2

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.cleanup()
        if cls.data_dir:
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    # ---- helpers

    def target(self, path, op, params, override=None):
        values = dict(TEST_PATH.get(op["operationId"], {}))
        values.update(override or {})
        for p in params:
            if p["in"] == "path":
                value = values.get(p["name"], p.get("example"))
                self.assertIsNotNone(value, f"{path}: path parameter {p['name']} has no example")
                path = path.replace("{" + p["name"] + "}", str(value))
        return path

    def query(self, op, params):
        q = {p["name"]: str(p["example"]) for p in params
             if p["in"] == "query" and p.get("required")}
        q.update(TEST_QUERY.get(op["operationId"], {}))
        return q

    def check_answer(self, what, op, status, content_type, body_bytes, stream_events=None):
        """status documented; content type documented; body valid."""
        responses = op["responses"]
        self.assertIn(str(status), responses,
                      f"{what}: status {status} is not documented: {body_bytes[:300]!r}")
        response = deref(responses[str(status)])
        content = response.get("content")
        if not content:
            return None
        mt = media(content_type)
        self.assertIn(mt, content, f"{what}: content type {content_type} is not documented")
        schema = content[mt].get("schema", {})
        if mt == "text/event-stream":
            self.assertTrue(stream_events, f"{what}: no event")
            for ev in stream_events:
                validate(schema, ev, f"{what} event")
            return stream_events
        if mt == "application/json":
            body = json.loads(body_bytes)
            validate(schema, body, what)
            return body
        if mt == "application/x-ndjson":
            for line in body_bytes.decode().splitlines():
                validate(schema, json.loads(line), what + " line")
            return None
        text = body_bytes.decode("utf-8")
        validate(schema, text, what)
        return text

    def call(self, method, path, op, params=None, headers=None):
        """One documented call: SSE endpoints through a raw stream."""
        documented = {media(ct) for r in op["responses"].values()
                      for ct in deref(r).get("content", {})}
        what = f"{method.upper()} {path}?{params or ''}"
        if "text/event-stream" in documented and method == "get":
            s = self.server.stream(path, params=params, headers=headers, timeout=20)
            try:
                events = []
                if s.status == 200:
                    while len(events) < 4:
                        ev = s.next_event(timeout=20)
                        if ev is None:
                            break
                        events.append(ev.json)
                        if ev.type == "complete":
                            break
                    return s.status, self.check_answer(what, op, s.status,
                                                       s.headers.get("content-type"), b"", events)
                body = s.body(timeout=10)
                return s.status, self.check_answer(what, op, s.status,
                                                   s.headers.get("content-type"), body)
            finally:
                s.close()
        r = self.server.request(method.upper(), path, params=params, headers=headers)
        return r.status_code, self.check_answer(what, op, r.status_code,
                                                r.headers.get("content-type"), r.content)

    def websocket_handshake(self, path, headers):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"] + [f"{k}: {v}" for k, v in headers.items()]
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b" ", 2)[1])

    # ---- tests

    def test_component_schemas_are_json_schema_2020_12(self):
        for name, schema in DOC["components"]["schemas"].items():
            with self.subTest(schema=name):
                Draft202012Validator.check_schema(schema)

    def test_every_endpoint_the_server_lists_is_documented(self):
        status, body = self.server.json("/", headers=AUTH)
        self.assertEqual(status, 200)
        self.assertEqual(DOC["info"]["version"], body["version"], "info.version of the document")
        for e in body["endpoints"]:
            method = "get" if e["method"] == "WEBSOCKET" else e["method"].lower()
            with self.subTest(endpoint=f"{e['method']} {e['path']}"):
                self.assertIn(e["path"], DOC["paths"])
                self.assertIn(method, DOC["paths"][e["path"]])

    def test_openapi_json_is_the_document(self):
        r = self.server.get("/openapi.json")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(media(r.headers["content-type"]), "application/json")
        self.assertEqual(r.json(), DOC)

    def test_every_documented_operation_answers_as_documented(self):
        for path, method, op, params in operations():
            with self.subTest(operation=f"{method.upper()} {path}"):
                target = self.target(path, op, params)
                if "101" in op["responses"]:
                    self.assertEqual(self.websocket_handshake(target, AUTH), 101)
                    status, _ = self.call(method, target, op, headers=AUTH)
                    self.assertEqual(status, 426)
                    continue
                stream = None
                if op["operationId"] == "stopContractStreams":
                    # a client stream of the contract to stop
                    stream = self.server.stream("/stream/265598/MidPoint", headers=AUTH)
                    self.assertEqual(stream.next_event(timeout=10).type, "info")
                try:
                    status, _ = self.call(method, target, op, self.query(op, params), AUTH)
                    self.assertLess(status, 300, f"{method.upper()} {target}: {status}")
                    if stream:
                        self.assertEqual(stream.until(lambda e: e.type == "complete",
                                                      timeout=10)[-1].json["reason"], "stopped")
                finally:
                    if stream:
                        stream.close()

    def test_contract_search_forms_as_documented(self):
        op = DOC["paths"]["/contracts/search"]["get"]
        for query in ({"q": "app"}, {"symbol": "AAPL"}, {"symbol": "NOSUCHSYMBOL"}):
            with self.subTest(query=query):
                status, body = self.call("get", "/contracts/search", op, query, AUTH)
                self.assertEqual(status, 200)
        self.assertEqual(body["count"], 0)

    def test_history_formats_as_documented(self):
        op = DOC["paths"]["/history/{contract_id}/{tick_type}"]["get"]
        for fmt in ("ndjson", "csv"):
            with self.subTest(format=fmt):
                r = self.server.get("/history/265598/Last", params={"format": fmt, "limit": "1"},
                                    headers=AUTH)
                self.check_answer(f"history {fmt}", op, r.status_code,
                                  r.headers.get("content-type"), r.content)
                self.assertIn("X-Next-Cursor", r.headers)

    def test_a_value_out_of_range_is_the_documented_400(self):
        for path, method, op, params in operations():
            if "101" in op["responses"]:
                continue  # WebSocket: parameters are refused after the handshake
            for p in params:
                bad = self.bad_value(p)
                if bad is None:
                    continue
                with self.subTest(operation=f"{method.upper()} {path}", parameter=p["name"]):
                    self.assertIn("400", op["responses"])
                    query = self.query(op, params)
                    target = self.target(path, op, params)
                    if p["in"] == "path":
                        target = self.target(path, op, params, {p["name"]: bad})
                    elif p["in"] == "query":
                        query[p["name"]] = bad
                    else:
                        continue
                    status, body = self.call(method, target, op, query, AUTH)
                    self.assertEqual(status, 400, body)
                    self.assertIn(body["error"]["code"], ("INVALID_PARAMETER",))

    @staticmethod
    def bad_value(param):
        schema = param.get("schema", {})
        branches = schema.get("anyOf", [schema])
        for b in branches:
            if "minimum" in b:
                low = b["minimum"] - 1
                return str(int(low)) if b.get("type") == "integer" else str(low)
        for b in branches:
            if "enum" in b:
                return "bogus"
        if "pattern" in schema:
            return "!"
        return None

    def test_the_api_key_as_documented(self):
        for path, method, op, params in operations():
            with self.subTest(operation=f"{method.upper()} {path}"):
                target = self.target(path, op, params)
                # (a WebSocket endpoint: a plain GET, refused before its 426)
                status, body = self.call(method, target, op, self.query(op, params))
                if needs_key(op):
                    self.assertEqual(status, 401, body)
                    self.assertEqual(body["error"]["code"], "AUTH_REQUIRED")
                else:
                    self.assertNotEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
