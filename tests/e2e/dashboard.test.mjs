// The dashboard (/dashboard, web/dashboard/) in a real browser: headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against
// `ib-stream-server --simulate` on a free port.
//
//   - without a key: the page loads with no console error and asks nothing
//     of any origin but the server; the tables show /health, /stream/active
//     (the same streams) and /tracked; choosing AAPL (then 265598) the chart
//     draws the record's last hour (AAPL is tracked) and then live quotes and
//     trades from the simulator; the cumulative delta line is fed by the
//     server's study stream when GET / lists it, else the page says "delta
//     unavailable"; a screenshot goes to <build>/dashboard.png;
//   - with --api-key: the page asks for the key in its form, says so when a
//     key is refused, streams with the right one, and keeps it for a reload.
//
// Run from the repository root (after `npm ci`):
//   IBS_BIN_DIR=build node --test tests/e2e/dashboard.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  BIN_DIR, CHROMIUM, SERVER, launchChromium, startServer, stopProcess, waitReady,
} from "./lib/harness.mjs";

const AAPL = 265598;
const SIM_RATE = 20;
const WAIT_MS = 20_000;
const API_KEY = "dashboard-test-key";

/** A page of the dashboard with its console errors and every URL it requested. */
async function openDashboard(browser, origin) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors = [];
  const requests = [];
  // "<text> @ <url>": the browser's own notes of failed requests name the URL
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`${origin}/dashboard`);
  await page.waitForFunction(() => window.ibsDashboard !== undefined, null, { timeout: WAIT_MS });
  return { page, errors, requests };
}

const stats = (page) => page.evaluate(() => window.ibsDashboard.stats());

