// http::WsSession: one WebSocket connection of ib-stream-server (api.md §5).
// Private to ws_session.cpp (I/O, queue, lifecycle) and
// ws_session_messages.cpp (client messages, subscriptions).
//
// Write contract (design.md): everything runs on the socket's strand; at
// most one async_write is in flight; every message goes through one
// outgoing queue per connection:
// - control messages (replies, info, error, complete) are never dropped;
// - ticks are bounded per subscription (IB_STREAM_BUFFER_SIZE each): a full
//   subscription drops its oldest queued tick (counted in /stream/active);
//   a client that stays behind - ticks dropped and the queue never empty
//   for kSlowConsumerAfter - is a slow consumer: its queued ticks are
//   discarded, `error` SLOW_CONSUMER, close 1008. (Counting drops per
//   write, as SSE does, would end healthy clients: a WebSocket write
//   carries one message, so a burst from TWS outruns any single write.)
// - more than kMaxQueuedControl queued control messages (a client that
//   sends requests but never reads replies) is a slow consumer too;
// - a close is queued behind the messages before it (so `complete` and
//   `error` arrive before the close frame).
// The socket is written through a CoalescingStream: the session frames its
// messages itself and every message queued by the time the socket can take
// more goes out in one socket write (raw_frames_). With permessage-deflate,
// ticks go compressed, each tick deflated once for all clients
// (ws_deflate.hpp), the rare other messages uncompressed (RSV1 unset, as
// RFC 7692 allows). Only when the client limits the server's window
// (server_max_window_bits < 15) does Beast write - and compress - one
// message per write. Either way Beast's own frames (pongs, pings, close) go
// through the same buffer, in order.
// The read side keeps one async_read pending; Beast answers pings and, with
// timeout::suggested(server) + IB_STREAM_WS_IDLE_TIMEOUT and keep-alive
// pings, pings a peer silent for half the idle timeout and drops one silent
// for all of it.
//
// Thread-safety: WsSubscription callbacks arrive posted to the strand;
// shutdown() may be called from any thread (it posts).
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

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace http {

class WsSession : public WsSubscriptionSink, public std::enable_shared_from_this<WsSession> {
public:
  /// Client messages in a row that fail validation before the connection
  /// is closed with 4000 (each one is answered with INVALID_MESSAGE).
  static constexpr int kMaxInvalidInARow = 10;
  /// Queued control messages beyond which the client counts as not reading.
  static constexpr std::size_t kMaxQueuedControl = 1024;
  /// Dropping ticks without ever catching up for this long: slow consumer.
  static constexpr std::chrono::seconds kSlowConsumerAfter{5};

  WsSession(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state, WsUpgrade upgrade);
  ~WsSession() override;

  void start(boost::beast::http::request<boost::beast::http::string_body> request);
  /// Server shutdown: every subscription gets `complete` shutdown, then
  /// close 1001. Any thread.
  void shutdown();

  void on_sub_tick(const std::shared_ptr<WsSubscription>& sub, WsTick tick) override;
  void on_sub_notice(const std::shared_ptr<WsSubscription>& sub,
                     const stream::Notice& notice) override;
  void on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                  const std::optional<stream::Notice>& why) override;
  /// A burst of ticks from one drain goes to the socket in one write.
  void hold_writes() override { ++writes_held_; }
  void release_writes() override {
    if (--writes_held_ == 0) do_write();
  }

private:
  /// One queued message: a tick is the subscription's prefix (`head`) +
  /// the tick's shared bytes; anything else is `body` alone.
  struct Outgoing {
    stream::Frame head;
    stream::Frame body;
    WsTick tick;
    std::shared_ptr<WsSubscription> tick_of;
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

  // ws_session.cpp: I/O and lifecycle.
  void on_accept(boost::system::error_code ec);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void send(std::string message);
  void queue_tick(const std::shared_ptr<WsSubscription>& sub, WsTick tick);
  void slow_consumer(const std::string& request_id);
  void do_write();
  /// Moves queued messages into the socket's buffer as whole frames.
  void write_raw_frames();
  void append_frame(CoalescingStream<boost::asio::ip::tcp::socket>& out, const Outgoing& o);
  /// A socket write of the coalescing layer finished.
  void on_flushed(boost::system::error_code ec);
  void on_write(boost::system::error_code ec, std::size_t bytes);
  /// Queues the close frame behind everything queued; later calls are ignored.
  void close_with(std::uint16_t code, std::string reason);
  void do_close();
  void force_close_after(std::chrono::milliseconds delay);
  void terminate(const std::string& why);
  void arm_tws_grace();
  void shutdown_now();

  // ws_session_messages.cpp: protocol.
  void handle_text(std::string_view text);
  void handle(const ws::Subscribe& m);
  void handle(const ws::MultiSubscribe& m);
  void handle(const ws::Unsubscribe& m);
  void handle(const ws::UnsubscribeAll& m);
  void handle(const ws::Ping& m);
  void handle(const ws::GetStats& m);
  void handle(const ws::ListStreams& m);
  bool accepts_subscribe(const std::string& id);
  void open_subscriptions(std::optional<std::string> id, bool multi, int con_id,
                          const std::vector<tws::TickType>& types, std::optional<int> limit,
                          std::optional<int> timeout);
  void on_opened(const std::shared_ptr<PendingOpen>& pending,
                 const std::shared_ptr<WsSubscription>& sub, stream::OpenResult result);
  void answer(const std::shared_ptr<PendingOpen>& pending);
  void on_sub_timeout(const std::shared_ptr<WsSubscription>& sub, boost::system::error_code ec);
  /// Ends a subscription with its last message (complete / error).
  void finish_sub(const std::shared_ptr<WsSubscription>& sub, std::string last_message);
  void leave_hub(WsSubscription& sub);
  void forget(const std::shared_ptr<WsSubscription>& sub);
  void update_tws_state(const std::shared_ptr<WsSubscription>& sub, bool down);
  std::string new_request_id();
  std::string complete_of(const WsSubscription& sub, std::string_view reason) const;

  boost::beast::websocket::stream<CoalescingStream<boost::asio::ip::tcp::socket>> ws_;
  const boost::asio::any_io_executor executor_; // the socket's strand
  std::shared_ptr<ServerState> state_;
  const WsUpgrade upgrade_;
  boost::beast::http::request<boost::beast::http::string_body> handshake_; // until accepted
  std::optional<ws::IpConnectionLimiter::Lease> lease_;
  ws::MessageRateLimiter rate_;
  boost::beast::flat_buffer read_buffer_;
  boost::asio::steady_timer close_timer_;
  boost::asio::steady_timer tws_grace_timer_;

  std::map<std::string, std::shared_ptr<WsSubscription>> subs_; // by request_id, pending too
  std::deque<Outgoing> queue_;
  std::size_t queued_control_ = 0;
  Outgoing writing_; // owned until its write completes
  std::array<boost::asio::const_buffer, 2> buffers_;
  /// First tick dropped since the queue was last empty (unset: caught up).
  std::optional<std::chrono::steady_clock::time_point> behind_since_;
  std::optional<std::pair<std::uint16_t, std::string>> close_after_;
  std::uint64_t registry_id_ = 0;
  std::size_t tws_down_ = 0; // subscriptions that lost TWS
  int invalid_in_a_row_ = 0;
  bool accepted_ = false;
  bool raw_frames_ = true; // the session frames messages itself
  bool deflate_ = false;   // permessage-deflate negotiated: ticks go compressed
  bool write_pending_ = false;
  int writes_held_ = 0;     // hold_writes() without release_writes() yet
  bool closing_ = false;    // close frame queued or sent: no new work
  bool close_sent_ = false; // async_close started
  bool terminated_ = false;
  bool counted_ = false; // counted in WsStats as an open connection
};

} // namespace http
