#include "http/ws_session_impl.hpp"

#include "http/server_log.hpp"
#include "http/ws_deflate.hpp"
#include "http/ws_text_frame.hpp"
#include "stream/tick_json.hpp"
#include "ws/ws_messages.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <spdlog/spdlog.h>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

namespace {

/// After the close frame is queued: how long the client may take to read
/// what is left and answer the close before the socket is closed anyway.
constexpr auto kCloseGrace = 5s;
/// A slow consumer or a server shutdown: close sooner.
constexpr auto kShortCloseGrace = 2s;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

void start_ws_session(beast::tcp_stream stream, beast::flat_buffer /*buffer*/,
                      bhttp::request<bhttp::string_body> request,
                      std::shared_ptr<ServerState> state, WsUpgrade upgrade) {
  std::make_shared<WsSession>(std::move(stream), std::move(state), std::move(upgrade))
      ->start(std::move(request));
}

WsSession::WsSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                     WsUpgrade upgrade)
    : ws_(stream.release_socket()), executor_(ws_.get_executor()), state_(std::move(state)),
      upgrade_(std::move(upgrade)), rate_(state_->ws_limits.max_messages_per_second),
      close_timer_(executor_), tws_grace_timer_(executor_) {
  ++state_->open_ws_sessions;
}

WsSession::~WsSession() {
  if (terminated_) return;
  // Never started or never finished (io_context stopped): give back what
  // terminate() would have.
  state_->ws_sessions.remove(registry_id_);
  if (counted_) state_->ws_stats.connection_closed();
  --state_->open_ws_sessions;
}

void WsSession::start(bhttp::request<bhttp::string_body> request) {
  handshake_ = std::move(request);
  auto& socket_buffer = ws_.next_layer();
  socket_buffer.set_owner(weak_from_this());
  socket_buffer.on_written([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock()) self->on_flushed(ec);
  });
  // The websocket layer has its own timeouts (handshake, idle pings); the
  // session writes on the bare socket (no per-operation TCP timer).
  // Liveness: after half the idle timeout without any data from the peer
  // (a message, a ping or a pong resets it), Beast sends a ping; after the
  // whole idle timeout without data, it drops the connection (the pending
  // read fails and terminate() frees everything).
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = std::chrono::seconds(state_->config.ws_idle_timeout);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  // The decorator sees the answer Beast negotiated: with permessage-deflate
  // the session compresses ticks itself unless the client limited the
  // server's window (then Beast compresses every message).
  ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(bhttp::field::server, "ib-stream");
    const std::string_view ext = res[bhttp::field::sec_websocket_extensions];
    deflate_ = ext.find("permessage-deflate") != std::string_view::npos;
    raw_frames_ = !deflate_ || ext.find("server_max_window_bits") == std::string_view::npos ||
                  ext.find("server_max_window_bits=15") != std::string_view::npos;
  }));
  websocket::permessage_deflate pmd;
  pmd.server_enable = true; // only when the client offers it
  ws_.set_option(pmd);
  ws_.read_message_max(state_->ws_limits.max_message_bytes);
  std::weak_ptr<WsSession> weak = weak_from_this();
  registry_id_ = state_->ws_sessions.add([weak] {
    if (auto self = weak.lock()) self->shutdown();
  });
  ws_.async_accept(handshake_, [self = shared_from_this()](boost::system::error_code ec) {
    self->on_accept(ec);
  });
}

void WsSession::on_accept(boost::system::error_code ec) {
  handshake_ = {};
  if (ec) {
    log_access({"GET", upgrade_.path, upgrade_.query, 400, ms_since(upgrade_.received),
                upgrade_.remote, "websocket handshake failed"});
    terminate("handshake failed: " + ec.message());
    return;
  }
  accepted_ = true;
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
    const char* code = m.starts_with("Invalid tick_type")     ? "INVALID_TICK_TYPE"
                       : m.starts_with("Invalid contract_id") ? "CONTRACT_NOT_FOUND"
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
                       r.timeout_seconds);
  }
}

void WsSession::do_read() {
  ws_.async_read(read_buffer_,
                 [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                   self->on_read(ec, n);
                 });
}

