// Validation of the history and replay endpoints' path and query (README
// "Recording and history"): times (ISO-8601, a UTC day, Unix seconds or
// milliseconds), durations, limits, formats, replay speeds and the paging
// cursor. What comes out is either a well-formed request or the API error
// (400 INVALID_PARAMETER naming the parameter and its valid form).
//
// Pure functions; thread-safe.
#pragma once

#include "http/stream_params.hpp"
#include "store/store.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace http {

inline constexpr std::size_t kHistoryDefaultLimit = 10000;
inline constexpr std::size_t kHistoryMaxLimit = 100000;
/// The longest `duration`: 36500 days.
inline constexpr std::int64_t kMaxDurationSeconds = 36500LL * 86400;

enum class HistoryFormat { json, ndjson, csv };
std::string_view to_string(HistoryFormat f); // "json", "ndjson", "csv"

/// GET /history/{contract_id}/{tick_type}.
struct HistoryRequest {
  int contract_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<std::int64_t> start_ms; // none: from the first tick recorded
  std::int64_t end_ms = 0;              // exclusive
  std::size_t limit = kHistoryDefaultLimit;
  HistoryFormat format = HistoryFormat::json;
  std::optional<store::Position> after; // from the cursor: continue after this row
};

/// GET /replay/{contract_id}.
struct ReplayRequest {
  int contract_id = 0;
  std::vector<tws::TickType> tick_types; // 1..4, distinct, in the order given
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0; // exclusive
  double speed = 1.0;      // pace divisor; 0 = max (as fast as the socket takes them)
};

/// What a cursor carries: the query it continues and the last row given.
struct HistoryCursor {
  int contract_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<std::int64_t> start_ms;
  std::int64_t end_ms = 0;
  store::Position after;
  bool operator==(const HistoryCursor&) const = default;
};

/// An opaque token (base64url, no padding, with a checksum).
std::string encode_cursor(const HistoryCursor& c);
/// nullopt when the token is not one of encode_cursor's.
std::optional<HistoryCursor> decode_cursor(std::string_view token);

/// A time parameter in Unix milliseconds: `2026-12-04T15:30:00Z`,
/// `2026-12-04T15:30:00.250+01:00` (no offset: UTC), `2026-12-04` (midnight
/// UTC), Unix seconds `1733326200` or Unix milliseconds (13 or more digits).
/// The error names `name`.
std::variant<std::int64_t, ApiError> parse_time_param(std::string_view name, std::string_view text);
/// `90s`, `15m`, `2h`, `7d` in seconds (1 s .. 36500 d).
std::variant<std::int64_t, ApiError> parse_duration_param(std::string_view text);

/// Validates a history request; `now_ms` is the default end (and the end of
/// a `duration`).
std::variant<HistoryRequest, ApiError> parse_history_request(std::string_view contract_segment,
                                                             std::string_view tick_type_segment,
                                                             std::string_view query,
                                                             std::int64_t now_ms);

/// Validates a replay request.
std::variant<ReplayRequest, ApiError> parse_replay_request(std::string_view contract_segment,
                                                           std::string_view query,
                                                           std::int64_t now_ms);

} // namespace http
