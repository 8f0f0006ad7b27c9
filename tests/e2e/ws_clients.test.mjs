// Independent WebSocket clients against ib-stream-server's WebSocket API
// (shared/spec/api.md §5), with `ib-stream-server --simulate` on a free port:
//
//   - Node's `ws` package speaking the seed's protocol
//     (shared/seeds/websocket-implementation-results.md, "Multi-stream: BidAsk +
//     Last simultaneously"): connect /ws/stream/265598/multi, send
//     multi_subscribe BidAsk+Last, route the ticks by request_id, then
//     unsubscribe_all and close;
//   - headless Chromium (Debian's /usr/bin/chromium via playwright-core): a page
//     from another origin uses the browser's native WebSocket, once on the
//     single-stream endpoint and once sending `subscribe` on /multi, and
//     receives N ticks then `complete`.
// Ticks are checked against the seeded market (`ib-tws-sim --dump`): prices and
// sizes of a contiguous run (the in-process simulator's clock is the wall clock,
// so times are compared for consistency only).
//
// Run from the repository root (after `npm ci`):
//   IBS_BIN_DIR=build node --test tests/e2e/ws_clients.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import WebSocket from "ws";

import {
  CHROMIUM, SERVER, dumpData, launchChromium, pageServer, sleep, startServer, stopProcess,
  waitReady,
} from "./lib/harness.mjs";

const AAPL = 265598;
const SIM_SEED = 5;
const SIM_RATE = 30;
const STREAM_TIMEOUT_MS = 40_000;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function dump(tickType, count) {
  return dumpData({ conId: AAPL, count, seed: SIM_SEED, rate: SIM_RATE }, tickType);
}

// The tick without its times (the in-process market runs on the wall clock).
function key(d) {
  const { timestamp, unix_time, ...rest } = d; // eslint-disable-line no-unused-vars
  return JSON.stringify(rest, Object.keys(rest).sort());
}

function assertContiguousRun(got, expected, what) {
  assert.ok(got.length > 0, `${what}: no ticks`);
  const exp = expected.map(key);
  const run = got.map(key);
  let found = false;
  for (let k = exp.indexOf(run[0]); k >= 0 && k + run.length <= exp.length;
       k = exp.indexOf(run[0], k + 1)) {
    if (run.every((r, i) => r === exp[k + i])) { found = true; break; }
  }
  assert.ok(found, `${what}: ${got.length} ticks are not a contiguous run of the seeded market; ` +
                   `first ${JSON.stringify(got[0])}`);
}

function checkTickData(d, tickType) {
  assert.equal(d.type, { BidAsk: "bid_ask", Last: "time_sales", AllLast: "time_sales",
                         MidPoint: "midpoint" }[tickType]);
  assert.ok(Number.isInteger(d.unix_time), JSON.stringify(d));
  assert.equal(d.timestamp, new Date(d.unix_time * 1000).toISOString().slice(0, 19)
    .replace("T", " "));
  if (tickType === "Last") assert.equal(d.tick_type, "Last");
}

