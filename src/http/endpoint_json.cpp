#include "http/endpoint_json.hpp"

#include "http/history_params.hpp"
#include "http/scaleout.hpp"
#include "http/stream_params.hpp"
#include "stream/json_text.hpp"
#include "stream/json_writer.hpp"
#include "stream/tick_json.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string_view>

#ifndef IBS_VERSION
#define IBS_VERSION "0.0.0"
#endif

namespace http {
namespace {

using stream::JsonWriter;

struct Endpoint {
  std::string_view method;
  std::string_view path;
  std::string_view description;
};

constexpr Endpoint kEndpoints[] = {
    {"GET", "/", "this document"},
    {"GET", "/openapi.json", "the OpenAPI 3.1 description of every endpoint"},
    {"GET", "/docs", "the API reference page (built from /openapi.json)"},
    {"GET", "/health", "health and TWS connection"},
    {"GET", "/ready", "200 when streams can start"},
    {"GET", "/stream/info", "tick types, parameters"},
    {"GET", "/stream/{contract_id}", "SSE stream; ?tick_type=&limit=&timeout=&since="},
    {"GET", "/stream/{contract_id}/{tick_type}", "SSE stream of that tick type"},
    {"GET", "/stream/active", "active streams"},
    {"DELETE", "/stream/{contract_id}", "stop every stream of a contract"},
    {"DELETE", "/stream/all", "stop every stream"},
    {"GET", "/ws/stats", "WebSocket statistics"},
    {"GET", "/ws/schemas", "JSON Schemas of the WebSocket client messages"},
    {"WEBSOCKET", "/ws/stream/{contract_id}/{tick_type}",
     "WebSocket stream of that tick type; ?limit=&timeout="},
    {"WEBSOCKET", "/ws/stream/{contract_id}/multi",
     "WebSocket; subscribe / multi_subscribe messages"},
    {"WEBSOCKET", "/ws/control",
     "WebSocket control channel: ping, get_stats, list_streams, subscribe"},
    {"GET", "/history/{contract_id}",
     "what is recorded: per tick type first and last tick, rows per UTC day, gaps"},
    {"GET", "/history/{contract_id}/{tick_type}",
     "recorded ticks; ?start=&end= or ?duration=, &limit=&format=json|ndjson|csv&cursor="},
    {"GET", "/replay/{contract_id}",
     "SSE replay of recorded ticks; ?tick_types=BidAsk,Last&start=&end=&speed=1|10|max"},
    {"GET", "/tracked", "the tracked (recorded) streams: state, ticks recorded, lag, gaps"},
    {"POST", "/tracked/{contract_id}", "record a contract's streams; ?tick_types=BidAsk,Last"},
    {"DELETE", "/tracked/{contract_id}", "stop recording a contract"},
    {"GET", "/contracts/search",
     "find contracts: ?symbol=&sec_type=&exchange=&currency=&expiry= (exact) or ?q= (fuzzy)"},
    {"GET", "/contracts/{contract}", "contract details with trading and liquid hours in UTC"},
    {"GET", "/contracts/{contract}/status", "open or closed now, the next open and close"},
    {"GET", "/studies/{contract}/delta",
     "SSE stream of the multi-delta study's trades; ?duration= (the record first)&limit=&timeout="},
    {"GET", "/metrics", "Prometheus metrics (text format 0.0.4)"},
    {"GET", "/dashboard", "the live dashboard page"},
};

struct TickTypeInfo {
  std::string_view name;
  std::string_view data_type;
  std::string_view description;
};

constexpr TickTypeInfo kTickTypes[] = {
    {"Last", "time_sales", "Trades during regular market hours"},
    {"AllLast", "time_sales", "All trades, including pre/post market and odd lots"},
    {"BidAsk", "bid_ask", "Best bid and ask quotes with sizes"},
    {"MidPoint", "midpoint", "Midpoint between the best bid and ask"},
};

/// An array of strings.
void strings(JsonWriter& w, std::initializer_list<std::string_view> values) {
  w.begin_array();
  for (const auto v : values) w.string(v);
  w.end_array();
}

/// The `limits` object (GET / and /stream/info).
void limits(JsonWriter& w, const ServerConfig& c) {
  w.begin_object()
      .member("max_streams", c.max_streams)
      .member("max_clients", c.max_clients)
      .member("buffer_size", c.buffer_size)
      .member("default_timeout_seconds", c.stream_timeout)
      .key("limit")
      .begin_object()
      .member("min", kMinLimit)
      .member("max", kMaxLimit)
      .end_object()
      .key("timeout")
      .begin_object()
      .member("min", kMinTimeout)
      .member("max", kMaxTimeout)
      .end_object()
      .member("keepalive_seconds", c.keepalive_seconds)
      .member("data_dir", c.data_dir)
      .member("retention_days", c.retention_days)
      .end_object();
}

/// The history and replay endpoints (GET / and /stream/info).
void history(JsonWriter& w, const ServerConfig& c) {
  w.begin_object()
      .member("data_dir", c.data_dir)
      .member("retention_days", c.retention_days)
      .key("endpoints");
  strings(
      w, {"/history/{contract_id}", "/history/{contract_id}/{tick_type}", "/replay/{contract_id}"});
  w.key("limit")
      .begin_object()
      .member("min", 1)
      .member("max", kHistoryMaxLimit)
      .member("default", kHistoryDefaultLimit)
      .end_object()
      .key("formats");
  strings(w, {"json", "ndjson", "csv"});
  w.member("time_forms", "ISO-8601 (2026-12-04T15:30:00Z or with an offset), a UTC day "
                         "(2026-12-04), Unix seconds, Unix milliseconds (13+ digits)")
      .member("duration", "90s, 15m, 2h, 7d (ending at end, default now); not with start")
      .member("cursor", "the `next` of the previous page (json body; ndjson/csv: X-Next-Cursor)")
      .key("replay_speed");
  strings(w, {"1", "10", "max"});
  w.end_object();
}

/// The WebSocket limits object (GET / and /stream/info).
void ws_limits(JsonWriter& w, const ServerConfig& c) {
  w.begin_object()
      .member("max_connections_per_ip", c.ws_max_connections_per_ip)
      .member("max_subscriptions_per_connection", c.ws_max_subscriptions)
      .member("max_messages_per_second", c.ws_max_messages_per_second)
      .member("max_message_bytes", c.ws_max_message_bytes)
      .member("tws_grace_seconds", c.ws_tws_grace)
      .member("idle_timeout_seconds", c.ws_idle_timeout)
      .end_object();
}

/// The tick types with their data type and description.
void tick_types(JsonWriter& w) {
  w.begin_array();
  for (const auto& t : kTickTypes)
    w.begin_object()
        .member("name", t.name)
        .member("data_type", t.data_type)
        .member("description", t.description)
        .end_object();
  w.end_array();
}

/// The last member of every document, `"timestamp":<now>`, and its `}`.
void finish(JsonWriter& w) {
  char buf[32];
  w.member("timestamp", stream::iso_now(buf)).end_object().flush();
}

/// `null` when empty.
void opt_string(JsonWriter& w, std::string_view name, const std::string& s) {
  if (s.empty()) w.key(name).null();
  else w.member(name, s);
}

/// `null` when 0.
void opt_nonzero(JsonWriter& w, std::string_view name, std::int64_t v) {
  if (v == 0) w.key(name).null();
  else w.key(name).integer(v);
}

/// A member name that is not a literal (an IP address): escaped when needed.
void any_key(JsonWriter& w, std::string_view name) {
  if (stream::is_plain_json_text(name)) {
    w.key(name);
    return;
  }
  std::string quoted;
  stream::append_json_utf8(quoted, name);
  w.key(std::string_view(quoted).substr(1, quoted.size() - 2));
}

} // namespace

std::string root_json(const ServerConfig& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("name", "ib-stream")
      .member("version", IBS_VERSION)
      .member("description", "Tick-by-tick market data from Interactive Brokers TWS / IB "
                             "Gateway over HTTP Server-Sent Events and WebSocket")
      .key("endpoints")
      .begin_array();
  for (const auto& e : kEndpoints)
    w.begin_object()
        .member("method", e.method)
        .member("path", e.path)
        .member("description", e.description)
        .end_object();
  w.end_array().key("tick_types").begin_array();
  for (const auto& t : kTickTypes) w.string(t.name);
  w.end_array().key("limits");
  limits(w, c);
  w.key("websocket_limits");
  ws_limits(w, c);
  w.key("history");
  history(w, c);
  w.key("auth").begin_object().member("required", c.api_key.has_value()).key("methods");
  strings(w, {"Authorization: Bearer <key>", "api_key query parameter"});
  w.end_object();
  finish(w);
  return out;
}

std::string health_json(const stream::HubSnapshot& s, const ServerConfig& c, double uptime,
                        const record::RecorderHealth* recorder, const BusHealth* bus) {
  std::string out;
  JsonWriter w(out);
  const bool recorder_ok = !recorder || !recorder->degraded;
  const bool bus_ok = !bus || bus->connected;
  w.begin_object()
      .member("status",
              s.tws.connected && !s.shutting_down && recorder_ok && bus_ok ? "healthy" : "degraded")
      .member("tws_connected", s.tws.connected)
      .key("tws")
      .begin_object()
      .member("host", s.tws.host.empty() ? c.tws_host : s.tws.host);
  opt_nonzero(w, "port", s.tws.port);
  w.member("client_id", s.tws.client_id);
  opt_nonzero(w, "server_version", s.tws.server_version);
  opt_string(w, "connected_since", s.tws.connected_since);
  w.member("reconnects", s.tws.reconnects);
  opt_string(w, "last_error", s.tws.last_error);
  w.end_object().member("active_streams", s.upstreams.size());
  // Upstream subscriptions by state (live, stale, closed, disconnected, ...).
  std::map<std::string_view, std::size_t> states;
  for (const auto& u : s.upstreams) ++states[u.state];
  w.key("stream_states").begin_object();
  for (const auto& [state, n] : states) w.member(state, n);
  w.end_object()
      .member("max_streams", s.max_streams)
      .member("clients", s.clients.size())
      .member("max_clients", s.max_clients)
      .member("total_ticks", s.total_ticks)
      .member("shutting_down", s.shutting_down)
      .key("uptime_seconds")
      .integer(static_cast<std::int64_t>(uptime));
  if (recorder) {
    std::size_t tracked = 0;
    for (const auto& u : s.upstreams) tracked += u.tracked ? 1 : 0;
    w.key("recorder")
        .begin_object()
        .member("status", recorder->degraded ? "degraded" : "ok")
        .member("message", recorder->degraded ? std::string_view(recorder->message)
                                              : std::string_view("recording"))
        .member("pending_ticks", recorder->pending_rows)
        .member("tracked_streams", tracked)
        .member("data_dir", c.data_dir)
        .end_object();
  }
  if (bus) {
    w.key("nats")
        .begin_object()
        .member("role", bus->role)
        .member("node", bus->node)
        .member("connected", bus->connected)
        .member("server", bus->server);
    if (bus->role == "publisher") {
      w.member("leader", bus->leader)
          .member("leader_name", bus->leader_name)
          .member("ticks_published", bus->published)
          .member("publish_failures", bus->publish_failures);
      opt_string(w, "last_failure", bus->last_failure);
    } else {
      w.member("publisher_seen", bus->publisher_seen).member("publisher", bus->publisher);
    }
    w.end_object();
  }
  finish(w);
  return out;
}

std::string ready_json(const stream::HubSnapshot& s, bool draining, bool& ready) {
  ready = s.tws.connected && !s.shutting_down && !draining;
  std::string reason;
  if (draining || s.shutting_down) reason = "shutting down";
  else if (!s.tws.connected)
    reason = "TWS not connected" + (s.tws.last_error.empty() ? "" : ": " + s.tws.last_error);
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("ready", ready)
      .member("tws_connected", s.tws.connected)
      .member("shutting_down", s.shutting_down || draining);
  if (ready) w.key("reason").null();
  else w.member("reason", reason);
  finish(w);
  return out;
}

std::string stream_info_json(const ServerConfig& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("tick_types");
  tick_types(w);
  w.key("parameters")
      .begin_object()
      .key("tick_type")
      .begin_object()
      .member("type", "enum")
      .key("values");
  strings(w, {"Last", "AllLast", "BidAsk", "MidPoint"});
  w.member("default", "Last")
      .member("case_insensitive", true)
      .member("description", "only on /stream/{contract_id}; the path form names it instead")
      .end_object()
      .key("limit")
      .begin_object()
      .member("type", "integer")
      .member("min", kMinLimit)
      .member("max", kMaxLimit)
      .key("default")
      .null()
      .member("description", "ticks to deliver, then `complete` (limit_reached); default unlimited")
      .end_object()
      .key("timeout")
      .begin_object()
      .member("type", "integer")
      .member("min", kMinTimeout)
      .member("max", kMaxTimeout)
      .member("default", c.stream_timeout)
      .member("description", "seconds, then `complete` (timeout)")
      .end_object()
      .key("format")
      .begin_object()
      .member("type", "enum")
      .key("values");
  strings(w, {"sse"});
  w.member("default", "sse")
      .member("description", "sse only")
      .end_object()
      .key("last_event_id")
      .begin_object()
      .member("type", "integer")
      .member("min", 0)
      .key("default")
      .null()
      .member("description", "resume after this tick id (or the Last-Event-ID header)")
      .end_object()
      .end_object() // parameters
      .key("event_types")
      .begin_object()
      .member("info", "first event of a stream (contract details); also notices: reconnected, "
                      "stale, resumed, ticks_lost, market_closed (with next_open), market_open")
      .member("tick", "one tick; `id:` is the subscription's sequence number")
      .member("error", "TWS_DISCONNECTED, TWS_ERROR_<n>, SLOW_CONSUMER; after the stream started")
      .member("complete",
              "last event: reason limit_reached, timeout, stopped or shutdown; total_ticks")
      .end_object()
      .member("keepalive",
              ": keepalive comment after " + std::to_string(c.keepalive_seconds) + " s of silence")
      .key("limits");
  limits(w, c);
  w.key("websocket").begin_object().key("endpoints");
  strings(
      w, {"/ws/stream/{contract_id}/{tick_type}", "/ws/stream/{contract_id}/multi", "/ws/control"});
  w.member("schemas", "/ws/schemas").key("client_messages");
  strings(w, {"subscribe", "multi_subscribe", "unsubscribe", "unsubscribe_all", "ping", "get_stats",
              "list_streams"});
  w.key("server_messages");
  strings(w, {"connected", "subscribed", "multi_subscribed", "unsubscribed", "unsubscribed_all",
              "pong", "stats", "streams", "tick", "info", "error", "complete"});
  w.key("limits");
  ws_limits(w, c);
  w.end_object(); // websocket
  w.key("history");
  history(w, c);
  finish(w);
  return out;
}

std::string active_json(const stream::HubSnapshot& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("active_streams", s.upstreams.size())
      .member("total_clients", s.clients.size())
      .member("max_streams", s.max_streams)
      .member("max_clients", s.max_clients)
      .key("streams")
      .begin_array();
  for (const auto& u : s.upstreams)
    w.begin_object()
        .member("contract_id", u.con_id)
        .member("tick_type", u.tick_type)
        .member("stream_id", std::to_string(u.con_id) + ":" + u.tick_type)
        .member("started", u.started)
        .member("ticks", u.ticks)
        .member("rate", u.rate)
        .member("clients", u.clients)
        .member("state", u.state)
        .member("tracked", u.tracked)
        .member("req_id", u.req_id)
        .end_object();
  w.end_array().key("clients").begin_array();
  for (const auto& c : s.clients)
    w.begin_object()
        .member("id", c.id)
        .member("transport", c.transport)
        .member("remote", c.remote)
        .member("contract_id", c.con_id)
        .member("tick_type", c.tick_type)
        .member("limit", c.limit)
        .member("timeout", c.timeout_seconds)
        .member("ticks_sent", c.ticks_sent)
        .member("dropped", c.dropped)
        .member("started", c.started)
        .end_object();
  w.end_array();
  finish(w);
  return out;
}

std::string stopped_json(const std::vector<stream::StoppedStream>& stopped,
                         std::optional<int> con_id) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("message", "stopped " + std::to_string(stopped.size()) + " stream(s)" +
                             (con_id ? " of contract " + std::to_string(*con_id) : ""))
      .member("contract_id", con_id)
      .key("stopped")
      .begin_array();
  std::size_t clients = 0;
  for (const auto& s : stopped) {
    clients += s.clients;
    w.begin_object()
        .member("contract_id", s.con_id)
        .member("tick_type", s.tick_type)
        .member("stream_id", std::to_string(s.con_id) + ":" + s.tick_type)
        .member("clients", s.clients)
        .end_object();
  }
  w.end_array().member("count", stopped.size()).member("clients", clients);
  finish(w);
  return out;
}

