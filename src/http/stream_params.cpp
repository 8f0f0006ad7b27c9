#include "http/stream_params.hpp"

#include "http/history_params.hpp"

#include <boost/url/parse_query.hpp>

#include <charconv>
#include <chrono>
#include <map>
#include <variant>

namespace http {
namespace {

ApiError invalid(std::string message, std::string details = {}) {
  return ApiError{400, "INVALID_PARAMETER", std::move(message), std::move(details)};
}

/// Digits only (no sign, no spaces); value must fit `max`.
std::optional<std::uint64_t> parse_unsigned(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::optional<ApiError> parse_ranged(const std::string& name, const std::string& value, int lo,
                                     int hi, int& out) {
  const auto v = parse_unsigned(value, static_cast<std::uint64_t>(hi));
  if (!v || *v < static_cast<std::uint64_t>(lo))
    return invalid("Invalid " + name + " '" + value + "': must be an integer from " +
                   std::to_string(lo) + " to " + std::to_string(hi));
  out = static_cast<int>(*v);
  return std::nullopt;
}

std::optional<ApiError> parse_last_event_id(std::string_view text,
                                            std::optional<std::uint64_t>& out, std::uint32_t& sub) {
  // `N`, or `N.K` for a backfilled tick of the record.
  const auto dot = text.find('.');
  const auto v = parse_unsigned(text.substr(0, dot), UINT64_MAX);
  std::optional<std::uint64_t> k = 0;
  if (dot != std::string_view::npos) k = parse_unsigned(text.substr(dot + 1), UINT32_MAX);
  if (!v || !k || (dot != std::string_view::npos && *k == 0))
    return invalid("Invalid last event id '" + std::string(text) +
                   "': must be the id: of the last event received (N, or N.K for a "
                   "backfilled tick)");
  out = *v;
  sub = static_cast<std::uint32_t>(*k);
  return std::nullopt;
}

} // namespace

/// `since`: a time (ISO-8601, Unix s or ms) or a duration before now.
std::optional<ApiError> parse_since(const std::string& text, std::optional<std::int64_t>& out) {
  using namespace std::chrono;
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const bool duration =
      !text.empty() && std::string_view("smhd").find(text.back()) != std::string_view::npos;
  if (duration) {
    auto d = parse_duration_param(text);
    if (const auto* s = std::get_if<std::int64_t>(&d)) {
      out = now_ms - *s * 1000;
      return std::nullopt;
    }
  } else {
    auto t = parse_time_param("since", text);
    if (const auto* ms = std::get_if<std::int64_t>(&t)) {
      out = *ms;
      return std::nullopt;
    }
  }
  return invalid("Invalid since '" + text +
                 "': must be a time (2026-12-04T15:30:00Z, Unix seconds or milliseconds) or a "
                 "duration before now (90s, 15m, 2h, 7d)");
}

std::optional<int> parse_contract_id(std::string_view text) {
  const auto v = parse_unsigned(text, 2147483647u);
  if (!v || *v == 0) return std::nullopt;
  return static_cast<int>(*v);
}

std::variant<std::map<std::string, std::string>, ApiError>
collect_query_params(std::string_view query, std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> params;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return invalid("Malformed query string", std::string(query));
  for (const auto& p : *parsed) {
    const std::string key = p.key.decode();
    bool wanted = false;
    for (const auto k : known) wanted = wanted || key == k;
    if (!wanted) continue; // unknown parameters are ignored
    if (!p.has_value) return invalid("Parameter '" + key + "' needs a value");
    if (!params.emplace(key, p.value.decode()).second)
      return invalid("Parameter '" + key + "' is repeated; give it once");
  }
  return params;
}

std::optional<ApiError> parse_stream_limits(const std::map<std::string, std::string>& params,
                                            std::optional<int>& limit, int& timeout_seconds) {
  if (auto it = params.find("limit"); it != params.end()) {
    int v = 0;
    if (auto err = parse_ranged("limit", it->second, kMinLimit, kMaxLimit, v)) return err;
    limit = v;
  }
  if (auto it = params.find("timeout"); it != params.end()) {
    if (auto err = parse_ranged("timeout", it->second, kMinTimeout, kMaxTimeout, timeout_seconds))
      return err;
  }
  if (auto it = params.find("format"); it != params.end() && it->second != "sse")
    return invalid("Invalid format '" + it->second + "': must be sse");
  return std::nullopt;
}

std::variant<StreamRequest, ApiError>
parse_stream_request(std::string_view contract_segment,
                     std::optional<std::string_view> tick_type_segment, std::string_view query,
                     int default_timeout_seconds,
                     std::optional<std::string_view> last_event_id_header) {
  StreamRequest req;
  req.timeout_seconds = default_timeout_seconds;

  const auto con_id = parse_contract_id(contract_segment);
  if (!con_id)
    return invalid("Invalid contract_id '" + std::string(contract_segment) +
                   "': must be a positive integer up to 2147483647 (an IB conId)");
  req.contract_id = *con_id;

  // The parameters we know; with a {tick_type} segment the path decides
  // and a tick_type parameter is ignored like any unknown one.
  auto collected =
      tick_type_segment
          ? collect_query_params(query, {"limit", "timeout", "format", "last_event_id", "since"})
          : collect_query_params(
                query, {"tick_type", "limit", "timeout", "format", "last_event_id", "since"});
  if (auto* err = std::get_if<ApiError>(&collected)) return *err;
  const auto& params = std::get<std::map<std::string, std::string>>(collected);

  std::string tick_text = tick_type_segment ? std::string(*tick_type_segment) : "Last";
  if (auto it = params.find("tick_type"); it != params.end()) tick_text = it->second;
  const auto type = tws::parse_tick_type_nocase(tick_text);
  if (!type)
    return invalid("Invalid tick_type '" + tick_text +
                   "': must be one of Last, AllLast, BidAsk, MidPoint");
  req.tick_type = *type;

  if (auto err = parse_stream_limits(params, req.limit, req.timeout_seconds)) return *err;

  if (last_event_id_header) {
    if (auto err =
            parse_last_event_id(*last_event_id_header, req.last_event_id, req.last_event_sub))
      return *err;
  } else if (auto it = params.find("last_event_id"); it != params.end()) {
    if (auto err = parse_last_event_id(it->second, req.last_event_id, req.last_event_sub))
      return *err;
  }
  if (auto it = params.find("since"); it != params.end()) {
    if (auto err = parse_since(it->second, req.since_ms)) return *err;
  }
  return req;
}

} // namespace http
