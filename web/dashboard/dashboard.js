// ib-stream dashboard (served at /dashboard): the server's state every 2 s
// (GET /health, /stream/active, /tracked) and a live chart of one contract:
// bid/ask lines, trades as points, volume, and the cumulative delta that the
// server computes (GET /studies/{contract}/delta). The chart starts from the
// record's last hour when the contract is tracked (GET /history/...), then
// follows the SSE streams (/stream/{contract}/BidAsk and /Last), resuming
// right after the last recorded tick. With an API key the page asks for it
// once (a form), keeps it in sessionStorage, and sends it as
// `Authorization: Bearer` on fetches and as `api_key` on EventSources.
//
// window.ibsDashboard: { stats(), select(contract), refresh() } for tests and
// the console. Plain script; needs the global LightweightCharts.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const HISTORY_PAGE = 50000;   // ticks per /history page
  const HISTORY_PAGES = 4;      // at most this many pages per tick type
  const KEY_STORAGE = "ibs_api_key";
  const $ = (id) => document.getElementById(id);

  // ---- API key and requests ------------------------------------------------

  let apiKey = sessionStorage.getItem(KEY_STORAGE) || "";
  let waitingForKey = false;

  class AuthRequired extends Error {}

  function askForKey(message) {
    waitingForKey = true;
    $("key-message").textContent = message || "";
    $("key-form").hidden = false;
    $("key-input").focus();
  }

  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    apiKey = $("key-input").value.trim();
    sessionStorage.setItem(KEY_STORAGE, apiKey);
    $("key-input").value = "";
    $("key-form").hidden = true;
    waitingForKey = false;
    start();
  });

  /** GET `path` as JSON; { status, body } for 2xx and 404, AuthRequired on 401. */
  async function getJson(path) {
    const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
    const r = await fetch(path, { headers, cache: "no-store" });
    if (r.status === 401) {
      askForKey(apiKey ? "That key was refused: enter the server's API key." : "");
      throw new AuthRequired("API key required");
    }
    let body = null;
    try { body = await r.json(); } catch { /* not JSON */ }
    if (!r.ok && r.status !== 404) {
      const msg = body && body.error ? `${body.error.code}: ${body.error.message}` : r.statusText;
      throw new Error(`${path}: ${r.status} ${msg}`);
    }
    return { status: r.status, body };
  }

  /** A URL for EventSource: the key goes in the query (EventSource sends no headers). */
  function sseUrl(path, params = {}) {
    const q = new URLSearchParams(params);
    if (apiKey) q.set("api_key", apiKey);
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  // ---- formatting and tables -----------------------------------------------

  function uptimeText(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
    const pad = (n) => String(n).padStart(2, "0");
    return (d ? `${d}d ` : "") + `${pad(h)}:${pad(m)}:${pad(sec)}`;
  }
  const timeText = (iso) => (iso ? String(iso).replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "");
  const num = (v, digits = 0) =>
    typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: digits }) : "";

  /** Replaces a table's rows: each row is [cells, attributes]; a cell is text or {text, cls, state}. */
  function fillTable(table, rows, emptyText) {
    const body = table.tBodies[0];
    const fresh = document.createElement("tbody");
    if (!rows.length) {
      const td = document.createElement("td");
      td.colSpan = table.tHead.rows[0].cells.length;
      td.className = "empty";
      td.textContent = emptyText;
      fresh.insertRow().appendChild(td);
    }
    for (const [cells, attrs] of rows) {
      const tr = fresh.insertRow();
      for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
      for (const c of cells) {
        const td = tr.insertCell();
        const cell = typeof c === "object" && c !== null ? c : { text: c };
        td.textContent = cell.text === undefined || cell.text === null ? "" : String(cell.text);
        if (cell.cls) td.className = cell.cls;
        if (cell.state) td.dataset.state = cell.state;
      }
    }
    table.replaceChild(fresh, body);
  }

  function setBadge(el, text, state) {
    el.textContent = text;
    el.dataset.state = state;
  }

  // ---- the server's state --------------------------------------------------

  let tracked = [];       // GET /tracked's `tracked`
  let refreshTimer = null;

  function renderHealth(h) {
    const up = h.tws_connected;
    const where = h.tws && h.tws.port ? `${h.tws.host}:${h.tws.port}` : (h.tws ? h.tws.host : "");
    setBadge($("tws-state"), `TWS ${up ? "connected" : "disconnected"}${where ? " " + where : ""}`,
             up ? (h.status === "healthy" ? "ok" : "warn") : "bad");
    $("tws-state").title = up ? `since ${h.tws.connected_since || "?"}; reconnects ${h.tws.reconnects}`
                              : (h.tws && h.tws.last_error) || "";
    $("uptime").textContent = `up ${uptimeText(h.uptime_seconds || 0)} · ${h.active_streams}/` +
                              `${h.max_streams} streams · ${h.clients} clients`;
  }

  function renderActive(a) {
    const streams = [...a.streams].sort((x, y) => x.contract_id - y.contract_id ||
                                                  x.tick_type.localeCompare(y.tick_type));
    fillTable($("streams-table"), streams.map((s) => [[
      s.contract_id, s.tick_type, { text: s.state, state: s.state }, { text: num(s.rate, 1), cls: "num" },
      { text: num(s.ticks), cls: "num" }, { text: s.clients, cls: "num" }, s.tracked ? "yes" : "",
      timeText(s.started),
    ], { "data-contract-id": s.contract_id, "data-tick-type": s.tick_type }]), "no streams");
    $("streams-count").textContent = `${streams.length}`;
    fillTable($("clients-table"), a.clients.map((c) => [[
      c.id, c.transport, c.remote, `${c.contract_id} ${c.tick_type}`,
      { text: num(c.ticks_sent), cls: "num" }, { text: num(c.dropped), cls: "num" }, timeText(c.started),
    ], { "data-client-id": c.id }]), "no clients");
    $("clients-count").textContent = `${a.clients.length}`;
  }

  function renderTracked(t) {
    tracked = t.tracked || [];
    const rec = t.recorder || {};
    setBadge($("recorder-state"), rec.status === "ok" ? "recorder ok" : `recorder ${rec.status}`,
             rec.status === "ok" ? "ok" : "bad");
    $("recorder-detail").textContent =
      `${rec.message || ""} · ${num(rec.pending_ticks)} ticks pending · data dir ${rec.data_dir || ""}`;
    fillTable($("tracked-table"), tracked.map((s) => [[
      s.contract_id, s.tick_type, { text: s.state + (s.error ? `: ${s.error}` : ""), state: s.state },
      { text: num(s.ticks_recorded), cls: "num" }, { text: num(s.ticks_backfilled), cls: "num" },
      timeText(s.last_tick_time),
      { text: s.recorder_lag ? `${num(s.recorder_lag.ticks)} (${num(s.recorder_lag.seconds, 1)} s)` : "",
        cls: "num" },
      { text: s.gaps ? s.gaps.open : "", cls: "num" },
    ], { "data-contract-id": s.contract_id, "data-tick-type": s.tick_type }]), "nothing is recorded");
  }

  async function refresh() {
    if (waitingForKey) return;
    try {
      const [h, a, t] = await Promise.all(["/health", "/stream/active", "/tracked"].map(getJson));
      renderHealth(h.body);
      renderActive(a.body);
      renderTracked(t.body);
      $("refresh-error").hidden = true;
      stats.refreshes += 1;
    } catch (e) {
      if (e instanceof AuthRequired) return;
      $("refresh-error").textContent = `refresh failed: ${e.message}`;
      $("refresh-error").hidden = false;
      setBadge($("tws-state"), "server unreachable", "bad");
    }
  }

  // ---- the chart -----------------------------------------------------------

  const stats = { bidask: 0, trades: 0, delta_points: 0, history_bidask: 0, history_trades: 0,
                  refreshes: 0, contract_id: null, delta: "none" };
  let chart = null;
  let series = null;
  let view = null;  // the chosen contract: { id, sources: [EventSource], last: {...} }

  function makeChart() {
    const LC = window.LightweightCharts;
    chart = LC.createChart($("chart"), {
      autoSize: true,
      layout: { background: { color: "#161c23" }, textColor: "#8a96a3" },
      grid: { vertLines: { color: "#1f2730" }, horzLines: { color: "#1f2730" } },
      timeScale: { timeVisible: true, secondsVisible: true, borderColor: "#2a323c",
                   barSpacing: 10, rightOffset: 4 },
      rightPriceScale: { borderColor: "#2a323c", scaleMargins: { top: 0.05, bottom: 0.25 } },
      leftPriceScale: { visible: true, borderColor: "#2a323c", scaleMargins: { top: 0.05, bottom: 0.25 } },
    });
    const line = (color, extra) => chart.addSeries(LC.LineSeries, {
      color, lineWidth: 2, priceLineVisible: false, lastValueVisible: true, ...extra });
    series = {
      bid: line("#3d8bfd"),
      ask: line("#e5534b"),
      trade: line("#f2c94c", { lineVisible: false, pointMarkersVisible: true, pointMarkersRadius: 3,
                               crosshairMarkerVisible: false }),
      volume: chart.addSeries(LC.HistogramSeries, { color: "#5c6b7a", priceScaleId: "volume",
                                                    priceFormat: { type: "volume" },
                                                    lastValueVisible: false, priceLineVisible: false }),
      delta: line("#b48ef0", { priceScaleId: "left", lineWidth: 1 }),
    };
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  }

  function clearChart() {
    for (const s of Object.values(series)) s.setData([]);
  }

  /** One point a second per series: the last value of that second (volume: the sum). */
  function put(key, time, value, add = false) {
    const last = view.last[key];
    if (last && time < last.time) return false;  // older than the chart: skip
    const v = add && last && last.time === time ? last.value + value : value;
    view.last[key] = { time, value: v };
    series[key].update({ time, value: v });
    return true;
  }

  /** Aggregates recorded ticks into per-second points and sets them as the series' data. */
  function seed(key, points, add = false) {
    const byTime = new Map();
    for (const [t, v] of points) byTime.set(t, add && byTime.has(t) ? byTime.get(t) + v : v);
    const data = [...byTime].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
    if (!data.length) return;
    series[key].setData(data);
    view.last[key] = data[data.length - 1];
  }

  function onQuote(d) {
    if (!(d.bid_price > 0 && d.ask_price > 0)) return;
    put("bid", d.unix_time, d.bid_price);
    put("ask", d.unix_time, d.ask_price);
  }

  function onTrade(d) {
    put("trade", d.unix_time, d.price);
    put("volume", d.unix_time, d.size, true);
  }

  /**
   * Draws the record's last hour of one tick type; returns the SSE id of its
   * last tick (the live stream resumes right after it), or null when nothing
   * is recorded.
   */
  async function loadHistory(v, type) {
    const ticks = [];
    let params = new URLSearchParams({ duration: "1h", limit: HISTORY_PAGE });
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const r = await getJson(`/history/${v.id}/${type}?${params}`);
      if (r.status === 404 || v !== view) return null;  // nothing recorded
      for (const t of r.body.ticks) ticks.push(t);
      if (!r.body.next) break;
      params = new URLSearchParams({ cursor: r.body.next, limit: HISTORY_PAGE });
    }
    if (type === "BidAsk") {
      const q = ticks.filter((d) => d.bid_price > 0 && d.ask_price > 0);
      seed("bid", q.map((d) => [d.unix_time, d.bid_price]));
      seed("ask", q.map((d) => [d.unix_time, d.ask_price]));
      stats.history_bidask += ticks.length;
    } else {
      seed("trade", ticks.map((d) => [d.unix_time, d.price]));
      seed("volume", ticks.map((d) => [d.unix_time, d.size]), true);
      stats.history_trades += ticks.length;
    }
    const lastTick = ticks[ticks.length - 1];
    return lastTick ? (lastTick.sub ? `${lastTick.seq}.${lastTick.sub}` : String(lastTick.seq)) : null;
  }

  function openStream(v, type, lastId) {
    const params = { timeout: 3600 };
    if (lastId) params.last_event_id = lastId;
    const es = new EventSource(sseUrl(`/stream/${v.id}/${type}`, params));
    v.sources.push(es);
    es.onmessage = (ev) => {
      if (v !== view) return;
      const m = JSON.parse(ev.data);
      if (m.type === "tick") {
        if (type === "BidAsk") { stats.bidask += 1; onQuote(m.data); }
        else { stats.trades += 1; onTrade(m.data); }
      } else if (m.type === "info" && m.info && m.info.contract) {
        const c = m.info.contract;
        $("contract-label").textContent =
          `${c.symbol} ${c.sec_type} ${c.local_symbol || ""} ${c.exchange} ${c.currency} · id ${m.contract_id}`;
      } else if (m.type === "error") {
        $("chart-message").textContent = `${type}: ${m.error.code} ${m.error.message}`;
      }
    };
  }

  /**
   * The cumulative delta line, from the server's multi-delta study stream
   * (`trade` events; a reconnect starts a new study, which redraws the line).
   * A server without that stream (404) leaves "delta unavailable".
   */
  function openDelta(v) {
    const status = (text, state) => { $("delta-status").textContent = text; stats.delta = state; };
    status("delta: connecting", "connecting");
    const es = new EventSource(sseUrl(`/studies/${v.id}/delta`, { duration: "1h", timeout: 3600 }));
    v.sources.push(es);
    let opened = false;
    es.onopen = () => { opened = true; };
    es.onmessage = (ev) => {
      if (v !== view) return;
      const m = JSON.parse(ev.data);
      if (m.type === "info" && m.info && m.info.code === "started") {
        series.delta.setData([]);  // a new study: from zero (or the record) again
        v.last.delta = null;
        status("delta: waiting for a trade", "connecting");
      } else if (m.type === "trade" && m.data && m.data.summary) {
        const d = m.data;
        if (typeof d.summary.cumulative_delta !== "number" || !d.current_trade) return;
        put("delta", d.current_trade.unix_time, d.summary.cumulative_delta);
        stats.delta_points += 1;
        status(`cumulative delta ${num(d.summary.cumulative_delta, 2)}`, "live");
      } else if (m.type === "error") {
        status(`delta: ${m.error.code}`, "error");
      }
    };
    es.onerror = () => {
      if (v === view && es.readyState === EventSource.CLOSED && !opened) {
        status("delta unavailable", "unavailable");
      }
    };
  }

  function closeView() {
    if (!view) return;
    for (const es of view.sources) es.close();
    view = null;
  }

  /** Shows `contract` (an id or a spec such as AAPL or ES:FUT:CME:USD:202703). */
  async function select(contract) {
    contract = String(contract).trim();
    if (!contract) return;
    closeView();
    if (!chart) makeChart();
    clearChart();
    Object.assign(stats, { bidask: 0, trades: 0, delta_points: 0, history_bidask: 0,
                           history_trades: 0, contract_id: null, delta: "none" });
    $("contract-label").textContent = "";
    $("delta-status").textContent = "";
    $("chart-message").textContent = `looking up ${contract}…`;
    const v = { input: contract, id: null, sources: [], last: {} };
    view = v;
    try {
      const r = await getJson(`/contracts/${encodeURIComponent(contract)}`);
      if (v !== view) return;
      if (r.status === 404) throw new Error(`no contract ${contract}`);
      v.id = r.body.contract_id;
      stats.contract_id = v.id;
      const c = r.body;
      $("contract-label").textContent =
        `${c.symbol} ${c.sec_type} ${c.local_symbol || ""} ${c.exchange} ${c.currency} · id ${v.id}`;
      const lastIds = {};
      for (const type of ["BidAsk", "Last"]) {
        const isTracked = tracked.some((s) => s.contract_id === v.id && s.tick_type === type);
        lastIds[type] = isTracked ? await loadHistory(v, type) : null;
        if (v !== view) return;
      }
      const recorded = stats.history_bidask + stats.history_trades;
      $("chart-message").textContent = recorded ? `${num(recorded)} recorded ticks of the last hour, then live`
                                                : "live";
      const first = series.bid.data()[0] || series.trade.data()[0];
      if (first && Date.now() / 1000 - first.time > 120) chart.timeScale().fitContent();
      openStream(v, "BidAsk", lastIds.BidAsk);
      openStream(v, "Last", lastIds.Last);
      openDelta(v);
    } catch (e) {
      if (e instanceof AuthRequired || v !== view) return;
      $("chart-message").textContent = e.message;
    }
  }

  $("contract-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const c = $("contract-input").value;
    history.replaceState(null, "", `/dashboard?contract=${encodeURIComponent(c.trim())}`);
    select(c);
  });

  // ---- start ---------------------------------------------------------------

  /** GET / (the server's name, version and endpoints), then the tables, then the chart. */
  async function start() {
    try {
      const root = await getJson("/");
      $("version").textContent = `${root.body.name} ${root.body.version}`;
    } catch (e) {
      if (e instanceof AuthRequired) return;
      $("refresh-error").textContent = e.message;
      $("refresh-error").hidden = false;
    }
    await refresh();
    if (!refreshTimer) refreshTimer = setInterval(refresh, REFRESH_MS);
    const wanted = view ? view.input : new URLSearchParams(location.search).get("contract");
    if (wanted) {
      $("contract-input").value = wanted;
      select(wanted);
    }
  }

  window.ibsDashboard = { stats: () => ({ ...stats }), select, refresh };
  start();
})();
