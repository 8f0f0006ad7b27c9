// The API reference page (/docs, built from docs/openapi.json by
// `redocly build-docs` at build time) in a real browser: headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core, a fresh profile)
// against `ib-stream-server --simulate` with an API key (the page needs
// none). Every request outside 127.0.0.1 is blocked and recorded: the page
// must load with no console error, no page error and no request outside,
// and show the endpoints. A screenshot goes to <build dir>/docs-page.png.
//
// Run from the repository root (after `npm ci`):
//   IBS_BIN_DIR=build node --test tests/e2e/docs_page.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { BIN_DIR, CHROMIUM, ROOT, SERVER, launchChromium, sleep, startServer, stopProcess }
  from "./lib/harness.mjs";

const KEY = "docs-page-test-key";
const DOC = JSON.parse(readFileSync(path.join(ROOT, "docs", "openapi.json"), "utf8"));

describe("/docs in headless Chromium, offline", { timeout: 90_000 }, () => {
  let server;
  let browser;

  before(async () => {
    assert.ok(existsSync(SERVER), `${SERVER} not built (set IBS_BIN_DIR)`);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing (apt-get install chromium)`);
    server = await startServer({ simSeed: 1, simRate: 4, clientId: 63,
                                 extraArgs: ["--api-key", KEY] });
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) {
      const code = await stopProcess(server.proc);
      assert.equal(code, 0, `server exit code ${code}: ${server.stderr()}`);
    }
  });

  it("is one HTML page served without the API key", async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/docs`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/html/);
    const html = await r.text();
    assert.doesNotMatch(html, /<script[^>]+src=["']?https?:/i, "a script from the network");
    assert.doesNotMatch(html, /<link[^>]+href=["']?https?:/i, "a style sheet or font from the network");
    assert.doesNotMatch(html, /fonts\.googleapis|fonts\.gstatic/, "web fonts from Google");
  });

  it("loads with no console error and no request outside 127.0.0.1, and shows the API", async () => {
    const context = await browser.newContext();
    const outside = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("requestfailed", (req) => {
      if (new URL(req.url()).hostname === "127.0.0.1") errors.push(`failed: ${req.url()}`);
    });

    const response = await page.goto(`http://127.0.0.1:${server.port}/docs`, { waitUntil: "load" });
    assert.equal(response.status(), 200);
    await page.waitForFunction(() => document.body.innerText.includes("Streams"), null,
                               { timeout: 20_000 });
    await sleep(1000); // late script errors and requests
    const text = await page.evaluate(() => document.body.innerText);
    await page.screenshot({ path: path.join(BIN_DIR, "docs-page.png"), fullPage: false });

    assert.deepEqual(outside, [], "requests outside 127.0.0.1");
    assert.deepEqual(errors, [], "console or page errors");
    assert.match(text, /ib-stream/);
    for (const tag of DOC.tags) assert.ok(text.includes(tag.name), `tag ${tag.name} in the menu`);

    // each tag's page (the page routes by the URL's hash) lists its operations
    const summaries = {};
    for (const item of Object.values(DOC.paths)) {
      for (const method of ["get", "post", "delete"]) {
        const op = item[method];
        if (op) (summaries[op.tags[0]] ??= []).push(op.summary);
      }
    }
    for (const tag of DOC.tags) {
      await page.evaluate((t) => { window.location.hash = `#/${t.toLowerCase()}`; }, tag.name);
      for (const summary of summaries[tag.name] ?? []) {
        await page.waitForFunction((s) => document.body.innerText.includes(s), summary,
                                   { timeout: 10_000 })
          .catch(() => assert.fail(`"${summary}" not shown under ${tag.name}`));
      }
    }
    await page.evaluate(() => { window.location.hash = "#/streams"; });
    await page.waitForFunction(() => document.body.innerText.includes("/stream/{contract_id}"),
                               null, { timeout: 10_000 });
    await page.screenshot({ path: path.join(BIN_DIR, "docs-page-streams.png") });
    assert.deepEqual(outside, [], "requests outside 127.0.0.1 after navigating");
    assert.deepEqual(errors, [], "console or page errors after navigating");
    await context.close();
  });
});