// A `ws` client that keeps every parsed message and can wait for one.
class Client {
  constructor(url) {
    this.messages = [];
    this.waiters = [];
    this.closed = null;
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data, isBinary) => {
      assert.equal(isBinary, false, "server messages are text");
      this.messages.push(JSON.parse(data.toString("utf8")));
      this.poke();
    });
    this.ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.poke();
    });
  }

  poke() {
    for (const w of [...this.waiters]) w();
  }

  waitFor(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred(this);
        if (v) {
          cleanup();
          resolve(v);
        } else if (this.closed) {
          cleanup();
          reject(new Error(`closed (${this.closed.code}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; last messages: ` +
                         JSON.stringify(this.messages.filter((m) => m.type !== "tick").slice(-5))));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  reply(id, timeoutMs = 10_000) {
    return this.waitFor((c) => c.messages.find((m) => m.id === id), timeoutMs, `reply ${id}`);
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  ticks(requestId) {
    return this.messages.filter((m) => m.type === "tick" && m.request_id === requestId);
  }
}

describe("WebSocket clients: Node ws and the browser's WebSocket", { timeout: 150_000 }, () => {
  let server;
  let browser;
  let pages;
  const clients = [];

  before(async () => {
    assert.ok(existsSync(SERVER), `${SERVER} not built (set IBS_BIN_DIR)`);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing (apt-get install chromium)`);
    server = await startServer({ port: 0, simSeed: SIM_SEED, simRate: SIM_RATE, clientId: 62,
                                 extraArgs: ["--linger-ms", "300"] });
    assert.ok(server.port > 0 && server.port !== 8000, `port ${server.port}`);
    await waitReady(server.port);
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    if (browser) await browser.close();
    if (pages) pages.close();
    if (server) {
      const code = await stopProcess(server.proc);
      assert.equal(code, 0, `server exit code ${code}: ${server.stderr().slice(-3000)}`);
    }
  });

  it("ws: the seed protocol on /ws/stream/265598/multi (multi_subscribe BidAsk+Last)",
     async () => {
    const c = new Client(`ws://127.0.0.1:${server.port}/ws/stream/${AAPL}/multi`);
    clients.push(c);
    await c.opened;
    assert.match(c.ws.extensions, /permessage-deflate/, "ws offers permessage-deflate");
    const connected = await c.waitFor((x) => x.messages[0], 10_000, "connected");
    assert.equal(connected.type, "connected");
    assert.match(connected.timestamp, ISO);
    assert.equal(typeof connected.version, "string");
    assert.equal(connected.server_info.max_subscriptions_per_connection, 20);
    assert.equal(connected.server_info.max_concurrent_streams, 50);

    c.send({ type: "multi_subscribe", id: "seed-1",
             data: { contract_id: AAPL, tick_types: ["BidAsk", "Last"] } });
    const sub = await c.reply("seed-1", 15_000);
    assert.equal(sub.type, "multi_subscribed", JSON.stringify(sub));
    assert.match(sub.timestamp, ISO);
    assert.equal(sub.data.contract_id, AAPL);
    assert.deepEqual(sub.data.subscriptions.map((s) => s.tick_type), ["BidAsk", "Last"]);
    const rid = Object.fromEntries(sub.data.subscriptions.map((s) => [s.tick_type, s.request_id]));
    assert.notEqual(rid.BidAsk, rid.Last);

    await c.waitFor((x) => x.ticks(rid.BidAsk).length >= 20 && x.ticks(rid.Last).length >= 5,
                    STREAM_TIMEOUT_MS, "20 BidAsk and 5 Last ticks");
    // every tick is routed: its request_id names its subscription and tick type
    const routed = { [rid.BidAsk]: "BidAsk", [rid.Last]: "Last" };
    for (const m of c.messages.filter((x) => x.type === "tick")) {
      assert.ok(m.request_id in routed, JSON.stringify(m));
      assert.equal(m.tick_type, routed[m.request_id]);
      assert.equal(m.contract_id, AAPL);
      assert.match(m.timestamp, ISO);
      checkTickData(m.data, m.tick_type);
    }
    for (const t of ["BidAsk", "Last"]) {
      assertContiguousRun(c.ticks(rid[t]).map((m) => m.data), await dump(t, 6000), t);
    }

    c.send({ type: "unsubscribe_all", id: "seed-2" });
    const done = await c.reply("seed-2");
    assert.equal(done.type, "unsubscribed_all", JSON.stringify(done));
    assert.equal(done.data.unsubscribed_count, 2);
    const n = c.messages.filter((m) => m.type === "tick").length;
    await sleep(800);
    assert.equal(c.messages.filter((m) => m.type === "tick").length, n,
                 "no tick after unsubscribed_all");
    for (const m of c.messages) {
      assert.equal(typeof m.type, "string");
      assert.match(m.timestamp, ISO, JSON.stringify(m));
    }

    c.ws.close(1000, "bye");
    await c.waitFor((x) => x.closed, 5_000, "close");
    assert.equal(c.closed.code, 1000);
  });

  it("Chromium: native WebSocket on /ws/stream/{id}/BidAsk?limit=25 and subscribe on /multi",
     async () => {
    browser = await launchChromium();
    pages = await pageServer("<!doctype html><title>page</title><body>");
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${pages.address().port}/`);

    const N = 25;
    const got = await page.evaluate(([port, aapl, n, timeoutMs]) => new Promise((resolve) => {
      const out = { single: [], multi: [], closes: {} };
      const timer = setTimeout(() => resolve({ ...out, timedOut: true }), timeoutMs);
      let finished = 0;
      const finish = () => { if (++finished === 2) { clearTimeout(timer); resolve(out); } };

      // 1. the single-stream endpoint: subscribed at once
      const a = new WebSocket(`ws://127.0.0.1:${port}/ws/stream/${aapl}/BidAsk?limit=${n}`);
      a.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        out.single.push(m);
        if (m.type === "complete") { a.close(1000); }
      };
      a.onclose = (ev) => { out.closes.single = ev.code; finish(); };

      // 2. /multi: the page subscribes itself
      const b = new WebSocket(`ws://127.0.0.1:${port}/ws/stream/${aapl}/multi`);
      b.onopen = () => b.send(JSON.stringify({
        type: "subscribe", id: "page-1",
        data: { contract_id: aapl, tick_type: "MidPoint", params: { limit: n } } }));
      b.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        out.multi.push(m);
        if (m.type === "complete") b.close(1000);
      };
      b.onclose = (ev) => { out.closes.multi = ev.code; finish(); };
    }), [server.port, AAPL, N, STREAM_TIMEOUT_MS]);

    assert.deepEqual(errors, []);
    assert.ok(!got.timedOut, `page timed out: ${JSON.stringify(got).slice(0, 500)}`);
    for (const [name, msgs, tickType] of [["single", got.single, "BidAsk"],
                                          ["multi", got.multi, "MidPoint"]]) {
      const types = msgs.map((m) => m.type);
      assert.deepEqual(types, ["connected", "subscribed", ...Array(N).fill("tick"), "complete"],
                       `${name}: ${types.join(",")}`);
      const sub = msgs[1];
      if (name === "multi") assert.equal(sub.id, "page-1");
      assert.equal(sub.data.contract_id, AAPL);
      assert.equal(sub.data.tick_type, tickType);
      assert.equal(sub.data.contract_info.symbol, "AAPL");
      const ticks = msgs.slice(2, -1);
      for (const t of ticks) {
        assert.equal(t.request_id, sub.data.request_id);
        assert.equal(t.tick_type, tickType);
        checkTickData(t.data, tickType);
      }
      assertContiguousRun(ticks.map((t) => t.data), await dump(tickType, 6000), name);
      const complete = msgs[msgs.length - 1];
      assert.equal(complete.request_id, sub.data.request_id);
      assert.equal(complete.data.reason, "limit_reached");
      assert.equal(complete.data.total_ticks, N);
      assert.ok(complete.data.duration_seconds > 0);
      assert.equal(got.closes[name], 1000, `${name} close code`);
    }
    await page.close();
  });
});
