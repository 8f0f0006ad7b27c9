// http::WsConnection: one WebSocket connection of ib-stream-server (api.md
// §5), private to the ws_*.cpp files, one per role:
//
//   ws_admission.cpp      the handshake and the refusals made after it
//                         (API key, per-IP limit, invalid path), `connected`
//   ws_connection.cpp     the read loop, closing, shutdown, the TWS grace
//   ws_handlers.cpp       the client messages (validation, dispatch, replies)
//   ws_subscriptions.cpp  opening, answering, ending subscriptions
//   ws_writer.cpp         the writer: control messages and the
//                         subscriptions' logs into the socket, slow consumers
//
// Write contract (design.md): everything runs on the connection's event
// loop. The socket is written through a CoalescingStream: the connection
// frames its messages itself and appends them, whole, to its buffer; Beast
// writes only its own frames (handshake answer, pongs, pings, close)
// through the same buffer, in order. Control messages (replies, info,
// error, complete) are appended when they are made and never dropped; a
// client that lets more than kMaxQueuedControl of them pile up is a slow
// consumer. Ticks and notices are read from each subscription's log
// (stream::ClientStream) while the buffer has room, so a burst goes out in
// one socket write; a subscription that falls behind its window skips
// ahead (`info` ticks_lost) and one that stays behind ends the connection
// with `error` SLOW_CONSUMER and close 1008. A close is written behind
// every message appended before it.
//
// The read side keeps one async_read pending; Beast answers pings and,
// with timeout::suggested(server) + IB_STREAM_WS_IDLE_TIMEOUT and
// keep-alive pings, pings a peer silent for half the idle timeout and drops
// one silent for all of it.
//
// Thread-safety: shutdown() may be called from any thread (it posts);
// WsSubscription callbacks arrive on the loop.
#pragma once

#include "http/coalescing_stream.hpp"
#include "http/ws_session.hpp"
#include "http/ws_subscription.hpp"
#include "ws/client_message.hpp"
#include "ws/ip_connection_limiter.hpp"
#include "ws/message_rate_limiter.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace http {

class WsConnection : public WsSubscriptionOwner, public std::enable_shared_from_this<WsConnection> {
public:
  /// Client messages in a row that fail validation before the connection
  /// is closed with 4000 (each one is answered with INVALID_MESSAGE).
  static constexpr int kMaxInvalidInARow = 10;
  /// Control messages waiting for the socket beyond which the client
  /// counts as not reading.
  static constexpr std::size_t kMaxQueuedControl = 1024;

  WsConnection(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
               WsUpgrade upgrade);
  ~WsConnection() override;

  /// Accepts the handshake and serves the connection (ws_admission.cpp).
  void start(boost::beast::http::request<boost::beast::http::string_body> request);
  /// Server shutdown: every subscription gets `complete` shutdown, then
  /// close 1001. Any thread.
  void shutdown();

  // WsSubscriptionOwner (the loop).
  void on_sub_advanced() override;
  void on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                  const std::optional<stream::Notice>& why) override;
  void on_sub_tws(const std::shared_ptr<WsSubscription>& sub, bool down) override;

