#include "http/delta_params.hpp"

#include "http/history_params.hpp"

#include <map>
#include <string>

namespace http {
namespace {

ApiError invalid(std::string message, std::string details = {}) {
  return ApiError{400, "INVALID_PARAMETER", std::move(message), std::move(details)};
}

} // namespace

std::variant<DeltaRequest, ApiError> parse_delta_request(std::string_view contract_segment,
                                                         std::string_view query,
                                                         int default_timeout_seconds) {
  DeltaRequest req;
  req.timeout_seconds = default_timeout_seconds;
  const auto con_id = parse_contract_id(contract_segment);
  if (!con_id)
    return invalid("Invalid contract '" + std::string(contract_segment) +
                   "': must be a conId (a positive integer up to 2147483647) or a contract spec "
                   "such as AAPL or MNQ:FUT:CME:USD:202703");
  req.contract_id = *con_id;

  auto collected = collect_query_params(query, {"duration", "limit", "timeout", "format"});
  if (auto* err = std::get_if<ApiError>(&collected)) return *err;
  const auto& params = std::get<std::map<std::string, std::string>>(collected);
  if (auto it = params.find("duration"); it != params.end()) {
    auto d = parse_duration_param(it->second);
    const auto* seconds = std::get_if<std::int64_t>(&d);
    if (!seconds || *seconds > kMaxDeltaDurationSeconds)
      return invalid("Invalid duration '" + it->second +
                     "': must be a duration from 1s to 24h (90s, 15m, 1h, 24h)");
    req.duration_seconds = *seconds;
  }
  if (auto err = parse_stream_limits(params, req.limit, req.timeout_seconds)) return *err;
  return req;
}

} // namespace http
