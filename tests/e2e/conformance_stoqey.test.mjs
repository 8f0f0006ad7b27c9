// Conformance of ib-tws-sim with an independent TWS client: @stoqey/ib (npm).
//
// Starts a real ib-tws-sim process (fixed seed, start time and rate), talks to
// it with @stoqey/ib's IBApi and checks:
//   - the handshake: @stoqey/ib advertises v100..193, the simulator must answer
//     187 and lay every message out for 187 (nextValidId, managedAccounts,
//     farm notices; raw field counts and version fields of every frame);
//   - reqContractDetails: every decoded ContractDetails field of AAPL and of
//     MNQ, ES and EUR.USD against the catalog (src/sim/contract_catalog.cpp);
//     error 200 for an unknown conId; by symbol (ES FUT CME USD): one
//     CONTRACT_DATA per listed month at the simulator's date (the 4 next
//     quarterly months), then one end, with timeZoneId and the hours as sent;
//   - reqMatchingSymbols: the symbolSamples event (conId, symbol, secType,
//     primaryExchange, currency, derivativeSecTypes, description);
//   - reqTickByTickData Last, AllLast, BidAsk and MidPoint on AAPL (plus
//     AllLast on MNQ, whose market prints unreported trades): every tick
//     received equals, field by field, a contiguous window of
//     `ib-tws-sim --dump` for the same seed/start-time/rate (from index 0 for
//     the stream that started the market); TSLA is refused with 10089;
//   - reqHistoricalTicks TRADES, BID_ASK and MIDPOINT on AAPL (start and end
//     forms) return exactly the ticks of `ib-tws-sim --dump` in that range;
//     ES (market not started) gets 162 "HMDS query returned no data";
//   - cancelTickByTickData stops the ticks; the request log shows that the
//     simulator decoded every request as @stoqey/ib encoded it;
//   - @stoqey/ib reports no decoding error, underrun, leftover field or unknown
//     message during the whole session.
//
// Run from the repository root (after `npm ci`):
//   IBS_BIN_DIR=build node --test tests/e2e/conformance_stoqey.test.mjs
// IBS_BIN_DIR is a CMake build directory that contains ib-tws-sim (default: build/).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

import { EventName, IBApi } from "@stoqey/ib";

import { SIM, simDump, sleep, waitUntil } from "./lib/harness.mjs";

const SEED = 4242;
const START_TIME = 1700000000; // 2023-11-14 22:13:20 UTC
const RATE = 20; // market events per second per contract
const CLIENT_ID = 11;
const NEGOTIATED_VERSION = 187;

const AAPL = 265598;
const MNQ = 711280073;
const TSLA = 76792991; // in the catalog, without market-data permission
const UNKNOWN_CON_ID = 999999999;
// MNQ runs faster so that its AllLast stream shows unreported trades (the
// only attribute bit the seeded markets set) within a few seconds.
const MNQ_RATE = 100;

