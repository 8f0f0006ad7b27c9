// libFuzzer target: the SSE resume id, as a reconnecting client sends it in
// the Last-Event-ID header or the `last_event_id` query parameter (api.md §3),
// through parse_stream_request() (src/http/stream_params.cpp), which is
// where the server parses it.
//
// Input layout: byte 0 picks where the id goes (bit 0: header, else query;
// bit 1: also a query parameter beside the header, which the header must
// override); bytes 1.. are the id text as sent (in the query as raw bytes:
// the server percent-decodes them).
//
// Invariants: the header value is accepted exactly when it is 1..20 ASCII
// digits whose value fits 64 bits, optionally followed by `.` and a
// backfilled tick's position (1..UINT32_MAX), and then gives them; the query
// parameter, once percent-decoded, follows the same rule; a rejection is a
// 400 INVALID_PARAMETER that names the id; the verdict is deterministic.
//
// Feeds: SSE resume id: Last-Event-ID header or last_event_id query parameter
//
// Build: cmake -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++; run: scripts/fuzz.sh.
#include "fuzz_support.hpp"
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

std::optional<std::pair<std::uint64_t, std::uint32_t>>
accepted_id(const std::variant<http::StreamRequest, http::ApiError>& r) {
  if (const auto* req = std::get_if<http::StreamRequest>(&r)) {
    check(req->last_event_id.has_value());
    return std::pair{*req->last_event_id, req->last_event_sub};
  }
  const auto& err = std::get<http::ApiError>(r);
  check(err.status == 400 && err.code == "INVALID_PARAMETER" &&
        err.message.find("last event id") != std::string::npos);
  return std::nullopt;
}

/// The query parameter's value as the server sees it: percent-decoded; none
/// when the query is malformed or the parameter is repeated or empty-keyed.
std::optional<std::string> decoded_query_value(std::string_view query) {
  auto params = boost::urls::parse_query(query);
  if (!params) return std::nullopt;
  std::optional<std::string> value;
  for (const auto& p : *params) {
    if (p.key.decode() != "last_event_id") continue;
    if (value || !p.has_value) return std::nullopt;
    value = p.value.decode();
  }
  return value;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const std::string_view id = fuzz::as_text(data + 1, size - 1);
  const bool in_header = (mode & 1) != 0;

  if (in_header) {
    // The header always wins; a query parameter beside it must not matter.
    const std::string query = (mode & 2) != 0 ? "last_event_id=7" : "";
    const auto r = http::parse_stream_request("265598", std::nullopt, query, 300, id);
    const auto expected = fuzz::reference_event_id(id);
    check(accepted_id(r) == expected);
    check(accepted_id(http::parse_stream_request("265598", std::nullopt, query, 300, id)) ==
          expected);
    return 0;
  }

  // An '&' starts another parameter, and characters a query cannot hold raw
  // make the whole query malformed (other rejections): those inputs only
  // test that nothing breaks.
  const std::string query = "tick_type=BidAsk&last_event_id=" + std::string(id);
  const auto r = http::parse_stream_request("265598", std::nullopt, query, 300);
  const auto value = decoded_query_value(query);
  if (id.find('&') != std::string_view::npos || !boost::urls::parse_query(query)) return 0;
  check(value.has_value());
  check(accepted_id(r) == fuzz::reference_event_id(*value));
  return 0;
}
