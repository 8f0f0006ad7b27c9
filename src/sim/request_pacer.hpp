// IB's request-rate limit for one API connection (tws-protocol.md §7.5):
// requests counted in a rolling one-second window.
//
// Without +PACEAPI the session records every request and treats those above
// the limit as violations (error 100; disconnect after N violating
// seconds). With +PACEAPI it asks has_room() before processing a queued
// request and waits until next_room() otherwise.
//
// Thread-safety: none; owned by one session.
#pragma once

#include <chrono>
#include <deque>

namespace sim {

class RequestPacer {
public:
  using Clock = std::chrono::steady_clock;

  explicit RequestPacer(int limit) : limit_(limit) {}

  /// A limit of 0 (or less) turns pacing off.
  bool enabled() const { return limit_ > 0; }
  int limit() const { return limit_; }

  /// Counts one request at `now`; returns how many the window now holds.
  int record(Clock::time_point now) {
    prune(now);
    window_.push_back(now);
    return static_cast<int>(window_.size());
  }

  /// Whether one more request fits in the window at `now`.
  bool has_room(Clock::time_point now) {
    prune(now);
    return static_cast<int>(window_.size()) < limit_;
  }

  /// When the oldest request leaves the window (only meaningful when full).
  Clock::time_point next_room() const {
    return window_.empty() ? Clock::now() : window_.front() + kWindow;
  }

  /// Notes a request over the limit at `now`; returns the number of
  /// violating seconds so far. Excess requests within one second of the
  /// first excess one belong to the same violating second.
  int note_violation(Clock::time_point now) {
    if (violations_ == 0 || now - violation_start_ >= kWindow) {
      ++violations_;
      violation_start_ = now;
    }
    return violations_;
  }

private:
  static constexpr Clock::duration kWindow = std::chrono::seconds(1);

  void prune(Clock::time_point now) {
    while (!window_.empty() && now - window_.front() >= kWindow) window_.pop_front();
  }

  int limit_;
  std::deque<Clock::time_point> window_;
  int violations_ = 0;
  Clock::time_point violation_start_{};
};

} // namespace sim
