"""A short run of scripts/soak.py (clients connecting, streaming, resuming
and leaving at random while the simulator's admin port injects TWS faults):
it must end with every check passed (exit 0). The long run is done by hand
(README "Reliability") and recorded in docs/reliability/soak.json.

Run: cd tests/integration && IBS_BIN_DIR=<dir with ib-stream-server>
/usr/bin/python3 -m unittest -v test_soak
"""
import os
import subprocess
import sys
import unittest

from simproc import BIN_DIR

SOAK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "soak.py")


class ShortSoak(unittest.TestCase):
    def test_45_seconds_of_churn_and_faults(self):
        run = subprocess.run([sys.executable, SOAK, "--seconds", "45", "--clients", "40",
                              "--rounds", "3", "--bin-dir", BIN_DIR],
                             capture_output=True, text=True, timeout=240)
        self.assertEqual(run.returncode, 0, f"soak failed:\n{run.stdout}\n{run.stderr[-4000:]}")


if __name__ == "__main__":
    unittest.main()
