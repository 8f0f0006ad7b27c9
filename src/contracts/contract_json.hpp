// The JSON of the /contracts endpoints (README "Contracts"): a contract
// summary (search results, candidates of an ambiguous spec), the full
// details with trading and liquid hours as UTC sessions, the market status
// of a contract now, and IB's symbol-search samples.
//
// Pure functions; thread-safe.
#pragma once

#include "stream/json_writer.hpp"
#include "tws/messages.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace contracts {

/// "2026-12-07T14:30:00Z"
std::string iso_utc(std::int64_t unix_seconds);
/// "2026-12-07T09:30:00-05:00": the same instant in local time.
std::string iso_local(std::int64_t unix_seconds, int offset_seconds);

/// {"contract_id","symbol","local_symbol","sec_type","exchange","primary_exchange",
///  "currency","expiry","multiplier","min_tick","trading_class","long_name","time_zone"}
void write_contract_summary(stream::JsonWriter& w, const tws::ContractDetails& d);
/// An array of summaries.
std::string candidates_json(const std::vector<tws::ContractDetails>& list);

/// GET /contracts/search?symbol=...: {"query":{...},"count","as_of","contracts":[summary...]}
std::string search_json(const tws::Contract& query, const std::vector<tws::ContractDetails>& list,
                        std::int64_t as_of);
/// GET /contracts/search?q=...: {"q","count","as_of","contracts":[sample...]}
std::string samples_json(const std::string& q, const std::vector<tws::ContractDescription>& list,
                         std::int64_t as_of);
/// GET /contracts/{id}: the summary plus the other details and
/// "trading_hours"/"liquid_hours": [{"open","close","open_local","close_local"}]
/// ("hours_error" instead when IB's strings cannot be read), "as_of".
std::string details_json(const tws::ContractDetails& d, std::int64_t as_of);
/// GET /contracts/{id}/status at `now`: {"contract_id","time_zone","now","status":
/// "open"|"closed"|"unknown","liquid","session","next_open","next_close","as_of"}
std::string status_json(const tws::ContractDetails& d, std::int64_t now, std::int64_t as_of);
/// Whether the details' trading hours say nothing about `now` (they ran
/// out, or none were given): the caller asks IB again.
bool hours_unknown_at(const tws::ContractDetails& d, std::int64_t now);

} // namespace contracts
