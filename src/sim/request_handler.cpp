#include "sim/request_handler.hpp"

#include "sim/api_session.hpp"
#include "sim/sim_context.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sim {
namespace {

// TWS's texts (tws-protocol.md §6.2); clients branch on the codes.
constexpr const char* kNoSecurityDefinition =
    "No security definition has been found for the request";
constexpr const char* kClientIdInUse =
    "Unable to connect as the client id is already in use. Retry with a unique client id.";
constexpr const char* kBadTickType =
    "Error validating request.-'bB' : cause - Tick-by-tick data type is incorrect/not set.";
constexpr const char* kDuplicateTicker =
    "Error processing request.-'bB' : cause - Duplicate ticker id";
constexpr const char* kNoPermission =
    "Requested market data requires additional subscription for API. See link in 'Market "
    "Data Connections' dialog for more details.";
constexpr const char* kMaxTickByTick = "Max number of tick-by-tick requests has been reached.";

std::int64_t wall_clock_unix() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

void RequestHandler::handle(ApiSession& s, std::string_view payload) {
  const tws::DecodedRequest d = tws::decode_request(payload, s.server_version());
  ctx_.request_log.record(s.client_id(), d);
  if (d.error) {
    spdlog::warn("conn {}: malformed request skipped ({}): {}", s.serial(), d.error.message(),
                 tws::printable_payload(payload));
    return;
  }
  if (const auto* m = std::get_if<tws::StartApi>(&d.request)) {
    start_api(s, *m);
    return;
  }
  if (!s.api_started()) {
    // TWS serves nothing before startApi; the client is expected to wait.
    spdlog::warn("conn {}: {} before startApi ignored", s.serial(),
                 RequestLog::message_name(d.msg_id));
    return;
  }
  if (const auto* m = std::get_if<tws::ReqTickByTickData>(&d.request)) {
    tick_by_tick(s, *m);
  } else if (const auto* m = std::get_if<tws::CancelTickByTickData>(&d.request)) {
    // No acknowledgement, and an unknown id is silently ignored (§7.6).
    ctx_.feed.cancel(s, m->req_id);
  } else if (const auto* m = std::get_if<tws::ReqContractDetails>(&d.request)) {
    contract_details(s, *m);
  } else if (const auto* m = std::get_if<tws::ReqHistoricalTicks>(&d.request)) {
    historical_ticks(s, *m);
  } else if (const auto* m = std::get_if<tws::ReqMatchingSymbols>(&d.request)) {
    matching_symbols(s, *m);
  } else if (std::holds_alternative<tws::ReqIds>(d.request)) {
    s.send(tws::encode(tws::NextValidId{1}));
  } else if (std::holds_alternative<tws::ReqCurrentTime>(d.request)) {
    s.send(tws::encode(tws::CurrentTime{wall_clock_unix()}));
  } else if (std::holds_alternative<tws::ReqManagedAccts>(d.request)) {
    s.send(tws::encode(tws::ManagedAccounts{ctx_.config.accounts}));
  } else {
    // reqMarketDataType has no direct reply; other ids are not emulated.
    spdlog::debug("conn {}: {} ignored", s.serial(), RequestLog::message_name(d.msg_id));
  }
}

void RequestHandler::log_dropped(ApiSession& s, std::string_view payload) {
  ctx_.request_log.record(s.client_id(), tws::decode_request(payload, s.server_version()), true);
}

void RequestHandler::start_api(ApiSession& s, const tws::StartApi& m) {
  if (s.api_started()) {
    spdlog::warn("conn {}: second startApi ignored", s.serial());
    return;
  }
  if (!ctx_.sessions.claim(m.client_id, s, std::chrono::steady_clock::now())) {
    spdlog::warn("conn {}: client id {} is in use: 326, closing", s.serial(), m.client_id);
    s.send_error(-1, 326, kClientIdInUse);
    s.close_after_flush("client id in use");
    return;
  }
  s.mark_started(m.client_id);
  spdlog::info("conn {} ({}): API started as client {}", s.serial(), s.peer(), m.client_id);
  // The connect burst in the order a real gateway sends it (§7.1).
  s.send(tws::encode(tws::ManagedAccounts{ctx_.config.accounts}));
  s.send(tws::encode(tws::NextValidId{1}));
  for (auto farm : kMarketDataFarms) {
    if (ctx_.faults.farms_down.count(std::string(farm)) != 0)
      s.send_error(-1, 2103, farm_broken_text(farm));
    else s.send_error(-1, 2104, farm_ok_text(farm));
  }
  s.send_error(-1, 2106, "HMDS data farm connection is OK:ushmds");
  s.send_error(-1, 2158, "Sec-def data farm connection is OK:secdefnj");
  if (ctx_.faults.lost) s.send_error(-1, 1100, kConnectivityLost);
}

void RequestHandler::contract_details(ApiSession& s, const tws::ReqContractDetails& m) {
  const std::int64_t now = ctx_.clock_now();
  const auto found = ctx_.catalog.match(m.contract, now);
  if (found.empty()) {
    // TWS sends no CONTRACT_DATA_END after an error 200 (§10.13).
    s.send_error(m.req_id, 200, kNoSecurityDefinition);
    return;
  }
  // Every match with the reqId, then one END (§10.13); futures months come
  // in catalog order (by root, then expiry), which IB does not promise.
  for (const CatalogEntry* e : found) {
    s.send(tws::encode(tws::ContractData{m.req_id, ctx_.hours.details_at(*e, now)},
                       s.server_version()));
  }
  s.send(tws::encode(tws::ContractDataEnd{m.req_id}));
}

void RequestHandler::matching_symbols(ApiSession& s, const tws::ReqMatchingSymbols& m) {
  // IB asks for at least 1 s between calls; what TWS does with a faster one
  // is unverified (§10.8): the simulator answers it and logs a warning.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(last_symbol_search_,
                [&](const auto& kv) { return now - kv.second > std::chrono::seconds(1); });
  if (last_symbol_search_.count(s.serial()) != 0) {
    spdlog::warn("conn {}: reqMatchingSymbols {} within 1 s of the previous one (IB asks for 1 s "
                 "between calls); answered",
                 s.serial(), m.req_id);
  }
  last_symbol_search_[s.serial()] = now;
  s.send(tws::encode(tws::SymbolSamples{m.req_id, ctx_.catalog.matching_symbols(m.pattern)},
                     s.server_version()));
}

