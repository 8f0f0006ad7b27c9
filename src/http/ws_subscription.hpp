// http::WsSubscription: one subscription of a WebSocket connection (one
// client stream at the Hub, api.md §5 `request_id`), and its accounting,
// which mirrors stream::ClientStream exactly: a tick counts when it is taken
// for writing, a tick dropped from the queue never counts, and once the
// ticks taken plus the ticks queued reach `limit` the subscription ends with
// `complete` (`limit_reached`, total_ticks = limit).
//
// The connection (WsSession) keeps one outgoing queue for all of its
// subscriptions; a WsSubscription only counts what of it is its own.
//
// Thread-safety: the stream::Subscriber callbacks may be called from any
// thread (the Hub's strand): they build the tick's shared WebSocket suffix
// (once per tick, WsTickCache), queue it in a small inbox and post one drain
// to the connection's strand when none is pending (order is kept). Every
// other member runs on the connection's strand only.
#pragma once

#include "http/ws_tick_cache.hpp"
#include "stream/delivery_inbox.hpp"
#include "stream/hub.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace http {

class WsSubscription;

/// What a subscription reports to its connection; called on the
/// connection's strand.
class WsSubscriptionSink {
public:
  virtual ~WsSubscriptionSink() = default;
  virtual void on_sub_tick(const std::shared_ptr<WsSubscription>& sub, WsTick tick) = 0;
  virtual void on_sub_notice(const std::shared_ptr<WsSubscription>& sub,
                             const stream::Notice& notice) = 0;
  virtual void on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                          const std::optional<stream::Notice>& why) = 0;
  /// Around one drain of the subscription's inbox: what it queues between
  /// the two calls may be written to the socket together, once.
  virtual void hold_writes() {}
  virtual void release_writes() {}
};

class WsSubscription : public stream::Subscriber,
                       public std::enable_shared_from_this<WsSubscription> {
public:
  struct Params {
    std::string request_id; // "req-<n>"
    int con_id = 0;
    tws::TickType tick_type = tws::TickType::last;
    std::optional<int> limit;
    int timeout_seconds = 300;
    bool from_path = false; // the connect-time subscription of /ws/stream/{id}/{type}
    bool deflate = false;   // the connection compresses ticks (WsTickBytes::deflated)
  };

  WsSubscription(boost::asio::any_io_executor strand, std::weak_ptr<WsSubscriptionSink> sink,
                 WsTickCache& cache, Params params);

  // stream::Subscriber: any thread; they only post.
  void deliver(const stream::TickEventPtr& tick) override;
  void notify(const stream::Notice& notice) override;
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;

  // The connection's strand from here on.

  const Params& params() const { return params_; }
  const std::string& request_id() const { return params_.request_id; }
  /// `{"type":"tick","request_id":"<rid>",`: the same bytes for every tick.
  const stream::Frame& tick_prefix() const { return prefix_; }
  /// The prefix as a stored DEFLATE block: the start of a compressed tick.
  const std::string& stored_prefix() const { return stored_prefix_; }

  /// Hub::open succeeded: the stream id, counters and contract; its replay
  /// (ticks received while the open waited) is held like early ticks.
  void opened(const stream::OpenResult& result);
  bool is_open() const { return stream_id_ != 0; }
  std::uint64_t stream_id() const { return stream_id_; }
  const stream::ContractInfo& contract() const { return contract_; }
  /// The Hub still knows this stream (close() it when leaving).
  bool in_hub() const { return in_hub_; }
  void set_in_hub(bool in) { in_hub_ = in; }

  /// `subscribed` was sent: ticks flow to the client from now on.
  bool active() const { return active_; }
  void activate();
  /// A last message (complete / error) is queued, or it was unsubscribed.
  bool finished() const { return finished_; }
  void set_finished() { finished_ = true; }

  // Accounting of the connection's queue.
  std::uint64_t ticks_queued() const { return ticks_queued_; }
  void tick_queued() { ++ticks_queued_; }
  /// A queued tick went to the socket.
  void tick_taken();
  /// A queued tick was dropped (counted in /stream/active).
  void tick_dropped();
  bool limit_reached() const;
  /// Ticks sent plus queued: `complete`'s total_ticks.
  std::uint64_t total_ticks() const { return ticks_sent_ + ticks_queued_; }
  std::uint64_t ticks_sent() const { return ticks_sent_; }
  std::uint64_t dropped() const { return dropped_; }
  double duration_seconds() const;

  /// A tick delivered before `subscribed` went out (the Hub may deliver
  /// before its open answer arrives): held, at most `capacity`, oldest
  /// dropped, and queued right after the answer.
  void hold_early(WsTick tick, std::size_t capacity);
  std::vector<WsTick> take_early();

  /// TWS is lost for this subscription (TWS_DISCONNECTED .. reconnected).
  bool tws_down() const { return tws_down_; }
  void set_tws_down(bool down) { tws_down_ = down; }

  /// The client's `timeout` (armed by activate()).
  boost::asio::steady_timer& timeout_timer() { return timeout_timer_; }

private:
  /// What the Hub hands over, in its order: a tick, a notice or the end.
  struct Inbound {
    enum class Kind { tick, notice, end };
    Kind kind = Kind::tick;
    WsTick tick;
    std::optional<stream::Notice> notice;
    stream::EndReason reason = stream::EndReason::stopped;
  };
  void enqueue(Inbound in);
  void drain_inbox();

  boost::asio::any_io_executor strand_;
  // One post to the connection's strand per batch of deliveries, not per tick.
  stream::DeliveryInbox<Inbound> inbox_;
  std::vector<Inbound> draining_; // strand only
  std::weak_ptr<WsSubscriptionSink> sink_;
  WsTickCache& cache_;
  const Params params_;
  const stream::Frame prefix_;
  std::string stored_prefix_;
  boost::asio::steady_timer timeout_timer_;
  std::shared_ptr<stream::ClientCounters> counters_;
  std::deque<WsTick> early_;
  stream::ContractInfo contract_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::uint64_t stream_id_ = 0;
  std::uint64_t ticks_sent_ = 0;
  std::uint64_t ticks_queued_ = 0;
  std::uint64_t dropped_ = 0;
  bool in_hub_ = false;
  bool active_ = false;
  bool finished_ = false;
  bool tws_down_ = false;
};

} // namespace http
