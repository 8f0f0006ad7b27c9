"""The install: the example environment file, the .deb and its systemd unit.

Run by ctest (label `package`, never under the sanitizers) from this
directory, with IBS_BIN_DIR naming the CMake build directory:

    cd tests/package && IBS_BIN_DIR=/path/to/build /usr/bin/python3 -m unittest -v test_deb

EnvFileTest (any user): packaging/ib-stream.env documents exactly the
settings `ib-stream-server --help` lists, and its values, every line
uncommented, are accepted by the built server (it starts, /health answers
and the example API key is enforced).

DebPackageTest (root with dpkg and cpack, else skipped with the reason):
builds the .deb with cpack from the build directory into a temporary
directory, checks its dependencies (the package of every shared library
ib-stream-server loads, and tzdata), files and conffiles, installs it with
`dpkg -i`, verifies the unit with `systemd-analyze verify` when there is
one, runs the unit's ExecStart (/usr/bin/ib-stream-server) with its
Environment= and `--simulate` on a free loopback port with a temporary
state directory, gets /health and /ready, and purges the package in every
case. It leaves nothing installed; when an ib-stream package is installed
already it skips rather than touch it. Runs of several build trees at once
take turns (a lock file).
"""

import fcntl
import glob
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
ENV_FILE = os.path.join(SOURCE_DIR, "packaging", "ib-stream.env")
PACKAGE = "ib-stream"
UNIT = "/usr/lib/systemd/system/ib-stream-server.service"
EXECUTABLES = ["ib-stream-server", "ib-stream", "ib-studies", "ib-tws-sim"]
LOCK_FILE = os.path.join(tempfile.gettempdir(), "ib-stream-package-test.lock")


def bin_dir():
    d = os.environ.get("IBS_BIN_DIR")
    if not d:
        raise unittest.SkipTest("IBS_BIN_DIR (the CMake build directory) is not set")
    return d


def env_file_lines():
    """(name, value) of every VARIABLE=value line of the example, commented or not."""
    out = []
    for line in open(ENV_FILE, encoding="utf-8"):
        m = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
        if m:
            out.append((m.group(1), m.group(2)))
    return out


