// ws::WsStats: the WebSocket counters behind GET /ws/stats and the
// control channel's get_stats (api.md §5): connections, subscriptions,
// messages in and out, and their per-second rates.
//
// Rates are averages over the last `rate_window` (default 10 s): sample()
// records the totals; call it every second from a timer for a smooth rate
// (snapshot() samples too, so without a timer a rate spans the time since
// an earlier snapshot, at least rate_window ago, or since start).
//
// Thread-safety: every member function may be called concurrently from any
// thread. The counters are relaxed atomics (sessions bump them on their own
// event loops; a snapshot may mix values a few increments apart); sample() and
// snapshot() take a mutex. The clock is injectable for tests.
#pragma once

#include "ws/ws_limits.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ws {

struct WsStatsSnapshot {
  std::uint64_t active_connections = 0;
  std::uint64_t total_connections = 0;    // accepted since start
  std::uint64_t rejected_connections = 0; // refused: per-IP limit, auth, ...
  std::uint64_t active_subscriptions = 0;
  std::uint64_t total_subscriptions = 0; // opened since start
  std::uint64_t messages_received = 0;   // client messages
  std::uint64_t messages_sent = 0;       // server messages, ticks included
  std::uint64_t invalid_messages = 0;    // answered with INVALID_MESSAGE
  std::uint64_t rate_limited = 0;        // connections closed for message rate
  double received_per_second = 0.0;
  double sent_per_second = 0.0;
};

class WsStats {
public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  explicit WsStats(Clock::duration rate_window = std::chrono::seconds(10), NowFn now = &Clock::now);

  void connection_opened();
  void connection_closed();
  void connection_rejected();
  void subscriptions_added(std::size_t n = 1);
  void subscriptions_removed(std::size_t n = 1);
  void message_received();
  void messages_sent(std::size_t n = 1);
  void invalid_message();
  void rate_limited();

  /// Records the current totals for the rates.
  void sample();
  /// The counters and rates now (also records a sample).
  WsStatsSnapshot snapshot();

private:
  struct Sample {
    Clock::time_point at;
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
  };
  Sample sample_locked(); // mutex_ held

  const Clock::duration rate_window_;
  NowFn now_;
  std::atomic<std::uint64_t> active_connections_{0};
  std::atomic<std::uint64_t> total_connections_{0};
  std::atomic<std::uint64_t> rejected_connections_{0};
  std::atomic<std::uint64_t> active_subscriptions_{0};
  std::atomic<std::uint64_t> total_subscriptions_{0};
  std::atomic<std::uint64_t> messages_received_{0};
  std::atomic<std::uint64_t> messages_sent_{0};
  std::atomic<std::uint64_t> invalid_messages_{0};
  std::atomic<std::uint64_t> rate_limited_{0};
  std::mutex mutex_;
  std::deque<Sample> samples_; // oldest first; front is the rate's baseline
};

} // namespace ws
