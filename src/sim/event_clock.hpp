// When each market event is due, and which Unix second it carries.
//
// Event i of a contract is due at (market start + i / rate) on the steady
// clock, and its ticks carry Unix time start_time + floor(i / rate). A rate
// change (admin `rate`) starts a new segment at the next event so that both
// clocks stay continuous; within the first segment the tick time is exactly
// start_time + floor(i / rate), which is what `--dump` prints.
//
// Thread-safety: a value type; one object per thread.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>

namespace sim {

class EventClock {
public:
  using Clock = std::chrono::steady_clock;

  EventClock(double rate, std::int64_t start_unix, Clock::time_point start)
      : rate_(rate), start_unix_(start_unix), base_steady_(start) {}

  double rate() const { return rate_; }
  std::int64_t start_unix() const { return start_unix_; }

  /// Unix seconds stamped on the ticks of event `index`. IEEE division is
  /// correctly rounded everywhere, so this is the same on every platform.
  std::int64_t unix_time(std::uint64_t index) const {
    const double since_base = static_cast<double>(index - base_index_) / rate_;
    return start_unix_ + static_cast<std::int64_t>(std::floor(base_offset_ + since_base));
  }

  /// One past the last event that is due at `now`.
  std::uint64_t due_end(Clock::time_point now) const {
    if (now < base_steady_) return base_index_;
    const double elapsed = std::chrono::duration<double>(now - base_steady_).count();
    return base_index_ + static_cast<std::uint64_t>(std::floor(elapsed * rate_)) + 1;
  }

  /// When event `index` (>= the current segment's first) becomes due.
  Clock::time_point due_at(std::uint64_t index) const {
    const double seconds = static_cast<double>(index - base_index_) / rate_;
    return base_steady_ +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  /// Switches to `rate` from event `next_index` on; that event becomes due
  /// at `now` (the new pace applies at once, whatever the old one was).
  void set_rate(double rate, std::uint64_t next_index, Clock::time_point now) {
    base_offset_ += static_cast<double>(next_index - base_index_) / rate_;
    base_index_ = next_index;
    base_steady_ = now;
    rate_ = rate;
  }

private:
  double rate_;
  std::int64_t start_unix_;
  Clock::time_point base_steady_;
  std::uint64_t base_index_ = 0;
  double base_offset_ = 0.0; // virtual seconds from start_unix_ to base_index_
};

} // namespace sim
