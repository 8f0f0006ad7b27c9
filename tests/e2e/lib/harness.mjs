// Shared by the end-to-end tests (tests/e2e/*.test.mjs): where the built
// binaries are, starting and stopping `ib-stream-server --simulate`, the
// seeded market of `ib-tws-sim --dump`, headless Chromium and a page origin.
// (Not a test itself: tests/CMakeLists.txt registers only e2e/*.test.mjs.)
//
//   ROOT, BIN_DIR (IBS_BIN_DIR, default build/), SERVER, SIM, CHROMIUM (IBS_CHROMIUM)
//   START_TIMEOUT_MS
//   startServer({ port, simSeed, simRate, clientId, extraArgs })
//       -> { proc, info, port, stderr() }   (info: the parsed listening line)
//   stopProcess(proc) -> exit code (SIGTERM; SIGKILL after 15 s)
//   waitReady(port)   -> once GET /ready answers 200
//   portFree(port)    -> whether 127.0.0.1:port can be bound
//   simDump({ conId, count, seed, rate, startTime, timeoutMs })
//       -> every record `ib-tws-sim --dump` prints ({ tick_type, data, ... })
//   dumpData(opts, tickType) -> the `data` of the records of one tick type
//   launchChromium() -> a playwright-core Browser (headless Debian chromium)
//   pageServer(html)  -> an http.Server on 127.0.0.1:<free port> serving `html`
//   sleep(ms), waitUntil(cond, timeoutMs, what, intervalMs = 50)

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BIN_DIR = path.resolve(ROOT, process.env.IBS_BIN_DIR || "build");
export const SERVER = path.join(BIN_DIR, "ib-stream-server");
export const SIM = path.join(BIN_DIR, "ib-tws-sim");
export const CHROMIUM = process.env.IBS_CHROMIUM || "/usr/bin/chromium";

export const START_TIMEOUT_MS = 20_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every `intervalMs` until it is truthy; rejects after `timeoutMs`. */
export async function waitUntil(cond, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}

export function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * `ib-stream-server --simulate --listen 127.0.0.1:<port>` (port 0: a free one),
 * resolved once its stdout line says it listens (on `port` when one is named).
 */
export function startServer({ port = 0, simSeed, simRate, clientId, extraArgs = [] }) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SERVER, ["--simulate", "--listen", `127.0.0.1:${port}`,
                                "--sim-seed", String(simSeed), "--sim-rate", String(simRate),
                                "--client-id", String(clientId), ...extraArgs.map(String)],
                       { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`ib-stream-server did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    const rl = readline.createInterface({ input: proc.stdout });
    rl.once("line", (line) => {
      clearTimeout(timer);
      try {
        const info = JSON.parse(line);
        assert.equal(info.event, "listening");
        if (port !== 0) assert.equal(info.port, port);
        resolve({ proc, info, port: info.port, stderr: () => stderr });
      } catch (e) {
        proc.kill("SIGKILL");
        reject(e);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ib-stream-server exited (${code}) before listening: ${stderr}`));
    });
  });
}

export function stopProcess(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    proc.once("exit", (code) => { clearTimeout(timer); resolve(code); });
    proc.kill("SIGTERM");
  });
}

export async function waitReady(port) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ready`);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error("ib-stream-server never became ready");
}

/** `ib-tws-sim --dump`: the seeded market's records, as the simulator prints them. */
export function simDump({ conId, count, seed, rate, startTime, timeoutMs = 60_000 }) {
  const args = ["--dump", String(conId), "--count", String(count), "--seed", String(seed)];
  if (startTime !== undefined) args.push("--start-time", String(startTime));
  args.push("--rate", String(rate));
  return new Promise((resolve, reject) => {
    execFile(SIM, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 },
             (err, stdout, stderr) => {
               if (err) {
                 reject(new Error(`ib-tws-sim --dump failed: ${err.message}; stderr: ${stderr}`));
                 return;
               }
               resolve(stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)));
             });
  });
}

/** The `data` of the dumped records of one tick type. */
export async function dumpData(opts, tickType) {
  return (await simDump(opts)).filter((t) => t.tick_type === tickType).map((t) => t.data);
}

export function launchChromium() {
  // imported here so that tests without a browser do not need playwright-core
  return import("playwright-core").then(({ chromium }) => chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  }));
}

/** A page origin other than the API's: http://127.0.0.1:<port>/ serves `html`. */
export function pageServer(html) {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(html);
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}