void WsSession::on_read(boost::system::error_code ec, std::size_t) {
  if (ec) {
    // message_too_big: Beast has already sent close 1009.
    terminate(ec == websocket::error::closed            ? "closed"
              : ec == websocket::error::message_too_big ? "message too big (closed 1009)"
                                                        : "read: " + ec.message());
    return;
  }
  const std::string text = beast::buffers_to_string(read_buffer_.data());
  read_buffer_.consume(read_buffer_.size());
  if (terminated_) return;
  do_read();
  if (closing_) return; // only the client's close matters now
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

void WsSession::send(std::string message) {
  if (terminated_ || closing_) return;
  queue_.push_back(
      {nullptr, std::make_shared<const std::string>(std::move(message)), nullptr, nullptr});
  if (++queued_control_ > kMaxQueuedControl) {
    slow_consumer("");
    return;
  }
  do_write();
}

void WsSession::queue_tick(const std::shared_ptr<WsSubscription>& sub, WsTick tick) {
  const auto capacity = static_cast<std::size_t>(state_->config.buffer_size);
  if (sub->ticks_queued() >= capacity) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->tick_of == sub) {
        queue_.erase(it);
        break;
      }
    }
    sub->tick_dropped();
    const auto now = std::chrono::steady_clock::now();
    if (!behind_since_) behind_since_ = now;
    else if (now - *behind_since_ >= kSlowConsumerAfter) {
      slow_consumer(sub->request_id());
      return;
    }
  }
  queue_.push_back({sub->tick_prefix(), nullptr, std::move(tick), sub});
  sub->tick_queued();
  if (sub->limit_reached()) finish_sub(sub, complete_of(*sub, "limit_reached"));
  do_write();
}

void WsSession::slow_consumer(const std::string& request_id) {
  if (closing_ || terminated_) return;
  spdlog::warn("websocket {} {}: slow consumer (behind for {} s), closing 1008", upgrade_.remote,
               upgrade_.path,
               std::chrono::duration_cast<std::chrono::seconds>(kSlowConsumerAfter).count());
  // It cannot read what is queued anyway: keep only the control messages,
  // so it may still learn why it is closed.
  std::deque<Outgoing> kept;
  for (auto& o : queue_) {
    if (o.tick_of) o.tick_of->tick_dropped();
    else kept.push_back(std::move(o));
  }
  queue_ = std::move(kept);
  ws::ErrorTarget target;
  if (!request_id.empty()) target.request_id = request_id;
  queue_.push_back({nullptr,
                    std::make_shared<const std::string>(ws::error_message(
                        stream::iso_now(), target, "SLOW_CONSUMER",
                        "The client did not read fast enough: the connection is closed",
                        "Read messages continuously, subscribe to fewer or quieter streams, or "
                        "use a limit")),
                    nullptr, nullptr});
  ++queued_control_;
  close_with(static_cast<std::uint16_t>(websocket::close_code::policy_error), "slow consumer");
  force_close_after(kShortCloseGrace);
}

void WsSession::do_write() {
  if (writes_held_ > 0 || write_pending_ || terminated_ || close_sent_) return;
  if (raw_frames_) write_raw_frames();
  if (queue_.empty()) {
    behind_since_.reset(); // caught up
    if (close_after_) do_close();
    return;
  }
  if (raw_frames_) return; // on_flushed() goes on once the socket took some
  writing_ = std::move(queue_.front());
  queue_.pop_front();
  if (writing_.tick_of) writing_.tick_of->tick_taken();
  else --queued_control_;
  buffers_[0] = writing_.head ? asio::buffer(*writing_.head) : asio::const_buffer();
  buffers_[1] = asio::buffer(writing_.tick ? *writing_.tick->suffix : *writing_.body);
  write_pending_ = true;
  ws_.text(true);
  ws_.async_write(buffers_, [self = shared_from_this()](boost::system::error_code ec,
                                                        std::size_t n) { self->on_write(ec, n); });
}

void WsSession::append_frame(CoalescingStream<asio::ip::tcp::socket>& out, const Outgoing& o) {
  if (deflate_ && o.tick && !o.tick->deflated.empty()) {
    // A stored block with the client's prefix, then the shared deflated
    // suffix; RSV1 marks the message compressed.
    const std::string& stored = o.tick_of->stored_prefix();
    const auto frame = ws_text_frame_header(stored.size() + o.tick->deflated.size(), true);
    out.append(std::array<asio::const_buffer, 3>{asio::buffer(frame.bytes.data(), frame.size),
                                                 asio::buffer(stored),
                                                 asio::buffer(o.tick->deflated)});
    return;
  }
  const std::string& body = o.tick ? *o.tick->suffix : *o.body;
  const std::size_t head = o.head ? o.head->size() : 0;
  const auto frame = ws_text_frame_header(head + body.size());
  out.append(std::array<asio::const_buffer, 3>{
      asio::buffer(frame.bytes.data(), frame.size),
      o.head ? asio::buffer(*o.head) : asio::const_buffer(), asio::buffer(body)});
}

