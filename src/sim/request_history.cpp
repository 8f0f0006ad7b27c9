// RequestHandler::historical_ticks: reqHistoricalTicks (tws-protocol.md
// §10.2-10.7) answered from the seeded markets. Checks in order: the
// request's shape (321), the contract (200), market-data permission and
// pacing (162); then one reply with done = 1, or 162 "no data" when the
// interval holds no tick.
//
// Thread-safety: none; runs on the simulator's strand.
#include "sim/api_session.hpp"
#include "sim/market_history.hpp"
#include "sim/request_handler.hpp"
#include "sim/sim_context.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sim {
namespace {

constexpr const char* kHmds = "Historical Market Data Service error message:";
constexpr int kMaxTicks = 1000;

std::string validation_error(const std::string& reason) {
  return "Error validating request.-'bW' : cause - " + reason;
}

std::string what_name(WhatToShow w) {
  switch (w) {
  case WhatToShow::trades: return "TRADES";
  case WhatToShow::bid_ask: return "BID_ASK";
  case WhatToShow::midpoint: return "MIDPOINT";
  }
  return "";
}

/// The reply for `what` (MIDPOINT -> 96, BID_ASK -> 97, TRADES -> 98), done = 1.
std::string encode_reply(int req_id, WhatToShow what, std::vector<HistoryTick>& ticks) {
  switch (what) {
  case WhatToShow::midpoint: {
    tws::HistoricalTicks m{req_id, {}, true};
    for (auto& t : ticks) m.ticks.push_back(std::get<tws::HistoricalTick>(t));
    return tws::encode(m);
  }
  case WhatToShow::bid_ask: {
    tws::HistoricalTicksBidAsk m{req_id, {}, true};
    for (auto& t : ticks) m.ticks.push_back(std::get<tws::HistoricalTickBidAsk>(t));
    return tws::encode(m);
  }
  case WhatToShow::trades: break;
  }
  tws::HistoricalTicksLast m{req_id, {}, true};
  for (auto& t : ticks) m.ticks.push_back(std::move(std::get<tws::HistoricalTickLast>(t)));
  return tws::encode(m);
}

} // namespace

void RequestHandler::historical_ticks(ApiSession& s, const tws::ReqHistoricalTicks& m) {
  const auto what = parse_what_to_show(m.what_to_show);
  if (!what) {
    s.send_error(
        m.req_id, 321,
        validation_error("whatToShow '" + m.what_to_show + "' is not TRADES, BID_ASK or MIDPOINT"));
    return;
  }
  if (m.number_of_ticks < 1 || m.number_of_ticks > kMaxTicks) {
    s.send_error(m.req_id, 321,
                 validation_error("numberOfTicks " + std::to_string(m.number_of_ticks) +
                                  " is not in 1.." + std::to_string(kMaxTicks)));
    return;
  }
  if (m.start_date_time.empty() == m.end_date_time.empty()) {
    s.send_error(m.req_id, 321,
                 validation_error("set exactly one of startDateTime and endDateTime"));
    return;
  }
  const bool from_start = !m.start_date_time.empty();
  const auto when = parse_ib_datetime(from_start ? m.start_date_time : m.end_date_time);
  if (const auto* reason = std::get_if<std::string>(&when)) {
    s.send_error(
        m.req_id, 321,
        validation_error(std::string(from_start ? "startDateTime " : "endDateTime ") + *reason));
    return;
  }
  const CatalogEntry* entry = ctx_.catalog.resolve(m.contract, ctx_.clock_now());
  if (entry == nullptr) {
    s.send_error(m.req_id, 200, "No security definition has been found for the request");
    return;
  }
  const tws::Contract& c = entry->details.contract;
  if (!entry->market_data_permission) {
    s.send_error(m.req_id, 162,
                 std::string(kHmds) + "No market data permissions for " +
                     (c.primary_exchange.empty() ? c.exchange : c.primary_exchange) + " " +
                     c.sec_type);
    return;
  }
  if (ctx_.config.historical_pacing) {
    const std::string contract_key =
        std::to_string(c.con_id) + "|" + m.contract.exchange + "|" + m.what_to_show;
    const std::string identical = contract_key + "|" + m.start_date_time + "|" + m.end_date_time +
                                  "|" + std::to_string(m.number_of_ticks) + "|" +
                                  (m.use_rth ? "1" : "0") + (m.ignore_size ? "1" : "0");
    const int weight = *what == WhatToShow::bid_ask ? 2 : 1;
    if (!ctx_.historical_pacer.admit(identical, contract_key, weight,
                                     std::chrono::steady_clock::now())) {
      s.send_error(m.req_id, 162, std::string(kHmds) + "Historical data request pacing violation");
      return;
    }
  }
  // useRth is accepted and ignored: every tick of an open second counts
  // (--hours always: every second is open).
  std::vector<HistoryTick> ticks;
  if (const auto timeline = ctx_.feed.timeline(*entry)) {
    HistoryQuery q;
    q.what = *what;
    q.ignore_size = m.ignore_size;
    q.from_start = from_start;
    q.time = std::get<std::int64_t>(when);
    q.count = static_cast<std::uint64_t>(m.number_of_ticks);
    if (ctx_.hours.mode() == HoursMode::real)
      q.open = [this, entry](std::int64_t t) { return ctx_.hours.open_at(*entry, t); };
    ticks = collect_history(ctx_.archive, *entry, *timeline, q);
  }
  if (ticks.empty()) {
    s.send_error(m.req_id, 162,
                 std::string(kHmds) + "HMDS query returned no data: " + c.local_symbol + "@" +
                     c.exchange + " " + what_name(*what));
    return;
  }
  spdlog::debug("conn {}: reqHistoricalTicks {} {} {}: {} ticks", s.serial(), m.req_id,
                c.local_symbol, m.what_to_show, ticks.size());
  s.send(encode_reply(m.req_id, *what, ticks));
}

} // namespace sim
