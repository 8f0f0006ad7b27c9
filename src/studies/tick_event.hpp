// The studies' view of a tick: the api.md §1 `data` object parsed into a
// trade or a quote, and the SSE `tick` event that carries it (api.md §3),
// which is also the line format of --record / --replay files.
//
// Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace studies {

/// A `time_sales` tick (Last or AllLast).
struct Trade {
  std::int64_t unix_time = 0;
  std::string timestamp; // "YYYY-MM-DD HH:MM:SS" UTC, as the server sent it
  double price = 0.0;
  double size = 0.0;
  std::string tick_type; // "Last" or "AllLast"
};

/// A `bid_ask` tick.
struct Quote {
  std::int64_t unix_time = 0;
  std::string timestamp;
  double bid = 0.0;
  double ask = 0.0;
  double bid_size = 0.0;
  double ask_size = 0.0;

  /// TWS marks a missing side with a price of 0 or -1: such a quote cannot
  /// classify a trade.
  bool valid() const;
};

/// A tick the studies ignore (MidPoint) is monostate.
using TickData = std::variant<std::monostate, Trade, Quote>;

/// Parses an api.md §1 `data` object. Returns false (and a reason in
/// `error`) when a required field is missing or has the wrong type.
bool parse_tick_data(const boost::json::value& data, TickData& out, std::string& error);

/// One parsed stream event (SSE `data:` JSON, a replay line, or a WebSocket
/// message): its `type`, `contract_id`, `timestamp` and, for ticks, the tick.
struct StreamEvent {
  std::string type; // "tick", "info", "error", "complete", ...
  int contract_id = 0;
  std::string timestamp; // server send time, ISO-8601
  TickData tick;
  boost::json::object json; // the whole object, for notices and errors
};

/// Parses one JSON event object. Returns false with a reason in `error` for
/// invalid JSON, a non-object, or a `tick` whose `data` does not parse.
bool parse_stream_event(std::string_view text, StreamEvent& out, std::string& error);

/// The SSE `tick` event line of api.md §3 for a tick received over another
/// transport: {"type":"tick","contract_id":N,"timestamp":..,"data":{...}}.
/// Numbers are written shortest round-trip, like the server does, so a tick
/// re-encoded from a WebSocket message matches its SSE bytes.
std::string tick_event_line(int contract_id, std::string_view timestamp,
                            const boost::json::value& data);

/// Compact JSON of any value; doubles shortest round-trip (not Boost.JSON's
/// exponent form), integers as integers.
void append_json_value(std::string& out, const boost::json::value& v);

} // namespace studies