class RunningServer:
    """An ib-stream-server process; reads its `listening` line for the port."""

    def __init__(self, argv, env, timeout=20):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"{argv} did not start: {self.stderr_text()[-2000:]}")
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        listening = json.loads(line.split(b"\n", 1)[0])
        assert listening.get("event") == "listening", listening
        self.base_url = f"http://127.0.0.1:{listening['port']}"

    def get(self, path, headers=None):
        """(status, body bytes) of a GET."""
        req = urllib.request.Request(self.base_url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get("/ready")[0] == 200:
                return True
            time.sleep(0.1)
        return False

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode


def clean_env(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IB_STREAM_")}
    env.update(extra)
    return env


class EnvFileTest(unittest.TestCase):
    def test_documents_every_setting_of_the_server(self):
        server = os.path.join(bin_dir(), "ib-stream-server")
        help_text = subprocess.run([server, "--help"], capture_output=True, text=True,
                                   timeout=10, check=True).stdout
        known = set(re.findall(r"\bIB_STREAM_[A-Z0-9_]+\b", help_text))
        documented = [name for name, _ in env_file_lines() if name.startswith("IB_STREAM_")]
        self.assertEqual(len(documented), len(set(documented)), "a setting documented twice")
        self.assertEqual(set(documented) - known, set(),
                         f"{ENV_FILE} documents settings ib-stream-server does not know")
        self.assertEqual(known - set(documented), set(),
                         f"{ENV_FILE} does not document these settings of ib-stream-server")
        # Shipped with everything commented out: the defaults apply.
        for line in open(ENV_FILE, encoding="utf-8"):
            self.assertFalse(re.match(r"^[A-Z]", line), f"not commented out: {line!r}")

    def test_its_values_uncommented_are_accepted(self):
        lines = dict(env_file_lines())
        settings = {k: v for k, v in lines.items() if k.startswith("IB_STREAM_")}
        daemon_args = lines.get("DAEMON_ARGS", "").split()
        self.assertIn("--simulate", daemon_args)  # the example tries the simulator
        self.assertTrue(settings.get("IB_STREAM_API_KEY"))
        with tempfile.TemporaryDirectory(prefix="ibs-envfile-") as data:
            # The flags win over the file's listen address and data directory.
            argv = [os.path.join(bin_dir(), "ib-stream-server"), *daemon_args,
                    "--listen", "127.0.0.1:0", "--data-dir", data]
            server = RunningServer(argv, clean_env(settings))
            try:
                status, body = server.get("/health")
                self.assertEqual(status, 200, body)
                self.assertIn("status", json.loads(body))
                self.assertEqual(server.get("/stream/info")[0], 401)
                key = {"Authorization": "Bearer " + settings["IB_STREAM_API_KEY"]}
                self.assertEqual(server.get("/stream/info", key)[0], 200)
            finally:
                self.assertEqual(server.stop(), 0, server.stderr_text()[-2000:])


def run(argv, timeout=120, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def installed(package):
    r = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
    return r.returncode == 0 and "install ok installed" in r.stdout


def dpkg(*args):
    """dpkg with retries while another dpkg or apt holds its lock."""
    deadline = time.monotonic() + 60
    while True:
        r = run(["dpkg", *args], check=False)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            return r
        time.sleep(1)


def parse_unit(text):
    """{key: [values]} of a systemd unit (sections merged; keys are distinct)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def library_packages(executable):
    """The Debian packages of the shared libraries an executable links
    directly (its NEEDED entries, where ldd finds them); the libraries those
    load come with their own packages' dependencies (libnats3.4 brings
    libprotobuf-c1)."""
    direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                            run(["readelf", "-d", executable]).stdout))
    packages = set()
    for line in run(["ldd", executable]).stdout.splitlines():
        m = re.search(r"=> (/\S+)", line)
        if not m or line.split()[0] not in direct:
            continue
        path = os.path.realpath(m.group(1))
        owner = run(["dpkg", "-S", path], check=False)
        if owner.returncode != 0:  # merged /usr: dpkg may know the /lib name
            alt = re.sub(r"^/usr/lib/", "/lib/", path)
            owner = run(["dpkg", "-S", alt], check=False)
        if owner.returncode == 0:
            packages.add(owner.stdout.split(":", 1)[0].strip())
    return packages


def provided_names(package):
    """The package's name and the virtual names it provides (libspdlog1.10-fmt9)."""
    r = run(["dpkg-query", "-W", "-f=${Provides}", package], check=False)
    return {package} | {re.split(r"[ (]", p.strip())[0] for p in r.stdout.split(",") if p.strip()}


class DebPackageTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("not root: dpkg -i needs root (the .deb is not installed)")
        for tool in ("dpkg", "dpkg-deb", "dpkg-shlibdeps", "cpack"):
            if shutil.which(tool) is None:
                self.skipTest(f"{tool} is missing (dpkg-dev, cmake): the .deb is not built")
        self.lock = open(LOCK_FILE, "w")
        self.addCleanup(self.lock.close)
        fcntl.flock(self.lock, fcntl.LOCK_EX)  # one package test at a time per machine
        if installed(PACKAGE):
            self.skipTest(f"package {PACKAGE} is installed on this machine: not touching it")
        self.tmp = tempfile.mkdtemp(prefix="ibs-deb-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def build_deb(self):
        config = os.path.join(bin_dir(), "CPackConfig.cmake")
        self.assertTrue(os.path.exists(config), f"{config} missing: configure the build first")
        for exe in EXECUTABLES:
            self.assertTrue(os.path.exists(os.path.join(bin_dir(), exe)), f"{exe} is not built")
        run(["cpack", "-G", "DEB", "--config", config, "-B", os.path.join(self.tmp, "out")],
            timeout=180)
        debs = glob.glob(os.path.join(self.tmp, "out", "*.deb"))
        self.assertEqual(len(debs), 1, debs)
        return debs[0]

    def check_deb(self, deb):
        fields = run(["dpkg-deb", "-f", deb, "Package", "Depends"]).stdout
        self.assertIn(f"Package: {PACKAGE}", fields)
        depends = {re.split(r"[ (]", d.strip())[0]
                   for d in fields.split("Depends:", 1)[1].split(",")}
        needed = library_packages(os.path.join(bin_dir(), "ib-stream-server")) | {"tzdata"}
        self.assertIn("libc6", needed)
        missing = {p for p in needed if not provided_names(p) & depends}
        self.assertEqual(missing, set(), f"Depends: {sorted(depends)}")
        files = run(["dpkg-deb", "-c", deb]).stdout
        for path in [*(f"./usr/bin/{e}" for e in EXECUTABLES), "." + UNIT,
                     "./etc/ib-stream/env", "./usr/share/doc/ib-stream/README.md"]:
            self.assertRegex(files, rf"\s{re.escape(path)}\n", f"{path} not in the package")
        control = os.path.join(self.tmp, "control")
        run(["dpkg-deb", "-e", deb, control])
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/ib-stream/env"])
        for script in ("postinst", "prerm", "postrm"):
            self.assertTrue(os.access(os.path.join(control, script), os.X_OK), script)

    def check_unit(self):
        with open(UNIT) as f:
            unit = parse_unit(f.read())
        self.assertEqual(unit["ExecStart"], ["/usr/bin/ib-stream-server $DAEMON_ARGS"])
        self.assertEqual(unit["EnvironmentFile"], ["-/etc/ib-stream/env"])
        self.assertEqual(unit["StateDirectory"], ["ib-stream"])
        self.assertIn("IB_STREAM_DATA_DIR=%S/ib-stream", unit["Environment"])
        self.assertEqual(unit["DynamicUser"], ["yes"])
        self.assertEqual(unit["Restart"], ["on-failure"])
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
            self.assertEqual(unit[key], ["yes"], key)
        self.assertEqual(unit["ProtectSystem"], ["strict"])
        self.assertEqual(unit["RestrictAddressFamilies"], ["AF_INET AF_INET6 AF_UNIX"])
        if shutil.which("systemd-analyze") is None:
            print("systemd-analyze missing: the unit is not verified by systemd")
        else:
            r = run(["systemd-analyze", "verify", UNIT], check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return unit

    def run_installed_server(self, unit):
        """The unit's command and environment, with a temporary state directory."""
        state = os.path.join(self.tmp, "state")
        env = {}
        for assignment in unit.get("Environment", []):
            name, _, value = assignment.partition("=")
            env[name] = value.replace("%S", state)
        data_dir = env["IB_STREAM_DATA_DIR"]
        os.makedirs(data_dir)  # systemd creates StateDirectory=
        command = unit["ExecStart"][0].replace("$DAEMON_ARGS", "--simulate --listen 127.0.0.1:0")
        server = RunningServer(command.split(), clean_env(env))
        try:
            status, body = server.get("/health")
            self.assertEqual(status, 200, body)
            self.assertIn(json.loads(body)["status"], ("healthy", "degraded"))
            self.assertTrue(server.wait_ready(), "the simulator never became ready")
            self.assertEqual(json.loads(server.get("/health")[1])["status"], "healthy")
        finally:
            self.assertEqual(server.stop(), 0, server.stderr_text()[-2000:])

    def test_deb_installs_runs_and_purges(self):
        deb = self.build_deb()
        self.check_deb(deb)
        try:
            r = dpkg("-i", deb)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(installed(PACKAGE))
            unit = self.check_unit()
            with open("/etc/ib-stream/env") as f:
                self.assertIn("#IB_STREAM_LISTEN=", f.read())
            self.run_installed_server(unit)
        finally:
            r = dpkg("--purge", PACKAGE)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(installed(PACKAGE))
        for path in ["/usr/bin/ib-stream-server", UNIT, "/etc/ib-stream",
                     "/usr/share/doc/ib-stream"]:
            self.assertFalse(os.path.exists(path), f"{path} left after the purge")


if __name__ == "__main__":
    unittest.main()
