// libFuzzer target: an HTTP request line and headers as a hostile client
// could send them, through what the server does with them before a stream
// starts (src/http/http_session.cpp): route_request() on the method and
// target, parse_stream_request() on the stream routes' path segments and
// query (and Last-Event-ID), api_key_accepted() and redact_api_key() on the
// query.
//
// Input layout, '\n'-separated: method, target, then optionally the
// Last-Event-ID header value (absent when there is no third line), e.g.
//   GET\n/stream/265598/BidAsk?limit=5&timeout=30\n41
//
// Invariants: routing and validation are deterministic; a stream route has
// a contract segment; an accepted StreamRequest is within api.md's bounds
// and agrees with an independent parse of the contract id and resume id; a
// rejection is a 400 INVALID_PARAMETER with a message; a query that carries
// the API key never shows it after redaction.
//
// Feeds: method + target + Last-Event-ID: router, stream params, API key check/redaction
//
// Build: cmake -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++; run: scripts/fuzz.sh.
#include "fuzz_support.hpp"
#include "http/api_key_auth.hpp"
#include "http/router.hpp"
#include "http/stream_params.hpp"

#include <boost/url/parse_query.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

using fuzz::check;

constexpr int kDefaultTimeout = 300;
constexpr std::string_view kKey = "secret12";

bool same_route(const http::Route& a, const http::Route& b) {
  return a.endpoint == b.endpoint && a.path == b.path && a.query == b.query &&
         a.contract_segment == b.contract_segment && a.tick_type == b.tick_type &&
         a.allow == b.allow;
}

bool is_tick_type(tws::TickType t) {
  return t == tws::TickType::last || t == tws::TickType::all_last || t == tws::TickType::bid_ask ||
         t == tws::TickType::mid_point;
}

/// Validates a stream route's parameters and checks the verdict.
void check_stream_params(const http::Route& route, std::optional<std::string_view> last_event_id) {
  const auto parsed = http::parse_stream_request(route.contract_segment, route.tick_type,
                                                 route.query, kDefaultTimeout, last_event_id);
  const auto again = http::parse_stream_request(route.contract_segment, route.tick_type,
                                                route.query, kDefaultTimeout, last_event_id);
  check(parsed.index() == again.index());
  if (const auto* err = std::get_if<http::ApiError>(&parsed)) {
    check(err->status == 400 && err->code == "INVALID_PARAMETER" && !err->message.empty());
    check(err->message == std::get<http::ApiError>(again).message);
    return;
  }
  const auto& req = std::get<http::StreamRequest>(parsed);
  const auto& req2 = std::get<http::StreamRequest>(again);
  check(req.contract_id == req2.contract_id && req.tick_type == req2.tick_type &&
        req.limit == req2.limit && req.timeout_seconds == req2.timeout_seconds &&
        req.last_event_id == req2.last_event_id);

  const auto con_id = fuzz::reference_unsigned(route.contract_segment);
  check(con_id && *con_id >= 1 && *con_id <= 2147483647u &&
        static_cast<std::uint64_t>(req.contract_id) == *con_id);
  check(http::parse_contract_id(route.contract_segment) == req.contract_id);
  check(is_tick_type(req.tick_type));
  if (route.tick_type)
    check(tws::parse_tick_type_nocase(*route.tick_type) == std::optional(req.tick_type));
  if (req.limit) check(*req.limit >= http::kMinLimit && *req.limit <= http::kMaxLimit);
  check(req.timeout_seconds == kDefaultTimeout ||
        (req.timeout_seconds >= http::kMinTimeout && req.timeout_seconds <= http::kMaxTimeout));
  if (last_event_id) {
    const auto expected = fuzz::reference_event_id(*last_event_id);
    check(expected.has_value() && req.last_event_id == expected->first &&
          req.last_event_sub == expected->second);
  }
}

/// True when a parameter of `query` named api_key (after percent-decoding)
/// has the key as its value.
bool shows_key(std::string_view query) {
  auto params = boost::urls::parse_query(query);
  if (!params) return false;
  for (const auto& p : *params)
    if (p.has_value && p.key.decode() == "api_key" && p.value.decode() == kKey) return true;
  return false;
}

void check_api_key(std::string_view target, const http::Route& route) {
  const std::optional<std::string> key{std::string(kKey)};
  check(http::api_key_accepted(std::nullopt, std::nullopt, route.query));
  const bool accepted = http::api_key_accepted(key, std::nullopt, route.query);
  check(accepted == http::api_key_accepted(key, std::nullopt, route.query));
  check(http::api_key_accepted(key, "Bearer " + std::string(kKey), route.query));
  check(!http::api_key_accepted(key, "Bearer " + std::string(kKey) + "x", "") &&
        !http::api_key_accepted(key, "Basic " + std::string(kKey), ""));

  const std::string redacted = http::redact_api_key(target);
  check(http::redact_api_key(redacted) == redacted);
  const auto q = redacted.find('?');
  if (q != std::string::npos) check(!shows_key(std::string_view(redacted).substr(q + 1)));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = fuzz::split_lines(fuzz::as_text(data, size), 3);
  const std::string_view method = lines[0];
  const std::string_view target = lines.size() > 1 ? lines[1] : std::string_view("/");
  const std::optional<std::string_view> last_event_id =
      lines.size() > 2 ? std::optional(lines[2]) : std::nullopt;

  const http::Route route = http::route_request(method, target);
  check(same_route(route, http::route_request(method, target)));

  switch (route.endpoint) {
  case http::Endpoint::stream:
  case http::Endpoint::ws_stream: check_stream_params(route, last_event_id); break;
  case http::Endpoint::bad_method: check(!route.allow.empty()); break;
  case http::Endpoint::preflight: check(method == "OPTIONS" && !route.allow.empty()); break;
  default: break;
  }
  if (route.endpoint != http::Endpoint::bad_target) check_api_key(target, route);
  return 0;
}
