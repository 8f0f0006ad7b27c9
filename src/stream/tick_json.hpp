// JSON encoding of ticks: the one tick `data` object of api.md §1, shared by
// every transport (SSE, WebSocket, CLI --json, studies input).
//
// Pure functions; thread-safe.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace stream {

/// "YYYY-MM-DD HH:MM:SS" in UTC for a Unix time in seconds.
std::string format_utc(std::int64_t unix_time);
/// ISO-8601 UTC with milliseconds and `Z`, e.g. "2025-01-15T10:30:00.123Z".
std::string format_iso_ms(std::int64_t unix_ms);
/// Now, as format_iso_ms.
std::string iso_now();
/// The same two into `buf` (no allocation); the view points into it.
std::string_view format_iso_ms(char (&buf)[32], std::int64_t unix_ms);
std::string_view iso_now(char (&buf)[32]);

/// Appends `s` as a JSON string literal (quotes and escapes included);
/// valid UTF-8 is kept, invalid bytes become U+FFFD (see json_text.hpp).
void append_json_string(std::string& out, std::string_view s);
/// Appends a JSON number (shortest round-trip) or `null` for non-finite.
void append_json_number(std::string& out, double v);

/// Appends the api.md §1 `data` object of one tick.
void append_tick_json(std::string& out, const tws::TickByTickLast& t);
void append_tick_json(std::string& out, const tws::TickByTickBidAsk& t);
void append_tick_json(std::string& out, const tws::TickByTickMidPoint& t);

} // namespace stream
