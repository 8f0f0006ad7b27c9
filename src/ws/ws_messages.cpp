#include "ws/ws_messages.hpp"

#include "stream/json_text.hpp"
#include "stream/tick_json.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>

namespace ws {
namespace {

/// `{"type":"<type>"` then `,"id":<id>` when given.
void open_message(std::string& out, std::string_view type, std::optional<std::string_view> id) {
  out += "{\"type\":\"";
  out += type;
  out += '"';
  if (id) {
    out += ",\"id\":";
    stream::append_json_utf8(out, *id);
  }
}

void string_member(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  stream::append_json_utf8(out, value);
}

/// `,"timestamp":"<ts>"`
void timestamp_member(std::string& out, std::string_view timestamp) {
  string_member(out, "timestamp", timestamp);
}

/// A reply whose `data` is spliced in as is.
std::string reply_with_data(std::string_view type, std::string_view timestamp, std::string_view id,
                            std::string_view data_json) {
  std::string out;
  out.reserve(64 + data_json.size());
  open_message(out, type, id);
  timestamp_member(out, timestamp);
  out += ",\"data\":";
  out += data_json;
  out += '}';
  return out;
}

} // namespace

std::string connected_message(std::string_view timestamp, std::string_view version,
                              const ServerInfo& info) {
  std::string out;
  open_message(out, "connected", std::nullopt);
  string_member(out, "version", version);
  timestamp_member(out, timestamp);
  out += ",\"server_info\":{\"max_subscriptions_per_connection\":";
  out += std::to_string(info.max_subscriptions_per_connection);
  out += ",\"max_concurrent_streams\":";
  out += std::to_string(info.max_concurrent_streams);
  out += "}}";
  return out;
}

std::string subscribed_message(std::string_view timestamp, std::string_view id,
                               std::string_view request_id, int contract_id,
                               tws::TickType tick_type, const stream::ContractInfo& contract) {
  std::string out;
  open_message(out, "subscribed", id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"request_id\":";
  stream::append_json_utf8(out, request_id);
  out += ",\"contract_id\":";
  out += std::to_string(contract_id);
  string_member(out, "tick_type", tws::to_string(tick_type));
  out += ",\"contract_info\":";
  stream::append_contract_json(out, contract);
  out += "}}";
  return out;
}

std::string multi_subscribed_message(std::string_view timestamp, std::string_view id,
                                     int contract_id,
                                     std::span<const SubscriptionRef> subscriptions) {
  std::string out;
  open_message(out, "multi_subscribed", id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"contract_id\":";
  out += std::to_string(contract_id);
  out += ",\"subscriptions\":[";
  bool first = true;
  for (const auto& s : subscriptions) {
    if (!first) out += ',';
    first = false;
    out += "{\"request_id\":";
    stream::append_json_utf8(out, s.request_id);
    string_member(out, "tick_type", tws::to_string(s.tick_type));
    out += '}';
  }
  out += "]}}";
  return out;
}

std::string unsubscribed_message(std::string_view timestamp, std::string_view id,
                                 std::string_view request_id) {
  std::string out;
  open_message(out, "unsubscribed", id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"request_id\":";
  stream::append_json_utf8(out, request_id);
  out += "}}";
  return out;
}

std::string unsubscribed_all_message(std::string_view timestamp, std::string_view id,
                                     std::size_t unsubscribed_count) {
  std::string out;
  open_message(out, "unsubscribed_all", id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"unsubscribed_count\":";
  out += std::to_string(unsubscribed_count);
  out += "}}";
  return out;
}

std::string pong_message(std::string_view timestamp, std::string_view id,
                         const boost::json::value& client_timestamp) {
  std::string out;
  open_message(out, "pong", id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"client_timestamp\":";
  // The schema admits a number or a string only; Boost.JSON escapes strings
  // correctly for any (already validated) UTF-8.
  out += boost::json::serialize(client_timestamp);
  string_member(out, "server_timestamp", timestamp);
  out += "}}";
  return out;
}

std::string stats_message(std::string_view timestamp, std::string_view id,
                          std::string_view stats_json) {
  return reply_with_data("stats", timestamp, id, stats_json);
}

std::string streams_message(std::string_view timestamp, std::string_view id,
                            std::string_view streams_json) {
  return reply_with_data("streams", timestamp, id, streams_json);
}

std::string error_message(std::string_view timestamp, const ErrorTarget& target,
                          std::string_view code, std::string_view message,
                          std::string_view details) {
  std::string out;
  open_message(out, "error",
               target.id ? std::optional<std::string_view>(*target.id) : std::nullopt);
  if (target.request_id) string_member(out, "request_id", *target.request_id);
  timestamp_member(out, timestamp);
  out += ",\"error\":{\"code\":";
  stream::append_json_utf8(out, code);
  string_member(out, "message", message);
  string_member(out, "details", details);
  out += "}}";
  return out;
}

std::string invalid_message_error(std::string_view timestamp, const ValidationError& error) {
  return error_message(timestamp, ErrorTarget{error.id, std::nullopt}, "INVALID_MESSAGE",
                       "message rejected: it must be valid JSON matching the schema of its "
                       "type (GET /ws/schemas)",
                       error.message);
}

std::string complete_message(std::string_view timestamp, std::string_view request_id,
                             std::string_view reason, std::uint64_t total_ticks,
                             double duration_seconds) {
  std::string out;
  open_message(out, "complete", std::nullopt);
  string_member(out, "request_id", request_id);
  timestamp_member(out, timestamp);
  out += ",\"data\":{\"reason\":";
  stream::append_json_utf8(out, reason);
  out += ",\"total_ticks\":";
  out += std::to_string(total_ticks);
  out += ",\"duration_seconds\":";
  stream::append_json_number(out, std::round(duration_seconds * 1000.0) / 1000.0);
  out += "}}";
  return out;
}

std::string info_message(std::string_view timestamp, std::string_view request_id,
                         std::string_view code, std::string_view message,
                         std::string_view extra_json) {
  std::string out;
  open_message(out, "info", std::nullopt);
  string_member(out, "request_id", request_id);
  timestamp_member(out, timestamp);
  out += ",\"info\":{\"message\":";
  stream::append_json_utf8(out, message);
  string_member(out, "code", code);
  if (!extra_json.empty()) {
    out += ',';
    out += extra_json;
  }
  out += "}}";
  return out;
}

std::shared_ptr<const std::string> ws_tick_parts(const stream::TickEvent& tick) {
  auto out = std::make_shared<std::string>();
  out->reserve(96 + tick.data_json.size());
  *out += "\"contract_id\":";
  *out += std::to_string(tick.con_id);
  *out += ",\"tick_type\":\"";
  *out += tws::to_string(tick.tick_type);
  *out += "\",\"timestamp\":";
  stream::append_json_utf8(*out, tick.iso_time);
  *out += ",\"data\":";
  *out += tick.data_json;
  *out += '}';
  return out;
}

void append_ws_tick_prefix(std::string& out, std::string_view request_id) {
  out += "{\"type\":\"tick\",\"request_id\":";
  stream::append_json_utf8(out, request_id);
  out += ',';
}

std::string ws_tick_prefix(std::string_view request_id) {
  std::string out;
  out.reserve(32 + request_id.size());
  append_ws_tick_prefix(out, request_id);
  return out;
}

} // namespace ws
