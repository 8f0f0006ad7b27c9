#include "ws/ws_messages.hpp"

#include "stream/json_writer.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>

namespace ws {
namespace {

using stream::JsonWriter;

/// `{"type":"<type>"` then `,"id":<id>` when given.
void open_message(JsonWriter& w, std::string_view type, std::optional<std::string_view> id) {
  w.begin_object().member("type", type);
  if (id) w.member("id", *id);
}

/// A reply whose `data` is spliced in as is.
std::string reply_with_data(std::string_view type, std::string_view timestamp, std::string_view id,
                            std::string_view data_json) {
  std::string out;
  out.reserve(64 + data_json.size());
  JsonWriter w(out);
  open_message(w, type, id);
  w.member("timestamp", timestamp).key("data").raw(data_json).end_object().flush();
  return out;
}

} // namespace

std::string connected_message(std::string_view timestamp, std::string_view version,
                              const ServerInfo& info) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "connected", std::nullopt);
  w.member("version", version)
      .member("timestamp", timestamp)
      .key("server_info")
      .begin_object()
      .member("max_subscriptions_per_connection", info.max_subscriptions_per_connection)
      .member("max_concurrent_streams", info.max_concurrent_streams)
      .end_object()
      .end_object()
      .flush();
  return out;
}

std::string subscribed_message(std::string_view timestamp, std::string_view id,
                               std::string_view request_id, int contract_id,
                               tws::TickType tick_type, const stream::ContractInfo& contract) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "subscribed", id);
  w.member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .member("request_id", request_id)
      .member("contract_id", contract_id)
      .member("tick_type", tws::to_string(tick_type))
      .key("contract_info");
  stream::write_contract(w, contract);
  w.end_object().end_object().flush();
  return out;
}

std::string multi_subscribed_message(std::string_view timestamp, std::string_view id,
                                     int contract_id,
                                     std::span<const SubscriptionRef> subscriptions) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "multi_subscribed", id);
  w.member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .member("contract_id", contract_id)
      .key("subscriptions")
      .begin_array();
  for (const auto& s : subscriptions)
    w.begin_object()
        .member("request_id", s.request_id)
        .member("tick_type", tws::to_string(s.tick_type))
        .end_object();
  w.end_array().end_object().end_object().flush();
  return out;
}

std::string unsubscribed_message(std::string_view timestamp, std::string_view id,
                                 std::string_view request_id) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "unsubscribed", id);
  w.member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .member("request_id", request_id)
      .end_object()
      .end_object()
      .flush();
  return out;
}

std::string unsubscribed_all_message(std::string_view timestamp, std::string_view id,
                                     std::size_t unsubscribed_count) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "unsubscribed_all", id);
  w.member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .member("unsubscribed_count", unsubscribed_count)
      .end_object()
      .end_object()
      .flush();
  return out;
}

std::string pong_message(std::string_view timestamp, std::string_view id,
                         const boost::json::value& client_timestamp) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "pong", id);
  // The schema admits a number or a string only; Boost.JSON prints the
  // value the client sent (already validated) as it parsed it.
  w.member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .key("client_timestamp")
      .raw(boost::json::serialize(client_timestamp))
      .member("server_timestamp", timestamp)
      .end_object()
      .end_object()
      .flush();
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
  JsonWriter w(out);
  open_message(w, "error", target.id ? std::optional<std::string_view>(*target.id) : std::nullopt);
  if (target.request_id) w.member("request_id", *target.request_id);
  w.member("timestamp", timestamp).key("error");
  stream::write_error(w, code, message, details);
  w.end_object().flush();
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
  JsonWriter w(out);
  open_message(w, "complete", std::nullopt);
  w.member("request_id", request_id)
      .member("timestamp", timestamp)
      .key("data")
      .begin_object()
      .member("reason", reason)
      .member("total_ticks", total_ticks)
      .member("duration_seconds", std::round(duration_seconds * 1000.0) / 1000.0)
      .end_object()
      .end_object()
      .flush();
  return out;
}

std::string info_message(std::string_view timestamp, std::string_view request_id,
                         std::string_view code, std::string_view message,
                         std::string_view extra_json) {
  std::string out;
  JsonWriter w(out);
  open_message(w, "info", std::nullopt);
  w.member("request_id", request_id)
      .member("timestamp", timestamp)
      .key("info")
      .begin_object()
      .member("message", message)
      .member("code", code)
      .raw_members(extra_json)
      .end_object()
      .end_object()
      .flush();
  return out;
}

} // namespace ws