private:
  enum class Phase {
    handshaking, // the upgrade is being answered
    open,        // serving: messages may be appended
    closing,     // the close frame is on its way: nothing more is appended
    closed,      // socket closed, everything released
  };

  /// A subscribe / multi_subscribe (or the path's subscription) waiting for
  /// its Hub::open answers: replied to when the last one is in.
  struct PendingOpen {
    std::optional<std::string> id; // the client's id; none for the path's
    bool multi = false;
    int con_id = 0;
    std::vector<std::shared_ptr<WsSubscription>> subs;
    std::size_t waiting = 0;
    std::optional<stream::OpenError> error; // the first refusal
  };

  using SocketBuffer = CoalescingStream<boost::asio::ip::tcp::socket>;

  // ws_admission.cpp
  void on_accept(boost::system::error_code ec);

  // ws_connection.cpp
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  /// Sends the close frame behind everything appended; later calls are ignored.
  void close_with(std::uint16_t code, std::string reason);
  /// Closes the socket after `delay` unless the client is still reading
  /// (it acknowledged more bytes meanwhile: then again after `delay`, up to
  /// `at_most` in all).
  void force_close_after(std::chrono::milliseconds delay, std::chrono::milliseconds at_most);
  void terminate(const std::string& why);
  void shutdown_now();
  void arm_tws_grace();

  /// Runs `then` with the contract id of a subscribe message: at once for
  /// an id, after resolving a spec (an error message when it fails).
  void with_contract(const std::string& id, int contract_id,
                     const std::optional<std::string>& contract,
                     std::function<void(WsConnection&, int)> then);

  // ws_writer.cpp
  SocketBuffer& socket_buffer() { return ws_.next_layer(); }
  /// Appends a control message (never dropped) and writes.
  void send(std::string message);
  /// Reads the active subscriptions' logs while the socket buffer has room,
  /// and writes.
  void pump();
  /// A socket write of the coalescing layer finished.
  void on_flushed(boost::system::error_code ec);
  /// The buffer is full: look again in a while (window, slow consumers).
  void arm_behind_check();
  void on_behind_check(boost::system::error_code ec);
  void slow_consumer(const std::string& request_id);
  void count_sent(std::size_t messages);

  // ws_handlers.cpp
  void handle_text(std::string_view text);
  void handle(const ws::Subscribe& m);
  void handle(const ws::MultiSubscribe& m);
  void handle(const ws::Unsubscribe& m);
  void handle(const ws::UnsubscribeAll& m);
  void handle(const ws::Ping& m);
  void handle(const ws::GetStats& m);
  void handle(const ws::ListStreams& m);
  bool accepts_subscribe(const std::string& id);

  // ws_subscriptions.cpp
  void open_subscriptions(std::optional<std::string> id, bool multi, int con_id,
                          const std::vector<tws::TickType>& types, std::optional<int> limit,
                          std::optional<int> timeout,
                          std::optional<std::int64_t> since_ms = std::nullopt);
  /// A `since` of a subscribe message in Unix ms; false (and an error sent)
  /// when it is not a time or a duration.
  bool since_of(const std::string& id, const std::optional<std::string>& since,
                std::optional<std::int64_t>& out);
  void on_opened(const std::shared_ptr<PendingOpen>& pending,
                 const std::shared_ptr<WsSubscription>& sub, stream::OpenResult result);
  void answer(const std::shared_ptr<PendingOpen>& pending);
  void on_sub_timeout(const std::shared_ptr<WsSubscription>& sub, boost::system::error_code ec);
  /// A subscription's last message is appended: it leaves. The path's own
  /// subscription is the connection's purpose: like SSE, the connection
  /// ends with it (close 1000) unless `close_path` is false.
  void finish_sub(const std::shared_ptr<WsSubscription>& sub, bool close_path = true);
  /// Ends a subscription with `complete` (reason) now.
  void complete_sub(const std::shared_ptr<WsSubscription>& sub, std::string_view reason,
                    bool close_path = true);
  void leave_hub(WsSubscription& sub);
  void forget(const std::shared_ptr<WsSubscription>& sub);
  void update_tws_state(const std::shared_ptr<WsSubscription>& sub, bool down);
  std::string new_request_id();

  boost::beast::websocket::stream<SocketBuffer> ws_;
  const boost::asio::any_io_executor executor_; // the connection's event loop
  std::shared_ptr<ServerState> state_;
  const WsUpgrade upgrade_;
  boost::beast::http::request<boost::beast::http::string_body> handshake_; // until accepted
  std::optional<ws::IpConnectionLimiter::Lease> lease_;
  ws::MessageRateLimiter rate_;
  boost::beast::flat_buffer read_buffer_;
  boost::asio::steady_timer close_timer_;
  boost::asio::steady_timer tws_grace_timer_;
  boost::asio::steady_timer behind_timer_;

  std::map<std::string, std::shared_ptr<WsSubscription>> subs_; // by request_id, opening too
  std::uint64_t registry_id_ = 0;
  std::size_t tws_down_ = 0;             // subscriptions that lost TWS
  std::size_t queued_control_ = 0;       // control messages appended while the socket was busy
  std::int64_t written_received_ns_ = 0; // the oldest live tick not yet written (metrics)
  int invalid_in_a_row_ = 0;
  std::uint16_t close_code_ = 0;
  Phase phase_ = Phase::handshaking;
  bool deflate_ = false; // permessage-deflate negotiated: ticks go compressed
  bool counted_ = false; // counted in WsStats as an open connection
  bool behind_check_armed_ = false;
};

} // namespace http
