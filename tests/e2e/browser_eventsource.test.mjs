// The seed's browser client, unchanged, in a real browser: headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core) against
// `ib-stream-server --simulate` on 127.0.0.1:8000, the port the seed names.
//
//   - the JavaScript EventSource example of shared/seeds/sse-api-server-spec.md
//     (tests/integration/seed/browser_client.js, verbatim) runs in a page served
//     from another origin (so CORS is exercised too); its console must show 100
//     'Bid: <bid> Ask: <ask>' lines, each a quote of the seeded market, then
//     'Stream completed: limit_reached', and no error;
//   - EventSource's own reconnect: a page that does not close its EventSource
//     after `complete` reconnects (with Last-Event-ID), and the server resumes
//     the subscription right after the last tick id: three connections of
//     limit=20 give 60 ticks with ids strictly increasing by 1.
//
// Run from the repository root (after `npm ci`; port 8000 must be free):
//   IBS_BIN_DIR=build node --test tests/e2e/browser_eventsource.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import {
  CHROMIUM, ROOT, SERVER, dumpData, launchChromium, pageServer, portFree, sleep, startServer,
  stopProcess, waitReady, waitUntil,
} from "./lib/harness.mjs";

const SEED_JS = readFileSync(path.join(ROOT, "tests", "integration", "seed", "browser_client.js"),
                             "utf8");

const AAPL = 265598;
const PORT = 8000; // the port the seed's client names
const SIM_SEED = 3;
const SIM_RATE = 50;
const STREAM_TIMEOUT_MS = 40_000;

function dumpQuotes(count) {
  return dumpData({ conId: AAPL, count, seed: SIM_SEED, rate: SIM_RATE }, "BidAsk");
}

describe("seed EventSource client in headless Chromium", { timeout: 110_000 }, () => {
  let server;
  let browser;
  let pages;

  before(async () => {
    assert.ok(existsSync(SERVER), `${SERVER} not built (set IBS_BIN_DIR)`);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing (apt-get install chromium)`);
    assert.ok(await portFree(PORT),
              "port 8000 on 127.0.0.1 is in use: the seed's client names http://localhost:8000, " +
              "so this test needs it free");
    server = await startServer({ port: PORT, simSeed: SIM_SEED, simRate: SIM_RATE, clientId: 61 });
    await waitReady(PORT);
    browser = await launchChromium();
    pages = await pageServer("<!doctype html><title>page</title><body>");
  });

  after(async () => {
    if (browser) await browser.close();
    if (pages) pages.close();
    if (server) {
      const code = await stopProcess(server.proc);
      assert.equal(code, 0, `server exit code ${code}: ${server.stderr()}`);
    }
  });

  it("prints 100 quotes of the seeded market, then Stream completed: limit_reached", async () => {
    const expected = (await dumpQuotes(3000)).map((d) => `Bid: ${d.bid_price} Ask: ${d.ask_price}`);
    const page = await browser.newPage();
    const logs = [];
    const errors = [];
    page.on("console", (m) => {
      (m.type() === "error" ? errors : logs).push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${pages.address().port}/`);
    // the seed's example, verbatim, as a page script
    await page.addScriptTag({ content: SEED_JS });
    await waitUntil(() => logs.some((l) => l.startsWith("Stream completed:")) || errors.length,
                    STREAM_TIMEOUT_MS, "Stream completed");
    // give a wrongly still-open stream a moment to misbehave
    await sleep(300);
    assert.deepEqual(errors, []);
    const quotes = logs.filter((l) => l.startsWith("Bid:"));
    assert.equal(quotes.length, 100, logs.join("\n"));
    for (const q of quotes) assert.match(q, /^Bid: \d+(\.\d+)? Ask: \d+(\.\d+)?$/);
    assert.equal(logs[logs.length - 1], "Stream completed: limit_reached");
    assert.equal(logs.length, 101, logs.join("\n"));
    // a contiguous run of the seeded market's quotes
    const k = expected.indexOf(quotes[0]);
    let found = false;
    for (let start = k; start >= 0 && start + 100 <= expected.length;
         start = expected.indexOf(quotes[0], start + 1)) {
      if (quotes.every((q, i) => q === expected[start + i])) { found = true; break; }
    }
    assert.ok(found, `quotes not a contiguous run of the seeded market: ${quotes.slice(0, 3)}`);
    await page.close();
  });

  it("EventSource reconnects with Last-Event-ID and resumes without a gap", async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${pages.address().port}/`);
    await page.evaluate((aapl) => {
      window.ticks = [];
      window.infos = 0;
      window.completes = [];
      window.opens = 0;
      window.other = [];
      const es = new EventSource(`http://localhost:8000/stream/${aapl}/BidAsk?limit=20`);
      es.onopen = () => { window.opens += 1; };
      es.onmessage = (ev) => {
        const d = JSON.parse(ev.data);
        if (d.type === "tick") window.ticks.push({ id: ev.lastEventId, data: d.data });
        else if (d.type === "info") window.infos += 1;
        else if (d.type === "complete") {
          window.completes.push(d);
          if (window.completes.length === 3) es.close(); // else: the browser reconnects
        } else window.other.push(d);
      };
    }, AAPL);
    await page.waitForFunction(() => window.completes.length >= 3, null,
                               { timeout: STREAM_TIMEOUT_MS, polling: 50 });
    const got = await page.evaluate(() => ({ ticks: window.ticks, infos: window.infos,
                                             completes: window.completes, opens: window.opens,
                                             other: window.other }));
    assert.deepEqual(errors, []);
    assert.deepEqual(got.other, []);
    assert.equal(got.opens, 3);
    assert.equal(got.infos, 3);
    for (const c of got.completes) {
      assert.equal(c.reason, "limit_reached");
      assert.equal(c.total_ticks, 20);
    }
    assert.equal(got.ticks.length, 60);
    const ids = got.ticks.map((t) => Number(t.id));
    for (const id of ids) assert.ok(Number.isInteger(id), `tick id ${id}`);
    for (let i = 1; i < ids.length; i++) {
      assert.equal(ids[i], ids[i - 1] + 1, `gap or repeat at tick ${i}: ${ids.slice(0, i + 1)}`);
    }
    // the ticks across reconnects are the market's consecutive quotes too
    const expected = await dumpQuotes(3000);
    const key = (d) => `${d.bid_price}/${d.ask_price}/${d.bid_size}/${d.ask_size}`;
    const exp = expected.map(key).join("|");
    assert.ok(exp.includes(got.ticks.map((t) => key(t.data)).join("|")),
              "ticks across reconnects are not a contiguous run of the seeded market");
    await page.close();
  });
});
