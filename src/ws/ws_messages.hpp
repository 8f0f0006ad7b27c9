// The server messages of the WebSocket API (api.md §5), each one line of
// JSON with `type` and `timestamp` (ISO-8601 UTC with milliseconds and `Z`:
// stream::iso_now() / stream::format_iso_ms()). Replies carry the client's
// `id`. The timestamp is a parameter so that callers stamp once and tests
// get exact bytes.
//
// Member order is fixed: type, id, request_id, the message's own scalars,
// timestamp, then the nested object (data / error / info).
//
// Ticks and notices of a stream are not built here: the Hub encodes them
// once for every client (stream/wire_formats.hpp) and a connection adds
// only the subscription's prefix.
//
// Pure functions; thread-safe.
#pragma once

#include "stream/sse_events.hpp"
#include "ws/client_message.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ws {

/// The `server_info` of `connected`.
struct ServerInfo {
  std::size_t max_subscriptions_per_connection = 20;
  std::size_t max_concurrent_streams = 50;
};

/// One entry of `multi_subscribed`'s `subscriptions`.
struct SubscriptionRef {
  std::string request_id;
  tws::TickType tick_type = tws::TickType::last;
};

/// {"type":"connected","version":..,"timestamp":..,"server_info":{
///  "max_subscriptions_per_connection":..,"max_concurrent_streams":..}}
std::string connected_message(std::string_view timestamp, std::string_view version,
                              const ServerInfo& info);

/// {"type":"subscribed","id":..,"timestamp":..,"data":{"request_id":..,
///  "contract_id":..,"tick_type":..,"contract_info":{"symbol":..,"sec_type":..,
///  "exchange":..,"primary_exchange":..,"currency":..,"local_symbol":..,
///  "trading_class":..,"min_tick":..}}}
std::string subscribed_message(std::string_view timestamp, std::string_view id,
                               std::string_view request_id, int contract_id,
                               tws::TickType tick_type, const stream::ContractInfo& contract);

/// {"type":"multi_subscribed","id":..,"timestamp":..,"data":{"contract_id":..,
///  "subscriptions":[{"request_id":..,"tick_type":..},...]}}
std::string multi_subscribed_message(std::string_view timestamp, std::string_view id,
                                     int contract_id,
                                     std::span<const SubscriptionRef> subscriptions);

/// {"type":"unsubscribed","id":..,"timestamp":..,"data":{"request_id":..}}
std::string unsubscribed_message(std::string_view timestamp, std::string_view id,
                                 std::string_view request_id);

/// {"type":"unsubscribed_all","id":..,"timestamp":..,"data":{"unsubscribed_count":..}}
std::string unsubscribed_all_message(std::string_view timestamp, std::string_view id,
                                     std::size_t unsubscribed_count);

/// {"type":"pong","id":..,"timestamp":..,"data":{"client_timestamp":<the ping's
///  timestamp as sent, or null>,"server_timestamp":<timestamp>}}
std::string pong_message(std::string_view timestamp, std::string_view id,
                         const boost::json::value& client_timestamp);

/// {"type":"stats","id":..,"timestamp":..,"data":<stats_json>}; stats_json is
/// the /ws/stats object (http::ws_stats_json), spliced in as is.
std::string stats_message(std::string_view timestamp, std::string_view id,
                          std::string_view stats_json);

/// {"type":"streams","id":..,"timestamp":..,"data":<streams_json>}; the
/// /stream/active object, spliced in as is.
std::string streams_message(std::string_view timestamp, std::string_view id,
                            std::string_view streams_json);

/// What an `error` concerns: the client message it answers (`id`) and/or
/// one subscription (`request_id`); either may be absent.
struct ErrorTarget {
  std::optional<std::string> id;
  std::optional<std::string> request_id;
};

/// {"type":"error"[,"id":..][,"request_id":..],"timestamp":..,"error":{"code":..,
///  "message":..,"details":..}}
std::string error_message(std::string_view timestamp, const ErrorTarget& target,
                          std::string_view code, std::string_view message,
                          std::string_view details);

/// The reply to a message that is not JSON or fails its schema: `error`
/// INVALID_MESSAGE, with the message's id when it had a valid one and the
/// violation in `details`.
std::string invalid_message_error(std::string_view timestamp, const ValidationError& error);

/// {"type":"complete","request_id":..,"timestamp":..,"data":{"reason":..,
///  "total_ticks":..,"duration_seconds":..}}; duration rounded to ms.
std::string complete_message(std::string_view timestamp, std::string_view request_id,
                             std::string_view reason, std::uint64_t total_ticks,
                             double duration_seconds);

/// A notice about one subscription (reconnected, stale, resumed, ticks_lost):
/// {"type":"info","request_id":..,"timestamp":..,"info":{"message":..,"code":..
///  [,extra_json]}}; extra_json, when given, is spliced in as further members
/// of "info" (e.g. `"ticks_lost":12`).
std::string info_message(std::string_view timestamp, std::string_view request_id,
                         std::string_view code, std::string_view message,
                         std::string_view extra_json = {});

} // namespace ws
