// Validation of GET /studies/{contract}/delta (README "Multi-delta stream"):
// the contract id (a spec in the path is resolved before, in
// http_session.cpp) and the query: `duration` (the record's last 1 s ..
// 24 h first), `timeout` and `limit` (trades) as the stream endpoints have
// them, `format` (sse). What comes out is a well-formed DeltaRequest or the
// API error (400 INVALID_PARAMETER naming the parameter and its range).
//
// Pure functions; thread-safe.
#pragma once

#include "http/stream_params.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

namespace http {

/// The longest `duration` of a delta stream: a day of record.
inline constexpr std::int64_t kMaxDeltaDurationSeconds = 24 * 3600;

struct DeltaRequest {
  int contract_id = 0;
  /// `duration`: the record's ticks of the last this many seconds first.
  std::optional<std::int64_t> duration_seconds;
  std::optional<int> limit; // trades, 1..10000; none = unlimited
  int timeout_seconds = 300;
};

std::variant<DeltaRequest, ApiError> parse_delta_request(std::string_view contract_segment,
                                                         std::string_view query,
                                                         int default_timeout_seconds);

} // namespace http