// Request ids.
const REQ_AAPL_DETAILS = 101;
const REQ_UNKNOWN_DETAILS = 102;
const REQ_OTHER_DETAILS = { 711280073: 103, 551601777: 104, 12087792: 105 };
const REQ_ES_FUT_DETAILS = 106; // by symbol: every listed month
const ES_FUT_QUERY = { symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD" };
// The quarterly months listed at START_TIME (2023-11-14): last trading day =
// the third Friday; conIds 900,000,000 + 1,000,000 x root (ES 1) + 100 x
// (year - 2000) + month (src/sim/catalog_entries.hpp).
const ES_MONTHS_AT_START = [
  { conId: 901002312, localSymbol: "ESZ3", last: "20231215", month: "202312" },
  { conId: 901002403, localSymbol: "ESH4", last: "20240315", month: "202403" },
  { conId: 901002406, localSymbol: "ESM4", last: "20240621", month: "202406" },
  { conId: 901002409, localSymbol: "ESU4", last: "20240920", month: "202409" },
];
// reqMatchingSymbols: at once, and a second one more than 1 s later (IB's rule).
const REQ_SYMBOLS_AAPL = 401;
const REQ_SYMBOLS_MICRO = 402;
// Tick-by-tick: requested in this order, one right after the other, at once
// after the session is up (5 streams: the simulator's default limit). The
// first stream of each contract must see its market from the first event
// (index 0 of the dump); the others a contiguous window of it.
const AAPL_CONTRACT = { conId: AAPL, symbol: "AAPL", secType: "STK", exchange: "SMART",
                        primaryExch: "NASDAQ", currency: "USD" };
const MNQ_CONTRACT = { conId: MNQ, symbol: "MNQ", secType: "FUT", exchange: "CME",
                       currency: "USD" };
const TBT = [
  { type: "Last", reqId: 201, min: 8, contract: AAPL_CONTRACT, rate: RATE, first: true },
  { type: "AllLast", reqId: 202, min: 8, contract: AAPL_CONTRACT, rate: RATE },
  { type: "BidAsk", reqId: 203, min: 25, contract: AAPL_CONTRACT, rate: RATE },
  { type: "MidPoint", reqId: 204, min: 15, contract: AAPL_CONTRACT, rate: RATE },
  { type: "AllLast", reqId: 205, min: 40, contract: MNQ_CONTRACT, rate: MNQ_RATE, first: true,
    minUnreported: 2 },
];
const REQ_TSLA_TBT = 206; // must fail: no market-data permission
// Historical ticks of AAPL over [START_TIME + 1, START_TIME + 3), once the
// market (started by the streams above) has passed it. The reply layouts:
// MIDPOINT -> 96, BID_ASK -> 97, TRADES -> 98 (tws-protocol.md §10.3).
const HIST = [
  { reqId: 301, what: "TRADES", type: "AllLast", form: "start" },
  { reqId: 302, what: "BID_ASK", type: "BidAsk", form: "start" },
  { reqId: 303, what: "MIDPOINT", type: "MidPoint", form: "start" },
  { reqId: 304, what: "TRADES", type: "AllLast", form: "end" },
  { reqId: 305, what: "BID_ASK", type: "BidAsk", form: "end" },
  { reqId: 306, what: "MIDPOINT", type: "MidPoint", form: "end" },
];
const HIST_FROM = START_TIME + 1;
const HIST_TO = START_TIME + 3; // exclusive
const REQ_ES_HIST = 307; // ES has no running market: 162 no data
const ES = 551601777;

// Bounds on every wait.
const LISTEN_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 15_000;
const DETAILS_TIMEOUT_MS = 15_000;
const TICKS_TIMEOUT_MS = 45_000;
const CANCEL_GRACE_MS = 1_000;
const CANCEL_QUIET_MS = 1_500;
const DUMP_TIMEOUT_MS = 60_000;

// Connection-level notices that are information, not failures (§6.2, §7.1).
const INFO_CODES = new Set([2104, 2106, 2107, 2108, 2119, 2158]);

// ------------------------------------------------------------ expectations

// The simulator's catalog (src/sim/contract_catalog.cpp) as @stoqey/ib must
// decode it at server version 187. Empty strings stay "", empty doubles read
// as 0 (readDouble), an empty right / lastTradeDateOrContractMonth is left
// undefined by @stoqey/ib.
const STOCK_ORDER_TYPES =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,CONDORDER," +
  "DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB," +
  "IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH," +
  "PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD," +
  "SCALERST,SIZECHK,SMARTSTG,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT," +
  "TRAILLMT,TRAILMIT,WHATIF";
const STOCK_EXCHANGES =
  "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX," +
  "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX";

const AAPL_EXPECTED = {
  contract: {
    symbol: "AAPL",
    secType: "STK",
    lastTradeDateOrContractMonth: undefined,
    lastTradeDate: "",
    strike: 0,
    right: undefined,
    exchange: "SMART",
    currency: "USD",
    localSymbol: "AAPL",
    tradingClass: "NMS",
    conId: AAPL,
    multiplier: 0,
    primaryExch: "NASDAQ",
  },
  marketName: "NMS",
  minTick: 0.01,
  orderTypes: STOCK_ORDER_TYPES,
  validExchanges: STOCK_EXCHANGES,
  priceMagnifier: 1,
  underConId: 0,
  longName: "APPLE INC",
  contractMonth: "",
  industry: "Technology",
  category: "Computers",
  subcategory: "Computers",
  timeZoneId: "US/Eastern",
  evRule: "",
  evMultiplier: 0,
  secIdList: [{ tag: "ISIN", value: "US0378331005" }],
  aggGroup: 1,
  underSymbol: "",
  underSecType: "",
  marketRuleIds: STOCK_EXCHANGES.split(",").map(() => "26").join(","),
  realExpirationDate: "",
  stockType: "COMMON",
  minSize: 0.0001,
  sizeIncrement: 0.0001,
  suggestedSizeIncrement: 100,
  ineligibilityReasonList: [],
};

const OTHER_EXPECTED = {
  711280073: {
    contract: { symbol: "MNQ", secType: "FUT", lastTradeDateOrContractMonth: "20261218",
                lastTradeDate: "20261218", exchange: "CME", currency: "USD",
                localSymbol: "MNQZ6", tradingClass: "MNQ", conId: 711280073, multiplier: 2 },
    marketName: "MNQ", minTick: 0.25, validExchanges: "CME,QBALGO", underConId: 362687422,
    longName: "Micro E-Mini Nasdaq-100", contractMonth: "202612", timeZoneId: "US/Central",
    aggGroup: 2147483647, underSymbol: "MNQ", underSecType: "IND", marketRuleIds: "67,67",
    realExpirationDate: "20261218", minSize: 1, sizeIncrement: 1, suggestedSizeIncrement: 1,
  },
  551601777: {
    contract: { symbol: "ES", secType: "FUT", lastTradeDateOrContractMonth: "20261218",
                lastTradeDate: "20261218", exchange: "CME", currency: "USD",
                localSymbol: "ESZ6", tradingClass: "ES", conId: 551601777, multiplier: 50 },
    marketName: "ES", minTick: 0.25, validExchanges: "CME,QBALGO", underConId: 11004968,
    longName: "E-mini S&P 500", contractMonth: "202612", timeZoneId: "US/Central",
    aggGroup: 2147483647, underSymbol: "ES", underSecType: "IND", marketRuleIds: "67,67",
    realExpirationDate: "20261218", minSize: 1, sizeIncrement: 1, suggestedSizeIncrement: 1,
  },
  12087792: {
    contract: { symbol: "EUR", secType: "CASH", lastTradeDateOrContractMonth: undefined,
                exchange: "IDEALPRO", currency: "USD", localSymbol: "EUR.USD",
                tradingClass: "EUR.USD", conId: 12087792, multiplier: 0 },
    marketName: "EUR.USD", minTick: 0.00005, validExchanges: "IDEALPRO",
    longName: "European Monetary Union Euro", timeZoneId: "US/Eastern", aggGroup: 4,
    marketRuleIds: "239", minSize: 1, sizeIncrement: 1, suggestedSizeIncrement: 1,
  },
};

/**
 * TWS-style session hours for the 7 days from the UTC day of `unix`
 * ("YYYYMMDD:0400-YYYYMMDD:2000;...;YYYYMMDD:CLOSED"), weekends closed.
 */
function weekHours(unix, open, close, overnight) {
  const day0 = Math.floor(unix / 86400);
  const ymd = (d) => new Date(d * 86400_000).toISOString().slice(0, 10).replaceAll("-", "");
  const out = [];
  for (let d = day0; d < day0 + 7; d++) {
    const wd = new Date(d * 86400_000).getUTCDay();
    if (wd === 0 || wd === 6) out.push(`${ymd(d)}:CLOSED`);
    else out.push(`${ymd(overnight ? d - 1 : d)}:${open}-${ymd(d)}:${close}`);
  }
  return out.join(";");
}

// ------------------------------------------------------------ helpers

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `cond` every 20 ms until it is true; rejects after `ms`. */
function waitFor(cond, ms, what) {
  return waitUntil(cond, ms, what, 20);
}

/** An ib-tws-sim process on a free loopback port. */
class SimProcess {
  constructor() {
    this.stderr = "";
    this.exit = null;
  }

  async start() {
    if (!existsSync(SIM)) {
      throw new Error(`${SIM} not found: build it (cmake --build <dir> --target ib-tws-sim) ` +
                      `and set IBS_BIN_DIR to that build directory`);
    }
    this.tmp = mkdtempSync(path.join(tmpdir(), "ibs-stoqey-"));
    this.requestLog = path.join(this.tmp, "requests.jsonl");
    const args = ["--port", "0", "--seed", String(SEED), "--start-time", String(START_TIME),
                  "--rate", String(RATE), "--contract-rate", `${MNQ}=${MNQ_RATE}`,
                  "--request-log", this.requestLog];
    this.proc = spawn(SIM, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.proc.on("error", (err) => { this.spawnError = err; });
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (d) => {
      if (this.stderr.length < 64 * 1024) this.stderr += d;
    });
    const lines = readline.createInterface({ input: this.proc.stdout });
    this.stdoutLines = [];
    const first = new Promise((resolve, reject) => {
      lines.on("line", (line) => {
        this.stdoutLines.push(line);
        if (this.stdoutLines.length === 1) resolve(line);
      });
      this.exited.then((e) => reject(new Error(
        `ib-tws-sim exited (code ${e.code}, signal ${e.signal}) before its listening line; ` +
        `stderr: ${this.stderr.slice(0, 2000)}`)));
    });
    const line = await withTimeout(first, LISTEN_TIMEOUT_MS, "ib-tws-sim listening line");
    let info;
    try {
      info = JSON.parse(line);
    } catch {
      throw new Error(`ib-tws-sim's first stdout line is not JSON: ${JSON.stringify(line)}`);
    }
    this.listening = info;
    return info;
  }

  requests() {
    try {
      return readFileSync(this.requestLog, "utf8").split("\n").filter((l) => l.trim())
        .map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  }

  async stop() {
    if (this.proc && this.exit === null) {
      this.proc.kill("SIGTERM");
      try {
        await withTimeout(this.exited, 5_000, "ib-tws-sim exit after SIGTERM");
      } catch {
        this.proc.kill("SIGKILL");
        await withTimeout(this.exited, 5_000, "ib-tws-sim exit after SIGKILL").catch(() => {});
      }
    }
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** `ib-tws-sim --dump`: the ticks a first subscriber of `conId` receives, by tick type. */
async function dumpTicks(conId, count, rate) {
  const records = await simDump({ conId, count, seed: SEED, startTime: START_TIME, rate,
                                  timeoutMs: DUMP_TIMEOUT_MS });
  const byType = { Last: [], AllLast: [], BidAsk: [], MidPoint: [] };
  for (const rec of records) {
    if (!(rec.tick_type in byType)) {
      throw new Error(`--dump printed an unknown tick_type: ${JSON.stringify(rec)}`);
    }
    byType[rec.tick_type].push(rec);
  }
  return byType;
}

/** A dump record reduced to the values a TWS client can see. */
function expectedFromDump(type, rec) {
  const d = rec.data;
  switch (type) {
    case "Last":
    case "AllLast":
      return { time: d.unix_time, price: d.price, size: d.size, exchange: d.exchange,
               specialConditions: d.conditions, pastLimit: d.past_limit,
               unreported: d.unreported };
    case "BidAsk":
      return { time: d.unix_time, bidPrice: d.bid_price, askPrice: d.ask_price,
               bidSize: d.bid_size, askSize: d.ask_size, bidPastLow: d.bid_past_low,
               askPastHigh: d.ask_past_high };
    case "MidPoint":
      return { time: d.unix_time, midPoint: d.midpoint };
    default:
      throw new Error(type);
  }
}

function sameTick(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!Object.is(a[k], b[k])) return false;
  return true;
}

function diffTick(got, want) {
  const out = [];
  for (const k of new Set([...Object.keys(got), ...Object.keys(want)])) {
    if (!Object.is(got[k], want[k])) {
      out.push(`${k}: got ${JSON.stringify(got[k])}, dump has ${JSON.stringify(want[k])}`);
    }
  }
  return out.join("; ");
}

/**
 * Finds where `got` sits in `want` as a contiguous window. Returns
 * {offset} on an exact match, else {error} describing the best alignment.
 */
function locateWindow(got, want, requireOffset0) {
  if (got.length === 0) return { error: "no tick received" };
  const lastStart = requireOffset0 ? 0 : want.length - got.length;
  let best = null; // {offset, matched, at}
  for (let k = 0; k <= Math.max(lastStart, 0); k++) {
    let i = 0;
    while (i < got.length && k + i < want.length && sameTick(got[i], want[k + i])) i++;
    if (i === got.length) return { offset: k };
    if (!best || i > best.matched) best = { offset: k, matched: i };
  }
  if (got.length > want.length) {
    return { error: `received ${got.length} ticks but the dump has only ${want.length}` };
  }
  const { offset, matched } = best;
  const idx = offset + matched;
  const detail = idx < want.length
    ? `received tick #${matched} vs dump index ${idx}: ${diffTick(got[matched], want[idx])}`
    : `ran past the end of the dump (${want.length} ticks)`;
  return {
    error: `received ticks are not a contiguous window of the dump` +
           `${requireOffset0 ? " starting at index 0" : ""}; best alignment at dump index ` +
           `${offset} matched ${matched}/${got.length}; first difference: ${detail}; ` +
           `first received: ${JSON.stringify(got[0])}; dump[0..2]: ` +
           `${JSON.stringify(want.slice(0, 3))}`,
  };
}

/** Compares every field listed in `want` (nested for `contract`). */
function checkDetails(cd, want, what) {
  for (const [k, v] of Object.entries(want)) {
    if (k === "contract") {
      for (const [ck, cv] of Object.entries(v)) {
        assert.deepEqual(cd.contract?.[ck], cv, `${what} contract.${ck}`);
      }
    } else {
      assert.deepEqual(cd[k], v, `${what} ${k}`);
    }
  }
}

/**
 * tradingHours / liquidHours cover the 7 days from "today", which for the
 * simulator is the exchange's local day of its clock: --start-time plus the
 * seconds since it started (22:13 UTC is the same day in New York and Chicago).
 * Under --hours always (the default here) the markets trade around the clock
 * and tradingHours says so; liquidHours are the exchange's regular hours.
 */
function checkHours(cd, what, liquid) {
  assert.equal(cd.tradingHours, aroundTheClock(START_TIME), `${what} tradingHours`);
  assert.equal(cd.liquidHours, weekHours(START_TIME, ...liquid), `${what} liquidHours`);
}

/** "YYYYMMDD:0000-YYYYMMDD:0000;..." for the 7 days from the UTC day of `unix`. */
function aroundTheClock(unix) {
  const day0 = Math.floor(unix / 86400);
  const ymd = (d) => new Date(d * 86400_000).toISOString().slice(0, 10).replaceAll("-", "");
  const out = [];
  for (let d = day0; d < day0 + 7; d++) out.push(`${ymd(d)}:0000-${ymd(d + 1)}:0000`);
  return out.join(";");
}

// ------------------------------------------------------------ the session

describe("ib-tws-sim with @stoqey/ib", { timeout: 240_000 }, () => {
  const sim = new SimProcess();
  let ib;
  /** Everything @stoqey/ib reported, in order. */
  const log = {
    server: null,            // {version, time}
    nextValidIds: [],
    managedAccounts: [],
    errors: [],              // {message, code, reqId}
    infos: [],               // {message, code}
    contractDetails: new Map(), // reqId -> [details]
    contractDetailsEnd: new Set(),
    symbolSamples: new Map(), // reqId -> [ContractDescription]
    ticks: new Map(TBT.map((s) => [s.reqId, []])), // reqId -> [normalized tick]
    tickAnomalies: [],       // ticks with a wrong reqId/type, non-integer time...
    history: new Map(),      // reqId -> [{ kind, ticks, done }] (historicalTicks* events)
    received: [],            // raw frames (token arrays)
    sent: [],                // raw token arrays stoqey sent
    disconnectedAt: null,
    disconnectRequested: false,
  };
  const reqType = new Map(TBT.map((s) => [s.reqId, s.type]));
  reqType.set(REQ_TSLA_TBT, "Last");
  let cancelledAt = null;

  function onTick(reqId, kind, tick, rawTime) {
    const type = reqType.get(reqId);
    if (!type) {
      log.tickAnomalies.push(`tick for unknown reqId ${reqId}: ${JSON.stringify(tick)}`);
      return;
    }
    const expectedKind = type === "Last" || type === "AllLast" ? "AllLast" : type;
    if (kind !== expectedKind) {
      log.tickAnomalies.push(`reqId ${reqId} (${type}) got a ${kind} tick: ${JSON.stringify(tick)}`);
      return;
    }
    if (typeof rawTime !== "string" || !/^\d+$/.test(rawTime)) {
      log.tickAnomalies.push(`reqId ${reqId} (${type}): time is not integer epoch seconds: ` +
                             `${JSON.stringify(rawTime)}`);
    }
    if (cancelledAt !== null) tick.afterCancelMs = Date.now() - cancelledAt;
    if (!log.ticks.has(reqId)) log.ticks.set(reqId, []);
    log.ticks.get(reqId).push(tick);
  }

  function attach(api) {
    api.on(EventName.server, (version, time) => { log.server = { version, time }; });
    api.on(EventName.nextValidId, (id) => log.nextValidIds.push(id));
    api.on(EventName.managedAccounts, (a) => log.managedAccounts.push(a));
    api.on(EventName.error, (err, code, reqId) => {
      log.errors.push({ message: err?.message ?? String(err), code, reqId });
    });
    api.on(EventName.info, (message, code) => log.infos.push({ message, code }));
    api.on(EventName.received, (tokens) => {
      if (log.received.length < 20000) log.received.push(tokens);
    });
    api.on(EventName.sent, (tokens) => log.sent.push(tokens.map((t) => String(t))));
    api.on(EventName.disconnected, () => { log.disconnectedAt ??= Date.now(); });
    api.on(EventName.contractDetails, (reqId, details) => {
      if (!log.contractDetails.has(reqId)) log.contractDetails.set(reqId, []);
      log.contractDetails.get(reqId).push(details);
    });
    api.on(EventName.contractDetailsEnd, (reqId) => log.contractDetailsEnd.add(reqId));
    api.on(EventName.symbolSamples, (reqId, descriptions) => {
      log.symbolSamples.set(reqId, descriptions);
    });
    api.on(EventName.tickByTickAllLast,
           (reqId, tickType, time, price, size, attr, exchange, specialConditions) => {
             const type = reqType.get(reqId);
             const wantCode = type === "Last" ? 1 : type === "AllLast" ? 2 : undefined;
             if (wantCode !== undefined && tickType !== wantCode) {
               log.tickAnomalies.push(`reqId ${reqId} (${type}) got tickType ${tickType}, ` +
                                      `expected ${wantCode}`);
             }
             onTick(reqId, "AllLast", {
               time: Number(time), price, size, exchange, specialConditions,
               pastLimit: attr?.pastLimit, unreported: attr?.unreported,
             }, time);
           });
    api.on(EventName.tickByTickBidAsk,
           (reqId, time, bidPrice, askPrice, bidSize, askSize, attr) => {
             onTick(reqId, "BidAsk", {
               time: Number(time), bidPrice, askPrice, bidSize, askSize,
               bidPastLow: attr?.bidPastLow, askPastHigh: attr?.askPastHigh,
             }, time);
           });
    api.on(EventName.tickByTickMidPoint, (reqId, time, midPoint) => {
      onTick(reqId, "MidPoint", { time: Number(time), midPoint }, time);
    });
    const onHistory = (kind) => (reqId, ticks, done) => {
      if (!log.history.has(reqId)) log.history.set(reqId, []);
      log.history.get(reqId).push({ kind, ticks, done });
    };
    api.on(EventName.historicalTicks, onHistory("MidPoint"));
    api.on(EventName.historicalTicksBidAsk, onHistory("BidAsk"));
    api.on(EventName.historicalTicksLast, onHistory("AllLast"));
  }

  /** Unexpected things reported by @stoqey/ib (decode errors, unexpected errors/notices). */
  function unexpectedReports() {
    const bad = [];
    for (const e of log.errors) {
      if (e.code === 200 && e.reqId === REQ_UNKNOWN_DETAILS) continue;
      if (e.code === 10089 && e.reqId === REQ_TSLA_TBT) continue;
      if (e.code === 162 && e.reqId === REQ_ES_HIST) continue;
      bad.push(`error event: code ${e.code}, reqId ${e.reqId}: ${e.message}`);
    }
    for (const i of log.infos) {
      if (!INFO_CODES.has(i.code)) bad.push(`info event: code ${i.code}: ${i.message}`);
    }
    return bad;
  }

  function sessionSummary() {
    const ids = {};
    for (const t of log.received.slice(1)) ids[t[0]] = (ids[t[0]] || 0) + 1;
    return `server=${JSON.stringify(log.server)} received message ids=${JSON.stringify(ids)} ` +
           `errors=${JSON.stringify(log.errors.slice(0, 10))} ` +
           `infos=${JSON.stringify(log.infos.slice(0, 10))} ` +
           `sim exit=${JSON.stringify(sim.exit)} sim stderr=${sim.stderr.slice(0, 1500)}`;
  }

  before(async () => {
    const info = await sim.start();
    assert.equal(info.event, "listening", `unexpected first line: ${JSON.stringify(info)}`);
    assert.ok(Number.isInteger(info.port) && info.port > 0, `bad port in ${JSON.stringify(info)}`);

    ib = new IBApi({ host: "127.0.0.1", port: info.port, clientId: CLIENT_ID });
    attach(ib);
    ib.connect(CLIENT_ID);
    await withTimeout(
      waitFor(() => log.nextValidIds.length > 0 && log.managedAccounts.length > 0,
              CONNECT_TIMEOUT_MS, "nextValidId and managedAccounts"),
      CONNECT_TIMEOUT_MS + 1000, "connect").catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });

    // All four tick-by-tick streams at once, right after the session is up, so
    // that each type's first tick is one of the market's first events.
    for (const s of TBT) ib.reqTickByTickData(s.reqId, s.contract, s.type, 0, false);
    ib.reqTickByTickData(REQ_TSLA_TBT, { conId: TSLA, symbol: "TSLA", secType: "STK",
                                         exchange: "SMART", currency: "USD" }, "Last", 0, false);
    ib.reqContractDetails(REQ_AAPL_DETAILS, { conId: AAPL });
    ib.reqContractDetails(REQ_UNKNOWN_DETAILS, { conId: UNKNOWN_CON_ID });
    for (const [conId, reqId] of Object.entries(REQ_OTHER_DETAILS)) {
      ib.reqContractDetails(reqId, { conId: Number(conId) });
    }
    ib.reqContractDetails(REQ_ES_FUT_DETAILS, ES_FUT_QUERY);
    ib.reqMatchingSymbols(REQ_SYMBOLS_AAPL, "AAPL");
  });

  after(async () => {
    try {
      if (ib) {
        log.disconnectRequested = true;
        ib.disconnect();
      }
    } finally {
      await sim.stop();
    }
  });

  it("negotiates server version 187 and starts the session", () => {
    assert.ok(log.server, "no server version event");
    assert.equal(log.server.version, NEGOTIATED_VERSION,
                 "@stoqey/ib advertises v100..193; the simulator must answer 187");
    assert.equal(ib.serverVersion, NEGOTIATED_VERSION);
    assert.match(log.server.time, /^\d{8} \d{2}:\d{2}:\d{2} \S.*$/,
                 "connection time should look like 'yyyyMMdd HH:mm:ss zone'");
    assert.ok(log.nextValidIds.length >= 1);
    assert.ok(Number.isInteger(log.nextValidIds[0]) && log.nextValidIds[0] > 0,
              `nextValidId ${log.nextValidIds[0]}`);
    assert.ok(log.managedAccounts.length >= 1);
    assert.match(log.managedAccounts[0], /^[A-Z0-9]+(,[A-Z0-9]+)*,?$/,
                 `managedAccounts ${JSON.stringify(log.managedAccounts[0])}`);
    // The handshake we sent and what the simulator saw.
    assert.deepEqual(log.sent[0]?.slice(0, 1), ["API\0"]);
    assert.equal(log.sent[0]?.at(-1), "v100..193");
    assert.deepEqual(log.sent[1], ["71", "2", String(CLIENT_ID), ""]);
  });

  it("sends the farm notices as connection-level information", async () => {
    await waitFor(() => [2104, 2106, 2158].every((c) => log.infos.some((i) => i.code === c)),
                  5_000, "farm notices 2104, 2106, 2158").catch((err) => {
      throw new Error(`${err.message}; infos: ${JSON.stringify(log.infos)}`);
    });
  });

  it("decodes AAPL's ContractDetails", async () => {
    await waitFor(() => log.contractDetailsEnd.has(REQ_AAPL_DETAILS), DETAILS_TIMEOUT_MS,
                  `contractDetailsEnd for reqId ${REQ_AAPL_DETAILS}`).catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    const list = log.contractDetails.get(REQ_AAPL_DETAILS) ?? [];
    assert.equal(list.length, 1, "exactly one CONTRACT_DATA for conId 265598");
    const cd = list[0];
    checkDetails(cd, AAPL_EXPECTED, "AAPL");
    checkHours(cd, "AAPL", ["0930", "1600", false]);
    // The raw frame has the 187 layout: 42 + 2K + 2M fields, no version field.
    const frame = log.received.find((t) => t[0] === "10" && t[1] === String(REQ_AAPL_DETAILS));
    assert.ok(frame, "raw CONTRACT_DATA frame for AAPL");
    const k = cd.secIdList?.length ?? 0;
    const m = cd.ineligibilityReasonList.length;
    assert.equal(frame.length, 42 + 2 * k + 2 * m,
                 `CONTRACT_DATA field count at 187: ${JSON.stringify(frame)}`);
  });

  it("answers the other catalog contracts", async () => {
    const reqIds = Object.values(REQ_OTHER_DETAILS);
    await waitFor(() => reqIds.every((r) => log.contractDetailsEnd.has(r)), DETAILS_TIMEOUT_MS,
                  "contractDetailsEnd for MNQ, ES, EUR.USD").catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    for (const [conId, reqId] of Object.entries(REQ_OTHER_DETAILS)) {
      const want = OTHER_EXPECTED[conId];
      const list = log.contractDetails.get(reqId) ?? [];
      assert.equal(list.length, 1, `one CONTRACT_DATA for conId ${conId}`);
      checkDetails(list[0], want, want.contract.symbol);
      if (want.contract.secType === "FUT") {
        checkHours(list[0], want.contract.symbol, ["0830", "1500", false]);
      } else {
        checkHours(list[0], want.contract.symbol, ["1715", "1700", true]);
      }
      const frame = log.received.find((t) => t[0] === "10" && t[1] === String(reqId));
      const k = list[0].secIdList?.length ?? 0;
      const m = list[0].ineligibilityReasonList?.length ?? 0;
      assert.equal(frame?.length, 42 + 2 * k + 2 * m,
                   `CONTRACT_DATA field count at 187: ${JSON.stringify(frame)}`);
    }
  });

  it("reports error 200 for an unknown conId", async () => {
    await waitFor(() => log.errors.some((e) => e.reqId === REQ_UNKNOWN_DETAILS),
                  DETAILS_TIMEOUT_MS, `error for reqId ${REQ_UNKNOWN_DETAILS}`).catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    const errs = log.errors.filter((e) => e.reqId === REQ_UNKNOWN_DETAILS);
    assert.equal(errs.length, 1, JSON.stringify(errs));
    assert.equal(errs[0].code, 200, JSON.stringify(errs[0]));
    assert.ok(errs[0].message.length > 0, "error text");
    assert.equal(log.contractDetails.get(REQ_UNKNOWN_DETAILS), undefined,
                 "no CONTRACT_DATA for an unknown conId");
  });

  it("answers reqContractDetails by symbol with every listed ES month", async () => {
    await waitFor(() => log.contractDetailsEnd.has(REQ_ES_FUT_DETAILS), DETAILS_TIMEOUT_MS,
                  `contractDetailsEnd for reqId ${REQ_ES_FUT_DETAILS}`).catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    const list = log.contractDetails.get(REQ_ES_FUT_DETAILS) ?? [];
    // IB does not promise an order (§10.13): compare sorted by expiry.
    const got = [...list].sort((a, b) => a.contract.lastTradeDateOrContractMonth
      .localeCompare(b.contract.lastTradeDateOrContractMonth));
    assert.deepEqual(got.map((d) => d.contract.localSymbol),
                     ES_MONTHS_AT_START.map((m) => m.localSymbol));
    for (const [i, want] of ES_MONTHS_AT_START.entries()) {
      const cd = got[i];
      const base = OTHER_EXPECTED[ES];
      checkDetails(cd, {
        ...base,
        contract: { ...base.contract, conId: want.conId, localSymbol: want.localSymbol,
                    lastTradeDateOrContractMonth: want.last, lastTradeDate: want.last },
        contractMonth: want.month,
        realExpirationDate: want.last,
      }, want.localSymbol);
      assert.equal(cd.timeZoneId, "US/Central", `${want.localSymbol} timeZoneId`);
      checkHours(cd, want.localSymbol, ["0830", "1500", false]);
      const frame = log.received.find((t) => t[0] === "10" && t[1] === String(REQ_ES_FUT_DETAILS) &&
                                            t.includes(String(want.conId)));
      assert.equal(frame?.length, 42, `CONTRACT_DATA field count at 187: ${JSON.stringify(frame)}`);
    }
    const ends = log.received.filter((t) => t[0] === "52" && t[2] === String(REQ_ES_FUT_DETAILS));
    assert.equal(ends.length, 1, "one CONTRACT_DATA_END after the months");
  });

  it("answers reqMatchingSymbols with symbolSamples", async () => {
    await waitFor(() => log.symbolSamples.has(REQ_SYMBOLS_AAPL), DETAILS_TIMEOUT_MS,
                  `symbolSamples for reqId ${REQ_SYMBOLS_AAPL}`).catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    const aapl = log.symbolSamples.get(REQ_SYMBOLS_AAPL);
    assert.equal(aapl.length, 1, JSON.stringify(aapl));
    assert.deepEqual(aapl[0].contract, { conId: AAPL, symbol: "AAPL", secType: "STK",
                                         primaryExch: "NASDAQ", currency: "USD",
                                         description: "APPLE INC", issuerId: "" });
    assert.deepEqual(aapl[0].derivativeSecTypes, ["OPT", "WAR"]);
    // A word of the name, after IB's 1 s between calls: stocks first, then
    // the futures root as its index with FUT.
    await sleep(1100);
    ib.reqMatchingSymbols(REQ_SYMBOLS_MICRO, "micro");
    await waitFor(() => log.symbolSamples.has(REQ_SYMBOLS_MICRO), DETAILS_TIMEOUT_MS,
                  `symbolSamples for reqId ${REQ_SYMBOLS_MICRO}`);
    const micro = log.symbolSamples.get(REQ_SYMBOLS_MICRO);
    assert.deepEqual(micro.map((d) => [d.contract.symbol, d.contract.secType]),
                     [["MSFT", "STK"], ["MNQ", "IND"]]);
    assert.equal(micro[0].contract.description, "MICROSOFT CORP");
    assert.equal(micro[1].contract.description, "Micro E-Mini Nasdaq-100");
    assert.equal(micro[1].contract.primaryExch, "CME");
    assert.deepEqual(micro[1].derivativeSecTypes, ["FUT", "FOP"]);
  });

  const label = (s) => `${s.contract.symbol} ${s.type} (reqId ${s.reqId})`;
  const ticksOf = (s) => log.ticks.get(s.reqId) ?? [];

  it("streams tick-by-tick Last, AllLast, BidAsk and MidPoint", async () => {
    const enough = () => TBT.every((s) => ticksOf(s).length >= s.min &&
      ticksOf(s).filter((t) => t.unreported).length >= (s.minUnreported ?? 0));
    await waitFor(enough, TICKS_TIMEOUT_MS, "enough ticks of every stream").catch((err) => {
      const counts = TBT.map((s) => `${label(s)}=${ticksOf(s).length}`).join(", ");
      throw new Error(`${err.message} (${counts}); ${sessionSummary()}`);
    });
    assert.deepEqual(log.tickAnomalies, []);
  });

  it("refuses tick-by-tick data without market-data permission (TSLA: 10089)", async () => {
    await waitFor(() => log.errors.some((e) => e.reqId === REQ_TSLA_TBT), DETAILS_TIMEOUT_MS,
                  `error for reqId ${REQ_TSLA_TBT}`).catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    const errs = log.errors.filter((e) => e.reqId === REQ_TSLA_TBT);
    assert.deepEqual(errs.map((e) => e.code), [10089], JSON.stringify(errs));
    assert.equal(log.ticks.get(REQ_TSLA_TBT), undefined, "no tick for a refused request");
  });

  /** A historical tick as @stoqey/ib decodes it, in the shape of expectedFromDump. */
  function historicalTick(kind, t) {
    switch (kind) {
      case "AllLast":
        return { time: t.time, price: t.price, size: t.size, exchange: t.exchange,
                 specialConditions: t.specialConditions, pastLimit: t.tickAttribLast?.pastLimit,
                 unreported: t.tickAttribLast?.unreported };
      case "BidAsk":
        // The seeded markets never set bidPastLow / askPastHigh (and @stoqey/ib
        // reads the bits of 97 in tick-by-tick order, the official decoders the
        // other way round, §10.4): both false either way.
        return { time: t.time, bidPrice: t.priceBid, askPrice: t.priceAsk, bidSize: t.sizeBid,
                 askSize: t.sizeAsk, bidPastLow: t.tickAttribBidAsk?.bidPastLow,
                 askPastHigh: t.tickAttribBidAsk?.askPastHigh };
      default:
        return { time: t.time, midPoint: t.price };
    }
  }

  it("reqHistoricalTicks TRADES, BID_ASK and MIDPOINT equal the simulator's --dump", async () => {
    // The AAPL market must have passed HIST_TO before the requests.
    await waitFor(() => ticksOf(TBT[2]).some((t) => t.time >= HIST_TO + 1), TICKS_TIMEOUT_MS,
                  `AAPL ticks at ${HIST_TO + 1}`);
    const dump = await dumpTicks(AAPL, 400, RATE);
    const want = {};
    for (const type of ["AllLast", "BidAsk", "MidPoint"]) {
      want[type] = dump[type].filter((r) => r.data.unix_time >= HIST_FROM &&
                                            r.data.unix_time < HIST_TO)
        .map((r) => expectedFromDump(type, r));
      assert.ok(want[type].length > 3, `dump ${type} in range: ${want[type].length}`);
      assert.ok(dump[type].at(-1).data.unix_time >= HIST_TO, `--dump long enough for ${type}`);
    }
    const utc = (t) => new Date(t * 1000).toISOString().slice(0, 19)
      .replace(/-/g, "").replace("T", "-");
    for (const h of HIST) {
      // count = the ticks of the range: the reply then ends with its last second.
      if (h.form === "start") {
        ib.reqHistoricalTicks(h.reqId, AAPL_CONTRACT, utc(HIST_FROM), "", want[h.type].length,
                              h.what, 0, false);
      } else {
        ib.reqHistoricalTicks(h.reqId, AAPL_CONTRACT, "", `${utc(HIST_TO - 1).replace("-", " ")} UTC`,
                              want[h.type].length, h.what, 0, false);
      }
    }
    ib.reqHistoricalTicks(REQ_ES_HIST, { conId: ES, exchange: "CME" }, utc(START_TIME), "", 10,
                          "TRADES", 0, false);
    await waitFor(() => HIST.every((h) => log.history.has(h.reqId)) &&
                        log.errors.some((e) => e.reqId === REQ_ES_HIST),
                  DETAILS_TIMEOUT_MS, "every historical ticks reply").catch((err) => {
      throw new Error(`${err.message}; ${sessionSummary()}`);
    });
    for (const h of HIST) {
      const replies = log.history.get(h.reqId);
      assert.equal(replies.length, 1, `${h.what} ${h.form}: one reply`);
      assert.equal(replies[0].kind, h.type, `${h.what} answered by the right message`);
      assert.equal(replies[0].done, true, `${h.what} ${h.form}: done`);
      const got = replies[0].ticks.map((t) => historicalTick(h.type, t));
      assert.deepEqual(got, want[h.type], `${h.what} ${h.form}`);
    }
    const es = log.errors.filter((e) => e.reqId === REQ_ES_HIST);
    assert.deepEqual(es.map((e) => e.code), [162]);
    assert.match(es[0].message, /HMDS query returned no data: \S+@CME TRADES$/);
  });

  it("cancelTickByTickData stops every stream", async () => {
    for (const s of TBT) ib.cancelTickByTickData(s.reqId);
    cancelledAt = Date.now();
    await sleep(CANCEL_GRACE_MS);
    const counts = TBT.map((s) => ticksOf(s).length);
    await sleep(CANCEL_QUIET_MS);
    const later = TBT.map((s) => ticksOf(s).length);
    assert.deepEqual(later, counts,
                     `ticks still arrive more than ${CANCEL_GRACE_MS} ms after the cancel`);
    assert.equal(log.disconnectedAt, null, "the simulator dropped the connection");
  });

  const dumps = new Map(); // conId -> promise of the dump by tick type
  for (const s of TBT) {
    it(`${label(s)} ticks equal the simulator's --dump`, async (t) => {
      const got = ticksOf(s).map(({ afterCancelMs, ...tick }) => tick);
      assert.ok(got.length > 0, `no ${label(s)} tick received`);
      const conId = s.contract.conId;
      if (!dumps.has(conId)) {
        const most = Math.max(...TBT.filter((x) => x.contract.conId === conId)
          .map((x) => ticksOf(x).length));
        dumps.set(conId, dumpTicks(conId, most + 500, s.rate));
      }
      const dump = await dumps.get(conId);
      dump[s.type].forEach((rec, idx) => {
        assert.equal(rec.index, idx, `--dump ${s.type} index field`);
        if (s.type === "Last" || s.type === "AllLast") {
          assert.equal(rec.data.tick_type, s.type, "--dump data.tick_type");
        }
      });
      const want = dump[s.type].map((rec) => expectedFromDump(s.type, rec));
      const where = locateWindow(got, want, s.first === true);
      assert.ok(where.error === undefined, `${label(s)}: ${where.error}`);
      t.diagnostic(`${label(s)}: ${got.length} ticks = dump[${where.offset}..` +
                   `${where.offset + got.length - 1}]` +
                   (s.minUnreported ? `, ${got.filter((x) => x.unreported).length} unreported` : ""));
    });
  }

  it("the simulator decoded every request @stoqey/ib sent", () => {
    // --request-log: one JSON line per request (src/sim/request_log.hpp).
    const reqs = sim.requests();
    const bad = reqs.filter((r) => r.malformed || r.dropped);
    assert.deepEqual(bad, [], "requests the simulator could not decode or dropped");
    const start = reqs.find((r) => r.msg === "startApi");
    assert.equal(start?.client_id, CLIENT_ID, JSON.stringify(reqs.slice(0, 3)));
    for (const s of TBT) {
      const r = reqs.find((x) => x.msg === "reqTickByTickData" && x.req_id === s.reqId);
      assert.ok(r, `reqTickByTickData ${s.reqId} not in the request log`);
      assert.equal(r.con_id, s.contract.conId);
      assert.equal(r.tick_type, s.type);
      assert.ok(reqs.some((x) => x.msg === "cancelTickByTickData" && x.req_id === s.reqId),
                `cancelTickByTickData ${s.reqId} not in the request log`);
    }
    for (const h of HIST) {
      const r = reqs.find((x) => x.msg === "reqHistoricalTicks" && x.req_id === h.reqId);
      assert.ok(r, `reqHistoricalTicks ${h.reqId} not in the request log`);
      assert.equal(r.con_id, AAPL);
      assert.equal(r.what_to_show, h.what);
    }
    const tsla = reqs.find((x) => x.msg === "reqTickByTickData" && x.req_id === REQ_TSLA_TBT);
    assert.equal(tsla?.con_id, TSLA, "reqTickByTickData for TSLA in the request log");
    const byDescription = reqs.find((x) => x.msg === "reqContractDetails" &&
                                           x.req_id === REQ_ES_FUT_DETAILS);
    assert.deepEqual([byDescription?.symbol, byDescription?.sec_type, byDescription?.exchange,
                      byDescription?.currency], ["ES", "FUT", "CME", "USD"]);
    for (const [reqId, pattern] of [[REQ_SYMBOLS_AAPL, "AAPL"], [REQ_SYMBOLS_MICRO, "micro"]]) {
      const r = reqs.find((x) => x.msg === "reqMatchingSymbols" && x.req_id === reqId);
      assert.equal(r?.pattern, pattern, `reqMatchingSymbols ${reqId} in the request log`);
    }
    const details = [REQ_AAPL_DETAILS, REQ_UNKNOWN_DETAILS, ...Object.values(REQ_OTHER_DETAILS)];
    for (const reqId of details) {
      assert.ok(reqs.some((x) => x.msg === "reqContractDetails" && x.req_id === reqId),
                `reqContractDetails ${reqId} not in the request log`);
    }
  });

  it("lays every frame out for server version 187", () => {
    // @stoqey/ib tolerates some things the official clients do not (it never
    // looks at version values); check the raw frames against §2-§4 as well.
    const [hello, ...frames] = log.received;
    assert.equal(hello?.length, 2, `handshake answer must have exactly 2 fields: ${hello}`);
    assert.equal(hello[0], String(NEGOTIATED_VERSION));
    const tbtLength = { 1: 9, 2: 9, 3: 9, 4: 5 }; // fields incl. msgId, per tickType
    const bad = [];
    for (const f of frames) {
      const id = f[0];
      const expect = (cond, why) => { if (!cond) bad.push(`${why}: ${JSON.stringify(f)}`); };
      switch (id) {
        case "4": // ERR_MSG: version 2, id, code, text, advancedOrderRejectJson (>= 166)
          expect(f.length === 6 && f[1] === "2", "ERR_MSG layout");
          break;
        case "9": // NEXT_VALID_ID (sig: exactly 3 fields)
        case "15": // MANAGED_ACCTS
        case "52": // CONTRACT_DATA_END
          expect(f.length === 3 && f[1] === "1", `message ${id} layout (version 1, 3 fields)`);
          break;
        case "10":
          break; // checked field by field above
        case "79": { // SYMBOL_SAMPLES: reqId, N, N x (6 + M + description, issuerId)
          let pos = 3;
          for (let i = 0; i < Number(f[2]) && pos < f.length; i++) pos += 8 + Number(f[pos + 5]);
          expect(pos === f.length, "SYMBOL_SAMPLES layout at 187");
          break;
        }
        case "96": // HISTORICAL_TICKS: reqId, N, N x 4 fields, done
        case "97": // HISTORICAL_TICKS_BID_ASK: reqId, N, N x 6 fields, done
        case "98": // HISTORICAL_TICKS_LAST
          expect(/^\d+$/.test(f[2]) &&
                 f.length === 4 + (id === "96" ? 4 : 6) * Number(f[2]) && f.at(-1) === "1",
                 `message ${id} layout (4 + N records, done = 1)`);
          break;
        case "99":
          expect(f.length === tbtLength[f[2]], "TICK_BY_TICK field count for its tickType");
          expect(/^\d+$/.test(f[3]), "TICK_BY_TICK time (epoch seconds)");
          break;
        default:
          bad.push(`unexpected message id ${id}: ${JSON.stringify(f)}`);
      }
      for (const field of f) {
        expect(/^[\x20-\x7e]*$/.test(field) && !field.includes("\\"),
               "non-printable-ASCII or backslash in a field");
      }
    }
    assert.deepEqual(bad.slice(0, 20), []);
  });

  it("@stoqey/ib reported no decoding error or unexpected message", () => {
    assert.deepEqual(unexpectedReports(), [], sessionSummary());
    assert.equal(log.disconnectedAt, null, "unexpected disconnect");
  });

  it("disconnects cleanly", async () => {
    log.disconnectRequested = true;
    ib.disconnect();
    await waitFor(() => log.disconnectedAt !== null, 5_000, "disconnected event");
    assert.equal(sim.exit, null, "the simulator must survive a client disconnect");
  });
});
