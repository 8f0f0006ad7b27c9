#include "ws/ws_stats.hpp"

namespace ws {
namespace {

constexpr auto k_relaxed = std::memory_order_relaxed;

/// Decrements without wrapping below zero (a stray double close must not
/// turn "active" into 18446744073709551615).
void saturating_sub(std::atomic<std::uint64_t>& a, std::uint64_t n) {
  auto cur = a.load(k_relaxed);
  while (!a.compare_exchange_weak(cur, cur >= n ? cur - n : 0, k_relaxed)) {
  }
}

} // namespace

WsStats::WsStats(Clock::duration rate_window, NowFn now)
    : rate_window_(rate_window), now_(std::move(now)) {
  samples_.push_back(Sample{now_(), 0, 0});
}

void WsStats::connection_opened() {
  active_connections_.fetch_add(1, k_relaxed);
  total_connections_.fetch_add(1, k_relaxed);
}
void WsStats::connection_closed() { saturating_sub(active_connections_, 1); }
void WsStats::connection_rejected() { rejected_connections_.fetch_add(1, k_relaxed); }
void WsStats::subscriptions_added(std::size_t n) {
  active_subscriptions_.fetch_add(n, k_relaxed);
  total_subscriptions_.fetch_add(n, k_relaxed);
}
void WsStats::subscriptions_removed(std::size_t n) { saturating_sub(active_subscriptions_, n); }
void WsStats::message_received() { messages_received_.fetch_add(1, k_relaxed); }
void WsStats::messages_sent(std::size_t n) { messages_sent_.fetch_add(n, k_relaxed); }
void WsStats::invalid_message() { invalid_messages_.fetch_add(1, k_relaxed); }
void WsStats::rate_limited() { rate_limited_.fetch_add(1, k_relaxed); }

WsStats::Sample WsStats::sample_locked() {
  const Sample s{now_(), messages_received_.load(k_relaxed), messages_sent_.load(k_relaxed)};
  samples_.push_back(s);
  // Keep one sample at or before the window's start: the rate's baseline.
  while (samples_.size() >= 2 && samples_[1].at <= s.at - rate_window_) samples_.pop_front();
  return s;
}

void WsStats::sample() {
  std::lock_guard lock(mutex_);
  sample_locked();
}

WsStatsSnapshot WsStats::snapshot() {
  WsStatsSnapshot out;
  {
    std::lock_guard lock(mutex_);
    const Sample now = sample_locked();
    const Sample& base = samples_.front();
    const double seconds = std::chrono::duration<double>(now.at - base.at).count();
    out.messages_received = now.received;
    out.messages_sent = now.sent;
    if (seconds > 0) {
      out.received_per_second = static_cast<double>(now.received - base.received) / seconds;
      out.sent_per_second = static_cast<double>(now.sent - base.sent) / seconds;
    }
  }
  out.active_connections = active_connections_.load(k_relaxed);
  out.total_connections = total_connections_.load(k_relaxed);
  out.rejected_connections = rejected_connections_.load(k_relaxed);
  out.active_subscriptions = active_subscriptions_.load(k_relaxed);
  out.total_subscriptions = total_subscriptions_.load(k_relaxed);
  out.invalid_messages = invalid_messages_.load(k_relaxed);
  out.rate_limited = rate_limited_.load(k_relaxed);
  return out;
}

} // namespace ws
