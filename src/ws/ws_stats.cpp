#include "ws/ws_stats.hpp"

#include "stream/json_text.hpp"
#include "stream/tick_json.hpp"

#include <cmath>

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

void number_member(std::string& out, std::string_view name, std::uint64_t v, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(v);
}

void rate_member(std::string& out, std::string_view name, double v) {
  out += ",\"";
  out += name;
  out += "\":";
  stream::append_json_number(out, std::round(v * 100.0) / 100.0);
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

std::string ws_stats_json(const WsStatsSnapshot& s,
                          const std::map<std::string, std::size_t>& connections_by_ip,
                          const WsLimits& limits, std::string_view timestamp) {
  std::string out = "{\"connections\":{";
  number_member(out, "active", s.active_connections, true);
  number_member(out, "total", s.total_connections);
  number_member(out, "rejected", s.rejected_connections);
  out += ",\"by_ip\":{";
  bool first = true;
  for (const auto& [ip, n] : connections_by_ip) {
    if (!first) out += ',';
    first = false;
    stream::append_json_utf8(out, ip);
    out += ':';
    out += std::to_string(n);
  }
  out += "}},\"subscriptions\":{";
  number_member(out, "active", s.active_subscriptions, true);
  number_member(out, "total", s.total_subscriptions);
  out += "},\"messages\":{";
  number_member(out, "received", s.messages_received, true);
  number_member(out, "sent", s.messages_sent);
  number_member(out, "invalid", s.invalid_messages);
  number_member(out, "rate_limited", s.rate_limited);
  rate_member(out, "received_per_second", s.received_per_second);
  rate_member(out, "sent_per_second", s.sent_per_second);
  out += "},\"limits\":{";
  number_member(out, "max_connections_per_ip", limits.max_connections_per_ip, true);
  number_member(out, "max_subscriptions_per_connection", limits.max_subscriptions_per_connection);
  number_member(out, "max_messages_per_second", limits.max_messages_per_second);
  number_member(out, "max_message_bytes", limits.max_message_bytes);
  out += "},\"timestamp\":";
  stream::append_json_utf8(out, timestamp);
  out += '}';
  return out;
}

} // namespace ws