void WsSession::write_raw_frames() {
  auto& out = ws_.next_layer();
  std::size_t sent = 0;
  for (;;) {
    while (!queue_.empty() && out.has_room()) {
      const Outgoing& o = queue_.front();
      append_frame(out, o);
      if (o.tick_of) o.tick_of->tick_taken();
      else --queued_control_;
      queue_.pop_front();
      ++sent;
    }
    out.flush();
    // The socket took it all at once: room again for what is still queued.
    if (queue_.empty() || !out.has_room()) break;
  }
  if (sent > 0) state_->ws_stats.messages_sent(sent);
}

void WsSession::on_flushed(boost::system::error_code ec) {
  if (ec) {
    terminate("write: " + ec.message());
    return;
  }
  if (raw_frames_) do_write();
}

void WsSession::on_write(boost::system::error_code ec, std::size_t) {
  write_pending_ = false;
  writing_ = {};
  if (ec) {
    terminate("write: " + ec.message());
    return;
  }
  state_->ws_stats.messages_sent();
  do_write();
}

void WsSession::close_with(std::uint16_t code, std::string reason) {
  if (close_after_ || terminated_) return;
  close_after_.emplace(code, std::move(reason));
  closing_ = true;
  force_close_after(kCloseGrace);
  do_write();
}

void WsSession::do_close() {
  close_sent_ = true;
  // Custom codes (4000..4003) are valid close codes outside the enum's names.
  websocket::close_reason reason(static_cast<websocket::close_code>(close_after_->first),
                                 close_after_->second);
  ws_.async_close(reason, [self = shared_from_this()](boost::system::error_code ec) {
    self->terminate(ec ? "close: " + ec.message()
                       : "closed " + std::to_string(self->close_after_->first));
  });
}

void WsSession::force_close_after(std::chrono::milliseconds delay) {
  close_timer_.expires_after(delay);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->terminate("close timed out");
  });
}

void WsSession::terminate(const std::string& why) {
  if (terminated_) return;
  terminated_ = true;
  std::uint64_t ticks = 0;
  for (auto& [rid, sub] : subs_) {
    sub->timeout_timer().cancel();
    ticks += sub->ticks_sent();
    leave_hub(*sub);
    sub->set_finished();
    if (sub->active()) state_->ws_stats.subscriptions_removed();
  }
  subs_.clear();
  queue_.clear();
  close_timer_.cancel();
  tws_grace_timer_.cancel();
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
  lease_.reset();
  state_->ws_sessions.remove(registry_id_);
  if (counted_) state_->ws_stats.connection_closed();
  --state_->open_ws_sessions;
  if (accepted_) spdlog::info("websocket {} {} ended: {}", upgrade_.remote, upgrade_.path, why);
  else spdlog::debug("websocket {} {} not accepted: {}", upgrade_.remote, upgrade_.path, why);
}

void WsSession::shutdown() {
  asio::post(executor_, [self = shared_from_this()] { self->shutdown_now(); });
}

void WsSession::shutdown_now() {
  if (terminated_ || closing_) return;
  const auto subs = subs_;
  for (const auto& [rid, sub] : subs) {
    if (sub->active() && !sub->finished()) send(complete_of(*sub, "shutdown"));
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    forget(sub);
  }
  close_with(static_cast<std::uint16_t>(websocket::close_code::going_away), "server shutting down");
  force_close_after(kShortCloseGrace);
}

void WsSession::arm_tws_grace() {
  const int grace = state_->config.ws_tws_grace;
  if (grace <= 0) return; // 0: never close for TWS
  tws_grace_timer_.expires_after(std::chrono::seconds(grace));
  tws_grace_timer_.async_wait([self = shared_from_this(), grace](boost::system::error_code ec) {
    if (ec || self->terminated_ || self->tws_down_ == 0) return;
    self->send(ws::error_message(stream::iso_now(), {}, "TWS_DISCONNECTED",
                                 "The connection to TWS has been lost for more than " +
                                     std::to_string(grace) + " s",
                                 "Reconnect later; GET /health says when TWS is back"));
    self->close_with(4003, "TWS connection lost");
  });
}

} // namespace http
