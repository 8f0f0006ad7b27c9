// Validation of the stream endpoints' path and query (api.md §2), at the
// edge: what comes out is either a well-formed StreamRequest or the API
// error to answer with. Nothing malformed reaches the hub.
//
// Pure functions; thread-safe.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace http {

/// An error answered before a stream starts: HTTP status + the API's code.
struct ApiError {
  int status = 400;
  std::string code;    // INVALID_PARAMETER, CONTRACT_NOT_FOUND, ...
  std::string message; // names the parameter and the valid range
  std::string details;
};

struct StreamRequest {
  int contract_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<int> limit;                   // 1..10000; none = unlimited
  int timeout_seconds = 300;                  // 5..3600
  std::optional<std::uint64_t> last_event_id; // resume point
  /// A backfilled tick's id is `seq.sub` (README "Recording and history"):
  /// the resume point is then inside a gap of the record.
  std::uint32_t last_event_sub = 0;
  /// `since`: the recorded ticks from this time (Unix ms) first, then live.
  std::optional<std::int64_t> since_ms;
};

inline constexpr int kMinLimit = 1;
inline constexpr int kMaxLimit = 10000;
inline constexpr int kMinTimeout = 5;
inline constexpr int kMaxTimeout = 3600;

/// `since` (history then live): a time (ISO-8601, Unix seconds or
/// milliseconds) or a duration before now (90s, 15m, 2h, 7d), in Unix ms.
std::optional<ApiError> parse_since(const std::string& text, std::optional<std::int64_t>& out);

/// A conId: a positive integer that fits a signed 32-bit int.
std::optional<int> parse_contract_id(std::string_view text);

/// The parameters of raw query `query` named in `known`, percent-decoded
/// (others are ignored, api.md §2); 400 INVALID_PARAMETER for a malformed
/// query, a known parameter without a value or given twice.
std::variant<std::map<std::string, std::string>, ApiError>
collect_query_params(std::string_view query, std::initializer_list<std::string_view> known);

/// `limit`, `timeout` and `format` of a streaming response (api.md §2,
/// the same ranges for every SSE stream), from collect_query_params()'s
/// map into `limit` / `timeout_seconds` (left as they are when absent).
std::optional<ApiError> parse_stream_limits(const std::map<std::string, std::string>& params,
                                            std::optional<int>& limit, int& timeout_seconds);

/// Validates one stream request.
/// - `contract_segment`: the {contract_id} path segment (percent-decoded).
/// - `tick_type_segment`: the {tick_type} path segment, when the path has
///   one; then a `tick_type` query parameter is ignored like any unknown one.
/// - `query`: the raw query string (without '?').
/// - `last_event_id_header`: the Last-Event-ID header, when present; the
///   `last_event_id` query parameter is used when the header is absent.
std::variant<StreamRequest, ApiError>
parse_stream_request(std::string_view contract_segment,
                     std::optional<std::string_view> tick_type_segment, std::string_view query,
                     int default_timeout_seconds,
                     std::optional<std::string_view> last_event_id_header = std::nullopt);

} // namespace http
