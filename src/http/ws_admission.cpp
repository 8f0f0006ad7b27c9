// WsConnection, admission: the WebSocket handshake (permessage-deflate
// negotiation) and what is decided right after it: the API key, the per-IP
// connection limit, a shutdown in progress, an invalid path - each refused
// with an `error` message and a close code a browser can read - then
// `connected` and, on /ws/stream/{contract_id}/{tick_type}, the path's own
// subscription.
#include "http/server_log.hpp"
#include "http/ws_connection.hpp"
#include "stream/tick_json.hpp"
#include "ws/ws_messages.hpp"

#include <boost/beast/core/stream_traits.hpp>
#include <spdlog/spdlog.h>

#include <cctype>

namespace http {
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;

namespace {

/// The client's offer asks the server to compress with a window smaller
/// than 32 KiB (server_max_window_bits < 15). Such an offer is declined:
/// RFC 7692 lets a server decline, and ticks are deflated once for every
/// client, with the full window.
bool limits_server_window(std::string_view offer) {
  constexpr std::string_view kParam = "server_max_window_bits";
  for (auto at = offer.find(kParam); at != std::string_view::npos;
       at = offer.find(kParam, at + kParam.size())) {
    std::size_t i = at + kParam.size();
    while (i < offer.size() && offer[i] == ' ') ++i;
    if (i >= offer.size() || offer[i] != '=') continue;
    ++i;
    while (i < offer.size() && (offer[i] == ' ' || offer[i] == '"')) ++i;
    int bits = 0;
    bool digits = false;
    while (i < offer.size() && std::isdigit(static_cast<unsigned char>(offer[i]))) {
      bits = bits * 10 + (offer[i++] - '0');
      digits = true;
      if (bits > 99) break;
    }
    if (digits && bits < 15) return true;
  }
  return false;
}

} // namespace

void start_ws_session(beast::tcp_stream stream, beast::flat_buffer /*buffer*/,
                      bhttp::request<bhttp::string_body> request,
                      std::shared_ptr<ServerState> state, WsUpgrade upgrade) {
  std::make_shared<WsConnection>(std::move(stream), std::move(state), std::move(upgrade))
      ->start(std::move(request));
}

void WsConnection::start(bhttp::request<bhttp::string_body> request) {
  handshake_ = std::move(request);
  auto& buffer = socket_buffer();
  buffer.set_owner(weak_from_this());
  buffer.on_written([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock()) self->on_flushed(ec);
  });
  // The websocket layer has its own timeouts (handshake, idle pings); the
  // connection writes on the bare socket (no per-operation TCP timer).
  // Liveness: after half the idle timeout without any data from the peer
  // (a message, a ping or a pong resets it), Beast sends a ping; after the
  // whole idle timeout without data, it drops the connection (the pending
  // read fails and terminate() frees everything).
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = std::chrono::seconds(state_->config.ws_idle_timeout);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  // permessage-deflate when the client offers it (and leaves the server its
  // full window): ticks then go compressed, each deflated once for all
  // clients; the rare other messages go uncompressed (RSV1 unset, as RFC
  // 7692 allows). Beast compresses nothing itself: it writes only control
  // frames.
  websocket::permessage_deflate pmd;
  pmd.server_enable = !limits_server_window(handshake_[bhttp::field::sec_websocket_extensions]);
  ws_.set_option(pmd);
  ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(bhttp::field::server, "ib-stream");
    deflate_ = res[bhttp::field::sec_websocket_extensions].find("permessage-deflate") !=
               std::string_view::npos;
  }));
  ws_.read_message_max(state_->ws_limits.max_message_bytes);
  std::weak_ptr<WsConnection> weak = weak_from_this();
  registry_id_ = state_->ws_sessions.add([weak] {
    if (auto self = weak.lock()) self->shutdown();
  });
  ws_.async_accept(handshake_, [self = shared_from_this()](boost::system::error_code ec) {
    self->on_accept(ec);
  });
}

void WsConnection::on_accept(boost::system::error_code ec) {
  handshake_ = {};
  if (ec) {
    log_access({"GET", upgrade_.path, upgrade_.query, 400, ms_since(upgrade_.received),
                upgrade_.remote, "websocket handshake failed"});
    terminate("handshake failed: " + ec.message());
    return;
  }
  phase_ = Phase::open;
  log_access({"GET", upgrade_.path, upgrade_.query, 101, ms_since(upgrade_.received),
              upgrade_.remote, "websocket"});
  do_read(); // also receives the client's answer to a close
  const auto now = stream::iso_now();
  // Refusals after the handshake: a browser cannot read an HTTP status.
  if (!upgrade_.authorized) {
    state_->ws_stats.connection_rejected();
    send(ws::error_message(now, {}, "AUTH_REQUIRED", "Missing or wrong API key",
                           "Connect with the api_key query parameter or 'Authorization: Bearer "
                           "<key>'"));
    close_with(4001, "authentication required");
    return;
  }
  lease_ = state_->ws_connections.acquire(upgrade_.ip);
  if (!lease_) {
    state_->ws_stats.connection_rejected();
    const auto max = std::to_string(state_->ws_limits.max_connections_per_ip);
    send(ws::error_message(now, {}, "RATE_LIMIT_EXCEEDED",
                           "Too many WebSocket connections from " + upgrade_.ip + " (limit " + max +
                               ")",
                           "Close another connection, or subscribe to several streams on one "
                           "connection (/ws/stream/{contract_id}/multi)"));
    close_with(static_cast<std::uint16_t>(websocket::close_code::policy_error),
               "too many connections from this address");
    return;
  }
  if (state_->draining) {
    state_->ws_stats.connection_rejected();
    close_with(static_cast<std::uint16_t>(websocket::close_code::going_away),
               "server shutting down");
    return;
  }
  state_->ws_stats.connection_opened();
  counted_ = true;
  if (upgrade_.path_error) {
    const auto& e = *upgrade_.path_error;
    const std::string_view m = e.message;
    // A contract spec that did not resolve keeps its code
    // (CONTRACT_NOT_FOUND, AMBIGUOUS_CONTRACT, RATE_LIMIT_EXCEEDED, ...).
    const bool lookup = e.code != "INVALID_PARAMETER";
    const std::string code = lookup ? (e.status == 503 ? "CONNECTION_ERROR" : e.code)
                             : m.starts_with("Invalid tick_type") ? "INVALID_TICK_TYPE"
                             : m.starts_with("Invalid contract")  ? "CONTRACT_NOT_FOUND"
                                                                  : "INVALID_MESSAGE";
    send(ws::error_message(now, {}, code, e.message, e.details));
    close_with(4002, "invalid contract or tick type in the path");
    return;
  }
  send(ws::connected_message(now, IBS_VERSION,
                             {state_->ws_limits.max_subscriptions_per_connection,
                              static_cast<std::size_t>(state_->config.max_streams)}));
  if (upgrade_.endpoint == WsEndpoint::stream && upgrade_.stream) {
    const auto& r = *upgrade_.stream;
    open_subscriptions(std::nullopt, false, r.contract_id, {r.tick_type}, r.limit,
                       r.timeout_seconds, r.since_ms);
  }
}

} // namespace http
