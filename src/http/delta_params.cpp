#include "http/delta_params.hpp"

#include "http/history_params.hpp"

#include <boost/url/parse_query.hpp>

#include <charconv>
#include <map>
#include <string>

namespace http {
namespace {

ApiError invalid(std::string message, std::string details = {}) {
  return ApiError{400, "INVALID_PARAMETER", std::move(message), std::move(details)};
}

std::optional<ApiError> parse_int(const std::string& name, const std::string& value, int lo, int hi,
                                  int& out) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || ec != std::errc{} || ptr != value.data() + value.size() || v < lo || v > hi)
    return invalid("Invalid " + name + " '" + value + "': must be an integer from " +
                   std::to_string(lo) + " to " + std::to_string(hi));
  out = v;
  return std::nullopt;
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

  static const char* const kKnown[] = {"duration", "limit", "timeout", "format"};
  std::map<std::string, std::string> params;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return invalid("Malformed query string", std::string(query));
  for (const auto& p : *parsed) {
    const std::string key = p.key.decode();
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) continue; // unknown parameters are ignored
    if (!p.has_value) return invalid("Parameter '" + key + "' needs a value");
    if (!params.emplace(key, p.value.decode()).second)
      return invalid("Parameter '" + key + "' is repeated; give it once");
  }
  if (auto it = params.find("duration"); it != params.end()) {
    auto d = parse_duration_param(it->second);
    const auto* seconds = std::get_if<std::int64_t>(&d);
    if (!seconds || *seconds > kMaxDeltaDurationSeconds)
      return invalid("Invalid duration '" + it->second +
                     "': must be a duration from 1s to 24h (90s, 15m, 1h, 24h)");
    req.duration_seconds = *seconds;
  }
  if (auto it = params.find("limit"); it != params.end()) {
    int v = 0;
    if (auto err = parse_int("limit", it->second, kMinLimit, kMaxLimit, v)) return *err;
    req.limit = v;
  }
  if (auto it = params.find("timeout"); it != params.end()) {
    if (auto err = parse_int("timeout", it->second, kMinTimeout, kMaxTimeout, req.timeout_seconds))
      return *err;
  }
  if (auto it = params.find("format"); it != params.end() && it->second != "sse")
    return invalid("Invalid format '" + it->second + "': must be sse");
  return req;
}

} // namespace http
