"""ib-studies --contract with a contract spec (README "Contracts") against a
real ib-stream-server --simulate: the spec is resolved with
GET /contracts/{spec} before anything else and the study runs on the id it
names (rows and header name that id, one stderr notice says it); an
ambiguous spec fails (exit 1) with the candidates one a line (id, local
symbol, expiry); an unknown one fails with not found (1); a malformed spec
is a usage error (2) before any connection; a server without TWS cannot
look it up (503, exit 1).
"""
import json
import re
import subprocess
import unittest

from serverproc import Server, closed_port
from simproc import binary


def studies(*args, timeout=60):
    return subprocess.run([binary("ib-studies"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class StudiesContractSpec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(simulate=True, args=("--sim-rate", "20"))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def contract(self, path):
        st, body = self.server.json(path)
        self.assertEqual(st, 200, body)
        return body

    def test_a_stock_symbol_runs_on_its_id(self):
        aapl = self.contract("/contracts/AAPL")["contract_id"]
        r = studies("multi-delta", "--contract", "AAPL", "--server", self.server.base_url,
                    "--json", "--limit", 5)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json_lines(r.stdout)
        self.assertEqual(len(rows), 5)
        self.assertEqual({row["contract_id"] for row in rows}, {aapl})
        self.assertIn(f"ib-studies: --contract AAPL:STK:SMART:USD is contract {aapl} "
                      f"(AAPL NASDAQ)", r.stderr.splitlines())
        # Human output: the header names the id.
        r = studies("delta", "--contract", "aapl", "--server", self.server.base_url,
                    "--limit", 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(f"delta study of contract {aapl} "), r.stdout)

    def test_the_front_month_future_over_websocket(self):
        months = self.contract("/contracts/search?symbol=MNQ&sec_type=FUT")["contracts"]
        self.assertGreater(len(months), 1)
        front = min(months, key=lambda c: c["expiry"])
        spec = f"MNQ:FUT:CME:USD:{front['expiry'][:6]}"
        r = studies("multi-delta", "--contract", spec, "--server", self.server.base_url,
                    "--transport", "ws", "--json", "--limit", 5)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json_lines(r.stdout)
        self.assertEqual(len(rows), 5)
        self.assertEqual({row["contract_id"] for row in rows}, {front["contract_id"]})
        self.assertIn(f"is contract {front['contract_id']} ({front['local_symbol']} "
                      f"{front['expiry']})", r.stderr)

    def test_an_ambiguous_spec_lists_the_candidates(self):
        months = self.contract(
            "/contracts/search?symbol=ES&sec_type=FUT&exchange=CME&currency=USD")["contracts"]
        self.assertGreater(len(months), 1)
        r = studies("multi-delta", "--contract", "ES:FUT:CME:USD", "--server",
                    self.server.base_url, "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertTrue(lines[0].startswith("error: --contract ES:FUT:CME:USD matches several "
                                            "contracts (AMBIGUOUS_CONTRACT"), lines[0])
        listed = [line.split() for line in lines[1:]]
        self.assertEqual(listed, [[str(c["contract_id"]), c["local_symbol"], c["expiry"]]
                                  for c in months])

    def test_an_unknown_symbol_is_not_found(self):
        r = studies("delta", "--contract", "NOSUCH", "--server", self.server.base_url)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr, r"^error: no contract matches --contract NOSUCH:STK:SMART:USD "
                                   r"\(CONTRACT_NOT_FOUND: ")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_a_spec_for_the_servers_record(self):
        # --replay-from goes on with the resolved id: the server answers
        # for that id (nothing is recorded here: its 404, naming the id).
        aapl = self.contract("/contracts/AAPL")["contract_id"]
        r = studies("delta", "--contract", "AAPL", "--server", self.server.base_url,
                    "--replay-from", "2026-12-01", "--replay-to", "2026-12-02")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"is contract {aapl}", r.stderr)
        self.assertRegex(r.stderr, rf"HTTP 404 .*{aapl}")


class StudiesContractSpecErrors(unittest.TestCase):
    def test_a_malformed_spec_is_a_usage_error_before_connecting(self):
        server = f"http://127.0.0.1:{closed_port()}"
        for spec, words in (("ES:FOO", "unknown security type 'FOO'"),
                            ("A:STK:SMART:USD:202703:X", "more than 5 parts"),
                            ("0", "contract id '0'")):
            r = studies("multi-delta", "--contract", spec, "--server", server)
            self.assertEqual(r.returncode, 2, (spec, r.stderr))
            self.assertIn("--contract", r.stderr)
            self.assertIn(words, r.stderr)
            self.assertNotIn("cannot connect", r.stderr)

    def test_no_server_or_no_tws_exits_1(self):
        r = studies("multi-delta", "--contract", "AAPL", "--server",
                    f"http://127.0.0.1:{closed_port()}", timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot connect to ib-stream-server", r.stderr)
        self.assertIn("to look up --contract AAPL:STK:SMART:USD", r.stderr)
        with Server() as server:  # no TWS: nothing to look the spec up with
            r = studies("multi-delta", "--contract", "AAPL", "--server", server.base_url,
                        timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr, r"^error: the server cannot look up --contract "
                                   r"AAPL:STK:SMART:USD now: HTTP 503 ")


if __name__ == "__main__":
    unittest.main()