std::string ws_stats_json(const ws::WsStatsSnapshot& st,
                          const std::map<std::string, std::size_t>& by_ip,
                          const ws::WsLimits& limits) {
  const auto round2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .member("connections", st.active_connections)
      .member("subscriptions", st.active_subscriptions)
      .key("per_ip")
      .begin_object();
  for (const auto& [ip, n] : by_ip) {
    any_key(w, ip);
    w.uinteger(n);
  }
  w.end_object()
      .member("connections_total", st.total_connections)
      .member("connections_rejected", st.rejected_connections)
      .member("subscriptions_total", st.total_subscriptions)
      .key("messages")
      .begin_object()
      .member("received", st.messages_received)
      .member("sent", st.messages_sent)
      .member("invalid", st.invalid_messages)
      .member("rate_limited", st.rate_limited)
      .member("received_per_second", round2(st.received_per_second))
      .member("sent_per_second", round2(st.sent_per_second))
      .end_object()
      .key("limits")
      .begin_object()
      .member("max_connections_per_ip", limits.max_connections_per_ip)
      .member("max_subscriptions_per_connection", limits.max_subscriptions_per_connection)
      .member("max_messages_per_second", limits.max_messages_per_second)
      .member("max_message_bytes", limits.max_message_bytes)
      .end_object()
      .member("enabled", true);
  finish(w);
  return out;
}

} // namespace http