void RequestHandler::tick_by_tick(ApiSession& s, const tws::ReqTickByTickData& m) {
  // Checks in TWS's order: request shape, contract, this connection, the
  // account's permissions, then the account-wide limit.
  const auto type = tws::parse_tick_type(m.tick_type);
  if (!type) {
    s.send_error(m.req_id, 321, kBadTickType);
    return;
  }
  const CatalogEntry* entry = ctx_.catalog.resolve(m.contract, ctx_.clock_now());
  if (entry == nullptr) {
    s.send_error(m.req_id, 200, kNoSecurityDefinition);
    return;
  }
  if (ctx_.feed.has(s, m.req_id)) {
    s.send_error(m.req_id, 322, kDuplicateTicker);
    return;
  }
  if (!entry->market_data_permission) {
    s.send_error(m.req_id, 10089, kNoPermission);
    return;
  }
  const int limit = ctx_.config.max_tick_by_tick;
  if (limit >= 0 && ctx_.feed.active() >= static_cast<std::size_t>(limit)) {
    s.send_error(m.req_id, 10190, kMaxTickByTick);
    return;
  }
  // numberOfTicks > 0 would ask for a historical preload first; the
  // simulator sends none and goes live at once.
  ctx_.feed.subscribe(s.shared_from_this(), m.req_id, *entry, *type, m.ignore_size);
  if (auto it = ctx_.faults.silenced.find(entry->con_id());
      it != ctx_.faults.silenced.end() && it->second)
    s.send_error(m.req_id, 10197, kCompetingSession);
}

} // namespace sim
