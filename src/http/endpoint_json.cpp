#include "http/endpoint_json.hpp"

#include "http/stream_params.hpp"
#include "stream/tick_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>

#ifndef IBS_VERSION
#define IBS_VERSION "0.0.0"
#endif

namespace http {
namespace json = boost::json;
namespace {

json::object limits(const ServerConfig& c) {
  return {{"max_streams", c.max_streams},
          {"max_clients", c.max_clients},
          {"buffer_size", c.buffer_size},
          {"default_timeout_seconds", c.stream_timeout},
          {"limit", {{"min", kMinLimit}, {"max", kMaxLimit}}},
          {"timeout", {{"min", kMinTimeout}, {"max", kMaxTimeout}}},
          {"keepalive_seconds", c.keepalive_seconds}};
}

json::object ws_limits(const ServerConfig& c) {
  return {{"max_connections_per_ip", c.ws_max_connections_per_ip},
          {"max_subscriptions_per_connection", c.ws_max_subscriptions},
          {"max_messages_per_second", c.ws_max_messages_per_second},
          {"max_message_bytes", c.ws_max_message_bytes},
          {"tws_grace_seconds", c.ws_tws_grace},
          {"idle_timeout_seconds", c.ws_idle_timeout}};
}

json::array tick_types() {
  return {
      {{"name", "Last"},
       {"data_type", "time_sales"},
       {"description", "Trades during regular market hours"}},
      {{"name", "AllLast"},
       {"data_type", "time_sales"},
       {"description", "All trades, including pre/post market and odd lots"}},
      {{"name", "BidAsk"},
       {"data_type", "bid_ask"},
       {"description", "Best bid and ask quotes with sizes"}},
      {{"name", "MidPoint"},
       {"data_type", "midpoint"},
       {"description", "Midpoint between the best bid and ask"}},
  };
}

std::string finish(json::object o) {
  o["timestamp"] = stream::iso_now();
  return json::serialize(o);
}

json::value opt_string(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

} // namespace

std::string root_json(const ServerConfig& c) {
  json::array endpoints = {
      {{"method", "GET"}, {"path", "/"}, {"description", "this document"}},
      {{"method", "GET"}, {"path", "/health"}, {"description", "health and TWS connection"}},
      {{"method", "GET"}, {"path", "/ready"}, {"description", "200 when streams can start"}},
      {{"method", "GET"}, {"path", "/stream/info"}, {"description", "tick types, parameters"}},
      {{"method", "GET"},
       {"path", "/stream/{contract_id}"},
       {"description", "SSE stream; ?tick_type=&limit=&timeout="}},
      {{"method", "GET"},
       {"path", "/stream/{contract_id}/{tick_type}"},
       {"description", "SSE stream of that tick type"}},
      {{"method", "GET"}, {"path", "/stream/active"}, {"description", "active streams"}},
      {{"method", "DELETE"},
       {"path", "/stream/{contract_id}"},
       {"description", "stop every stream of a contract"}},
      {{"method", "DELETE"}, {"path", "/stream/all"}, {"description", "stop every stream"}},
      {{"method", "GET"}, {"path", "/ws/stats"}, {"description", "WebSocket statistics"}},
      {{"method", "GET"},
       {"path", "/ws/schemas"},
       {"description", "JSON Schemas of the WebSocket client messages"}},
      {{"method", "WEBSOCKET"},
       {"path", "/ws/stream/{contract_id}/{tick_type}"},
       {"description", "WebSocket stream of that tick type; ?limit=&timeout="}},
      {{"method", "WEBSOCKET"},
       {"path", "/ws/stream/{contract_id}/multi"},
       {"description", "WebSocket; subscribe / multi_subscribe messages"}},
      {{"method", "WEBSOCKET"},
       {"path", "/ws/control"},
       {"description", "WebSocket control channel: ping, get_stats, list_streams, subscribe"}},
  };
  json::array names;
  for (const auto& t : tick_types()) names.push_back(t.as_object().at("name"));
  return finish({{"name", "ib-stream"},
                 {"version", IBS_VERSION},
                 {"description", "Tick-by-tick market data from Interactive Brokers TWS / IB "
                                 "Gateway over HTTP Server-Sent Events and WebSocket"},
                 {"endpoints", std::move(endpoints)},
                 {"tick_types", std::move(names)},
                 {"limits", limits(c)},
                 {"websocket_limits", ws_limits(c)},
                 {"auth",
                  {{"required", c.api_key.has_value()},
                   {"methods", {"Authorization: Bearer <key>", "api_key query parameter"}}}}});
}

std::string health_json(const stream::HubSnapshot& s, const ServerConfig& c, double uptime) {
  std::size_t clients = s.clients.size();
  return finish(
      {{"status", s.tws.connected && !s.shutting_down ? "healthy" : "degraded"},
       {"tws_connected", s.tws.connected},
       {"tws",
        {{"host", s.tws.host.empty() ? c.tws_host : s.tws.host},
         {"port", s.tws.port == 0 ? json::value(nullptr) : json::value(s.tws.port)},
         {"client_id", s.tws.client_id},
         {"server_version",
          s.tws.server_version == 0 ? json::value(nullptr) : json::value(s.tws.server_version)},
         {"connected_since", opt_string(s.tws.connected_since)},
         {"reconnects", s.tws.reconnects},
         {"last_error", opt_string(s.tws.last_error)}}},
       {"active_streams", s.upstreams.size()},
       {"max_streams", s.max_streams},
       {"clients", clients},
       {"max_clients", s.max_clients},
       {"total_ticks", s.total_ticks},
       {"shutting_down", s.shutting_down},
       {"uptime_seconds", static_cast<std::int64_t>(uptime)}});
}

std::string ready_json(const stream::HubSnapshot& s, bool draining, bool& ready) {
  ready = s.tws.connected && !s.shutting_down && !draining;
  std::string reason;
  if (draining || s.shutting_down) reason = "shutting down";
  else if (!s.tws.connected)
    reason = "TWS not connected" + (s.tws.last_error.empty() ? "" : ": " + s.tws.last_error);
  return finish({{"ready", ready},
                 {"tws_connected", s.tws.connected},
                 {"shutting_down", s.shutting_down || draining},
                 {"reason", ready ? json::value(nullptr) : json::value(reason)}});
}

std::string stream_info_json(const ServerConfig& c) {
  json::object params = {
      {"tick_type",
       {{"type", "enum"},
        {"values", {"Last", "AllLast", "BidAsk", "MidPoint"}},
        {"default", "Last"},
        {"case_insensitive", true},
        {"description", "only on /stream/{contract_id}; the path form names it instead"}}},
      {"limit",
       {{"type", "integer"},
        {"min", kMinLimit},
        {"max", kMaxLimit},
        {"default", nullptr},
        {"description", "ticks to deliver, then `complete` (limit_reached); default unlimited"}}},
      {"timeout",
       {{"type", "integer"},
        {"min", kMinTimeout},
        {"max", kMaxTimeout},
        {"default", c.stream_timeout},
        {"description", "seconds, then `complete` (timeout)"}}},
      {"format",
       {{"type", "enum"},
        {"values", json::array{"sse"}},
        {"default", "sse"},
        {"description", "sse only"}}},
      {"last_event_id",
       {{"type", "integer"},
        {"min", 0},
        {"default", nullptr},
        {"description", "resume after this tick id (or the Last-Event-ID header)"}}},
  };
  json::object events = {
      {"info", "first event of a stream (contract details); also notices: reconnected, "
               "stale, resumed, ticks_lost"},
      {"tick", "one tick; `id:` is the subscription's sequence number"},
      {"error", "TWS_DISCONNECTED, TWS_ERROR_<n>, SLOW_CONSUMER; after the stream started"},
      {"complete", "last event: reason limit_reached, timeout, stopped or shutdown; total_ticks"},
  };
  return finish(
      {{"tick_types", tick_types()},
       {"parameters", std::move(params)},
       {"event_types", std::move(events)},
       {"keepalive",
        ": keepalive comment after " + std::to_string(c.keepalive_seconds) + " s of silence"},
       {"limits", limits(c)},
       {"websocket",
        {{"endpoints",
          {"/ws/stream/{contract_id}/{tick_type}", "/ws/stream/{contract_id}/multi",
           "/ws/control"}},
         {"schemas", "/ws/schemas"},
         {"client_messages",
          {"subscribe", "multi_subscribe", "unsubscribe", "unsubscribe_all", "ping", "get_stats",
           "list_streams"}},
         {"server_messages",
          {"connected", "subscribed", "multi_subscribed", "unsubscribed", "unsubscribed_all",
           "pong", "stats", "streams", "tick", "info", "error", "complete"}},
         {"limits", ws_limits(c)}}}});
}

std::string active_json(const stream::HubSnapshot& s) {
  json::array ups;
  for (const auto& u : s.upstreams)
    ups.push_back({{"contract_id", u.con_id},
                   {"tick_type", u.tick_type},
                   {"stream_id", std::to_string(u.con_id) + ":" + u.tick_type},
                   {"started", u.started},
                   {"ticks", u.ticks},
                   {"rate", u.rate},
                   {"clients", u.clients},
                   {"state", u.state},
                   {"req_id", u.req_id}});
  json::array clients;
  for (const auto& c : s.clients)
    clients.push_back({{"id", c.id},
                       {"transport", c.transport},
                       {"remote", c.remote},
                       {"contract_id", c.con_id},
                       {"tick_type", c.tick_type},
                       {"limit", c.limit ? json::value(*c.limit) : json::value(nullptr)},
                       {"timeout", c.timeout_seconds},
                       {"ticks_sent", c.ticks_sent},
                       {"dropped", c.dropped},
                       {"started", c.started}});
  return finish({{"active_streams", s.upstreams.size()},
                 {"total_clients", s.clients.size()},
                 {"max_streams", s.max_streams},
                 {"max_clients", s.max_clients},
                 {"streams", std::move(ups)},
                 {"clients", std::move(clients)}});
}

std::string stopped_json(const std::vector<stream::StoppedStream>& stopped,
                         std::optional<int> con_id) {
  json::array list;
  std::size_t clients = 0;
  for (const auto& s : stopped) {
    clients += s.clients;
    list.push_back({{"contract_id", s.con_id},
                    {"tick_type", s.tick_type},
                    {"stream_id", std::to_string(s.con_id) + ":" + s.tick_type},
                    {"clients", s.clients}});
  }
  return finish({{"message", "stopped " + std::to_string(stopped.size()) + " stream(s)" +
                                 (con_id ? " of contract " + std::to_string(*con_id) : "")},
                 {"contract_id", con_id ? json::value(*con_id) : json::value(nullptr)},
                 {"stopped", std::move(list)},
                 {"count", stopped.size()},
                 {"clients", clients}});
}

std::string ws_stats_json(const ws::WsStatsSnapshot& st,
                          const std::map<std::string, std::size_t>& by_ip,
                          const ws::WsLimits& limits) {
  json::object per_ip;
  for (const auto& [ip, n] : by_ip) per_ip[ip] = n;
  const auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  return finish({{"connections", st.active_connections},
                 {"subscriptions", st.active_subscriptions},
                 {"per_ip", std::move(per_ip)},
                 {"connections_total", st.total_connections},
                 {"connections_rejected", st.rejected_connections},
                 {"subscriptions_total", st.total_subscriptions},
                 {"messages",
                  {{"received", st.messages_received},
                   {"sent", st.messages_sent},
                   {"invalid", st.invalid_messages},
                   {"rate_limited", st.rate_limited},
                   {"received_per_second", round2(st.received_per_second)},
                   {"sent_per_second", round2(st.sent_per_second)}}},
                 {"limits",
                  {{"max_connections_per_ip", limits.max_connections_per_ip},
                   {"max_subscriptions_per_connection", limits.max_subscriptions_per_connection},
                   {"max_messages_per_second", limits.max_messages_per_second},
                   {"max_message_bytes", limits.max_message_bytes}}},
                 {"enabled", true}});
}

} // namespace http