async function waitStats(page, cond, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const s = await stats(page);
    if (cond(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function choose(page, contract) {
  await page.fill("#contract-input", contract);
  await page.click("#contract-form button[type=submit]");
}

function onlyServer(requests, origin) {
  const foreign = requests.filter((u) => /^(https?|wss?):/.test(u) && !u.startsWith(`${origin}/`));
  assert.deepEqual(foreign, [], "requests to anything but the server");
}

describe("dashboard", { timeout: 120_000 }, () => {
  let server;
  let browser;
  let origin;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ibs-dashboard-"));

  before(async () => {
    assert.ok(existsSync(SERVER), `${SERVER} not built (set IBS_BIN_DIR)`);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing (apt-get install chromium)`);
    server = await startServer({ simSeed: 5, simRate: SIM_RATE, clientId: 71,
                                 extraArgs: ["--data-dir", dataDir, "--track", `${AAPL}:BidAsk,Last`] });
    origin = `http://127.0.0.1:${server.port}`;
    await waitReady(server.port);
    // something recorded for the chart's last hour
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const t = await (await fetch(`${origin}/tracked`)).json();
      if (t.tracked.length === 2 && t.tracked.every((s) => s.ticks_recorded > 0)) break;
      assert.ok(Date.now() < deadline, `nothing recorded: ${JSON.stringify(t)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) {
      const code = await stopProcess(server.proc);
      assert.equal(code, 0, `server exit code ${code}: ${server.stderr()}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is served with its assets, without a key, as HTML, JS and CSS", async () => {
    for (const [p, type] of [["/dashboard", "text/html"], ["/dashboard/dashboard.js", "text/javascript"],
                             ["/dashboard/dashboard.css", "text/css"],
                             ["/dashboard/lightweight-charts.js", "text/javascript"]]) {
      const r = await fetch(`${origin}${p}`);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get("content-type"), `${type}; charset=utf-8`, p);
      assert.ok((await r.text()).length > 100, p);
    }
  });

  it("shows the server, streams live ticks of AAPL into the chart, matches /stream/active",
     async () => {
       const { page, errors, requests } = await openDashboard(browser, origin);
       await page.waitForSelector("#tws-state[data-state=ok]", { timeout: WAIT_MS });
       assert.match(await page.textContent("#tws-state"), /TWS connected/);
       assert.match(await page.textContent("#uptime"), /^up \d\d:\d\d:\d\d/);
       assert.equal(await page.textContent("#recorder-state"), "recorder ok");
       const trackedRows = await page.$$eval("#tracked-table tbody tr",
                                             (rows) => rows.map((r) => r.dataset.tickType).sort());
       assert.deepEqual(trackedRows, ["BidAsk", "Last"]);

       await choose(page, "AAPL");
       let s = await waitStats(page, (x) => x.bidask >= 5 && x.trades >= 2, "live ticks");
       assert.equal(s.contract_id, AAPL);
       assert.ok(s.history_bidask > 0 && s.history_trades > 0, `history drawn: ${JSON.stringify(s)}`);
       assert.match(await page.textContent("#contract-label"), /AAPL STK .* id 265598/);
       assert.ok(await page.$("#chart canvas"), "the chart draws on a canvas");

       // the cumulative delta: the server's study stream, when the server has it
       const delta = await fetch(`${origin}/studies/${AAPL}/delta?limit=1`);
       await delta.body.cancel();
       const hasDelta = delta.status === 200;
       if (hasDelta) {
         s = await waitStats(page, (x) => x.delta_points > 0 && x.delta === "live", "delta points");
         assert.match(await page.textContent("#delta-status"), /^cumulative delta -?[\d,.]+$/);
       } else {
         assert.equal(delta.status, 404);
         s = await waitStats(page, (x) => x.delta === "unavailable", "delta unavailable");
         assert.equal(await page.textContent("#delta-status"), "delta unavailable");
       }

       // the stream table: the streams of GET /stream/active, no more, no fewer
       const rows = await page.evaluate(async () => {
         await window.ibsDashboard.refresh();
         return [...document.querySelectorAll("#streams-table tbody tr")]
           .map((r) => `${r.dataset.contractId}:${r.dataset.tickType}`).sort();
       });
       const active = await (await fetch(`${origin}/stream/active`)).json();
       assert.deepEqual(rows, active.streams.map((x) => `${x.contract_id}:${x.tick_type}`).sort());
       assert.ok(rows.includes(`${AAPL}:BidAsk`) && rows.includes(`${AAPL}:Last`), rows.join());
       // the page's own two streams are among the clients
       const clients = await page.$$eval("#clients-table tbody tr[data-client-id]", (r) => r.length);
       assert.ok(clients >= 2, `clients shown: ${clients}`);

       await page.waitForTimeout(2500); // a little more of the market on the picture
       await page.screenshot({ path: path.join(BIN_DIR, "dashboard.png"), fullPage: true });

       // an id works as well as a spec
       await choose(page, String(AAPL));
       s = await waitStats(page, (x) => x.contract_id === AAPL && x.bidask >= 2, "ticks by id");

       // a contract the simulator does not have: said on the page
       await choose(page, "NOSUCHSYMBOL");
       await page.waitForFunction(() => /NOSUCHSYMBOL/.test(
         document.getElementById("chart-message").textContent) &&
         !/looking up/.test(document.getElementById("chart-message").textContent), null,
                                  { timeout: WAIT_MS });
       // no console error but the browser's notes of that lookup's 404 (and of the
       // delta stream's, on a server without it)
       const expected404 = (e) => /status of 404/.test(e) &&
         (/ @ \S*\/contracts\/NOSUCHSYMBOL$/.test(e) || (!hasDelta && / @ \S*\/studies\//.test(e)));
       assert.deepEqual(errors.filter((e) => !expected404(e)), []);
       assert.ok(errors.length >= 1, "the 404 of NOSUCHSYMBOL");
       onlyServer(requests, origin);
       await page.close();
     });
});

describe("dashboard with an API key", { timeout: 120_000 }, () => {
  let server;
  let browser;
  let origin;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ibs-dashboard-key-"));

  before(async () => {
    server = await startServer({ simSeed: 6, simRate: SIM_RATE, clientId: 72,
                                 extraArgs: ["--data-dir", dataDir, "--api-key", API_KEY] });
    origin = `http://127.0.0.1:${server.port}`;
    await waitReady(server.port);
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) {
      const code = await stopProcess(server.proc);
      assert.equal(code, 0, `server exit code ${code}: ${server.stderr()}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("asks for the key in its form, refuses a wrong one, streams with the right one", async () => {
    const { page, errors, requests } = await openDashboard(browser, origin);
    await page.waitForSelector("#key-form:not([hidden])", { timeout: WAIT_MS });
    assert.equal(await stats(page).then((s) => s.refreshes), 0);

    await page.fill("#key-input", "not-the-key");
    await page.click("#key-form button[type=submit]");
    await page.waitForFunction(() => /refused/.test(document.getElementById("key-message").textContent)
                               && !document.getElementById("key-form").hidden, null,
                               { timeout: WAIT_MS });

    await page.fill("#key-input", API_KEY);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#tws-state[data-state=ok]", { timeout: WAIT_MS });
    assert.equal(await page.isHidden("#key-form"), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("ibs_api_key")), API_KEY);

    await choose(page, "AAPL");
    await waitStats(page, (x) => x.bidask >= 3 && x.trades >= 1, "live ticks with the key");
    const streams = requests.filter((u) => /\/(stream|studies)\/265598\//.test(u));
    assert.ok(streams.length >= 3 && streams.every((u) => u.includes(`api_key=${API_KEY}`)),
              streams.join("\n"));

    // a reload keeps the key: no form
    await page.reload();
    await page.waitForSelector("#tws-state[data-state=ok]", { timeout: WAIT_MS });
    assert.equal(await page.isHidden("#key-form"), true);

    // the only console errors are the browser's notes of the two 401 answers
    // (and of the delta stream's 404, on a server without it)
    const noted = (e) => /status of 401/.test(e) || /status of 404.* @ \S*\/studies\//.test(e);
    assert.deepEqual(errors.filter((e) => !noted(e)), []);
    assert.equal(errors.filter((e) => /status of 401/.test(e)).length, 2, errors.join("\n"));
    onlyServer(requests, origin);
    await page.close();
  });
});
