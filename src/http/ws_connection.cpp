// WsConnection: the read loop, closing, server shutdown and the TWS grace
// (see ws_connection.hpp for the roles of the other files).
#include "http/ws_connection.hpp"
#include "http/slow_close.hpp"

#include "stream/tick_json.hpp"
#include "ws/ws_messages.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <spdlog/spdlog.h>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

namespace {

/// After the close frame is queued: how long the client may take to read
/// what is left and answer the close before the socket is closed anyway;
/// a client still reading (the buffer drains) gets this much more each
/// time, up to kCloseMax in all.
constexpr auto kCloseGrace = 5s;
constexpr auto kCloseMax = 60s;
/// A server shutdown: close sooner.
constexpr auto kShortCloseGrace = 2s;

} // namespace

WsConnection::WsConnection(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           WsUpgrade upgrade)
    : ws_(stream.release_socket()), executor_(ws_.get_executor()), state_(std::move(state)),
      upgrade_(std::move(upgrade)), rate_(state_->ws_limits.max_messages_per_second),
      close_timer_(executor_), tws_grace_timer_(executor_), behind_timer_(executor_) {
  ++state_->open_ws_sessions;
}

WsConnection::~WsConnection() {
  if (phase_ == Phase::closed) return;
  // Never started or never finished (the loop stopped): give back what
  // terminate() would have.
  for (auto& [rid, sub] : subs_) sub->set_finished();
  state_->ws_sessions.remove(registry_id_);
  if (counted_) state_->ws_stats.connection_closed();
  --state_->open_ws_sessions;
}

void WsConnection::do_read() {
  ws_.async_read(read_buffer_,
                 [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                   self->on_read(ec, n);
                 });
}

void WsConnection::on_read(boost::system::error_code ec, std::size_t) {
  if (ec) {
    // message_too_big: Beast has already sent close 1009.
    terminate(ec == websocket::error::closed            ? "closed"
              : ec == websocket::error::message_too_big ? "message too big (closed 1009)"
                                                        : "read: " + ec.message());
    return;
  }
  const std::string text = beast::buffers_to_string(read_buffer_.data());
  read_buffer_.consume(read_buffer_.size());
  if (phase_ == Phase::closed) return;
  do_read();
  if (phase_ != Phase::open) return; // only the client's close matters now
  state_->ws_stats.message_received();
  if (ws_.got_binary()) {
    send(ws::error_message(stream::iso_now(), {}, "INVALID_MESSAGE",
                           "binary messages are not supported",
                           "Send JSON text messages (GET /ws/schemas)"));
    close_with(static_cast<std::uint16_t>(websocket::close_code::unknown_data),
               "binary messages are not supported");
    return;
  }
  if (!rate_.try_accept()) {
    state_->ws_stats.rate_limited();
    const auto max = std::to_string(state_->ws_limits.max_messages_per_second);
    send(ws::error_message(stream::iso_now(), {}, "RATE_LIMIT_EXCEEDED",
                           "More than " + max + " messages per second",
                           "Send at most " + max + " messages per second"));
    close_with(static_cast<std::uint16_t>(websocket::close_code::policy_error),
               "message rate limit exceeded");
    return;
  }
  handle_text(text);
}

void WsConnection::close_with(std::uint16_t code, std::string reason) {
  if (phase_ != Phase::open) return;
  // Everything appended so far is in the socket buffer: the close frame
  // goes right behind it.
  phase_ = Phase::closing;
  close_code_ = code;
  behind_timer_.cancel();
  force_close_after(kCloseGrace, kCloseMax);
  // Custom codes (4000..4003) are valid close codes outside the enum's names.
  websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
  ws_.async_close(why, [self = shared_from_this()](boost::system::error_code ec) {
    self->terminate(ec ? "close: " + ec.message() : "closed " + std::to_string(self->close_code_));
  });
}

void WsConnection::force_close_after(std::chrono::milliseconds delay,
                                     std::chrono::milliseconds at_most) {
  // A slow client that is still reading what was written before the close
  // frame is given more time (it is owed the error and the close code); one
  // that reads nothing is not.
  close_when_reading_stops(close_timer_, beast::get_lowest_layer(ws_), delay,
                           std::chrono::steady_clock::now() + at_most,
                           [self = shared_from_this()] { self->terminate("close timed out"); });
}

void WsConnection::terminate(const std::string& why) {
  if (phase_ == Phase::closed) return;
  const bool accepted = phase_ != Phase::handshaking;
  phase_ = Phase::closed;
  for (auto& [rid, sub] : subs_) {
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    if (sub->active()) state_->ws_stats.subscriptions_removed();
    sub->set_finished();
  }
  subs_.clear();
  close_timer_.cancel();
  tws_grace_timer_.cancel();
  behind_timer_.cancel();
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
  lease_.reset();
  state_->ws_sessions.remove(registry_id_);
  if (counted_) state_->ws_stats.connection_closed();
  --state_->open_ws_sessions;
  if (accepted) spdlog::info("websocket {} {} ended: {}", upgrade_.remote, upgrade_.path, why);
  else spdlog::debug("websocket {} {} not accepted: {}", upgrade_.remote, upgrade_.path, why);
}

void WsConnection::shutdown() {
  asio::post(executor_, [self = shared_from_this()] { self->shutdown_now(); });
}

void WsConnection::shutdown_now() {
  if (phase_ != Phase::open) return;
  const auto subs = subs_;
  for (const auto& [rid, sub] : subs) {
    if (sub->active()) {
      complete_sub(sub, "shutdown", false);
      continue;
    }
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    forget(sub);
  }
  close_with(static_cast<std::uint16_t>(websocket::close_code::going_away), "server shutting down");
  force_close_after(kShortCloseGrace, kShortCloseGrace);
}

void WsConnection::arm_tws_grace() {
  const int grace = state_->config.ws_tws_grace;
  if (grace <= 0) return; // 0: never close for TWS
  tws_grace_timer_.expires_after(std::chrono::seconds(grace));
  tws_grace_timer_.async_wait([self = shared_from_this(), grace](boost::system::error_code ec) {
    if (ec || self->phase_ != Phase::open || self->tws_down_ == 0) return;
    self->send(ws::error_message(stream::iso_now(), {}, "TWS_DISCONNECTED",
                                 "The connection to TWS has been lost for more than " +
                                     std::to_string(grace) + " s",
                                 "Reconnect later; GET /health says when TWS is back"));
    self->close_with(4003, "TWS connection lost");
  });
}

} // namespace http
