// What the simulator does with each API request (tws-protocol.md §3, §7):
// startApi and the connect burst, reqIds, reqCurrentTime, reqManagedAccts,
// reqContractDetails (by conId or description, §10.11-10.13),
// reqMatchingSymbols (§10.8), tick-by-tick subscriptions and reqHistoricalTicks
// (request_history.cpp) with TWS's checks and error codes. Requests it recognises but does not
// emulate are logged and ignored; malformed ones are logged with their bytes and skipped.
//
// Thread-safety: none; used on the simulator's strand only.
#pragma once

#include "tws/messages.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>

namespace sim {

class ApiSession;
struct SimContext;

class RequestHandler {
public:
  explicit RequestHandler(SimContext& ctx) : ctx_(ctx) {}

  /// Decodes and serves one request payload of `session`.
  void handle(ApiSession& session, std::string_view payload);
  /// Logs a request that the rate limit dropped unprocessed.
  void log_dropped(ApiSession& session, std::string_view payload);

private:
  void start_api(ApiSession& s, const tws::StartApi& m);
  void contract_details(ApiSession& s, const tws::ReqContractDetails& m);
  void tick_by_tick(ApiSession& s, const tws::ReqTickByTickData& m);
  void historical_ticks(ApiSession& s, const tws::ReqHistoricalTicks& m);
  void matching_symbols(ApiSession& s, const tws::ReqMatchingSymbols& m);

  SimContext& ctx_;
  /// The last reqMatchingSymbols per connection (IB: 1 s between calls).
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> last_symbol_search_;
};

} // namespace sim
