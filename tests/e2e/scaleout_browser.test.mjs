// The scale-out as README "Scale-out" sets it up on one machine, with a real
// browser: nats-server -js, ib-tws-sim, two publishers (distinct TWS client
// ids; one leads), two edges, and scripts/edge-proxy.mjs in front of the
// edges. A page in headless Chromium (playwright-core, Debian's chromium)
// reads /stream/265598/BidAsk through the proxy with a plain EventSource:
//
//   - its edge is killed: EventSource reconnects (through the proxy, to the
//     other edge, with Last-Event-ID) and the ids go on with no gap and no
//     duplicate;
//   - the leading publisher is killed: the standby takes over, the page gets
//     `info` reconnected, and the ids go on increasing.
//
// Run from the repository root (after `npm ci`):
//   IBS_BIN_DIR=build node --test tests/e2e/scaleout_browser.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import {
  CHROMIUM, ROOT, SERVER, SIM, launchChromium, sleep, stopProcess,
} from "./lib/harness.mjs";

const NATS_SERVER = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
  .find(existsSync);
const AAPL = 265598;

/** Spawns `cmd`; resolves with its first stdout line parsed as JSON. */
function spawnListening(cmd, args, name) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${name} did not listen: ${stderr}`));
    }, 20_000);
    readline.createInterface({ input: proc.stdout }).once("line", (line) => {
      clearTimeout(timer);
      resolve({ proc, info: JSON.parse(line), stderr: () => stderr, name });
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening: ${stderr}`));
    });
  });
}

async function waitHttp(url, pred, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (await pred(r)) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("a browser stream through two edges and two publishers", { timeout: 150_000 },
         () => {
  const procs = [];
  const dirs = [];
  let nats;
  let browser;

  const tmp = (name) => {
    const d = mkdtempSync(path.join(os.tmpdir(), `ibs-${name}-`));
    dirs.push(d);
    return d;
  };

  async function node(role, name, extra) {
    const p = await spawnListening(SERVER, [
      "--listen", "127.0.0.1:0", "--nats", `nats://127.0.0.1:${nats.port}`, "--role", role,
      "--node-name", name, "--data-dir", tmp(name), ...extra,
    ], name);
    p.port = p.info.port;
    procs.push(p);
    return p;
  }

  before(async () => {
    assert.ok(existsSync(SERVER), `${SERVER} not built (set IBS_BIN_DIR)`);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing (apt-get install chromium)`);
    assert.ok(NATS_SERVER, "nats-server missing (apt-get install nats-server)");
    // nats-server on a free port: take one from the OS first.
    const { createServer } = await import("node:net");
    const port = await new Promise((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const natsProc = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd",
                                         tmp("nats")], { stdio: "ignore" });
    nats = { proc: natsProc, port, name: "nats-server", stderr: () => "" };
    procs.push(nats);
    const sim = await spawnListening(SIM, ["--port", "0", "--seed", "5", "--rate", "40"], "sim");
    procs.push(sim);
    const tws = ["--ports", String(sim.info.port)];
    const leader = await node("publisher", "pub-a", [...tws, "--client-id", "71",
                                                     "--lease-ms", "1500"]);
    await waitHttp(`http://127.0.0.1:${leader.port}/ready`, (r) => r.status === 200,
                   "pub-a to lead");
    await node("publisher", "pub-b", [...tws, "--client-id", "72", "--lease-ms", "1500"]);
    for (const name of ["edge-1", "edge-2"]) {
      const e = await node("edge", name, []);
      await waitHttp(`http://127.0.0.1:${e.port}/ready`, (r) => r.status === 200,
                     `${name} to hear the publisher`);
    }
    const edges = procs.filter((p) => p.name.startsWith("edge-"));
    const proxy = await spawnListening(process.execPath, [
      path.join(ROOT, "scripts", "edge-proxy.mjs"), "--listen", "127.0.0.1:0",
      ...edges.map((e) => `127.0.0.1:${e.port}`),
    ], "edge-proxy");
    procs.push(proxy);
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    for (const p of procs.reverse()) await stopProcess(p.proc);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("survives the loss of its edge and of the leading publisher", async () => {
    const byName = (n) => procs.find((p) => p.name === n);
    const proxy = byName("edge-proxy");
    const page = await browser.newPage();
    // Same origin as the API (through the proxy): a JSON page to stand on.
    await page.goto(`http://127.0.0.1:${proxy.info.port}/health`);
    await page.evaluate((contract) => {
      window.events = [];
      const es = new EventSource(`/stream/${contract}/BidAsk`);
      es.onmessage = (e) => {
        const data = JSON.parse(e.data);
        window.events.push({ id: data.type === "tick" ? Number(e.lastEventId) : null, data });
      };
    }, AAPL);
    const events = () => page.evaluate(() => window.events);
    const ticks = async () => (await events()).filter((e) => e.data.type === "tick");
    const waitTicks = async (n, what) => {
      const deadline = Date.now() + 40_000;
      while ((await ticks()).length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    await waitTicks(20, "20 ticks");

    // The edge the proxy chose (the first that accepts: edge-1) dies.
    const edge1 = byName("edge-1");
    edge1.proc.kill("SIGKILL");
    const before = (await ticks()).length;
    await waitTicks(before + 30, "ticks through the other edge");
    let ids = (await ticks()).map((t) => t.id);
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i),
                     "through the edge's loss: every id once, in order (no gap, no duplicate)");

    // The leading publisher dies; the standby takes over.
    byName("pub-a").proc.kill("SIGKILL");
    const deadline = Date.now() + 40_000;
    while (!(await events()).some((e) => e.data.type === "info" &&
                                         e.data.info.code === "reconnected")) {
      if (Date.now() > deadline) throw new Error("no `reconnected` after the leader's loss");
      await sleep(100);
    }
    const n = (await ticks()).length;
    await waitTicks(n + 20, "ticks from the new leader");
    ids = (await ticks()).map((t) => t.id);
    assert.equal(new Set(ids).size, ids.length, "no duplicate id");
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), "ids keep increasing");
    const health = await (await fetch(`http://127.0.0.1:${byName("pub-b").port}/health`)).json();
    assert.equal(health.nats.leader, true, "pub-b leads now");
  });
});
