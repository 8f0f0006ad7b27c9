// RecorderWatch: the recorder of ib-stream-server over one measurement
// window of the record scenario, read through GET /tracked: rows committed
// per second (ticks_recorded at the start and the end), the largest
// recorder_lag and pending queue seen (sampled every 100 ms), gaps opened
// (in any state by the window's end),
// and whether the recorder stayed `ok`.
//
// Thread-safety: one owner thread; the sampling runs on a thread of its own.
#pragma once

#include "http_client.hpp"
#include "stamped_tick.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace bench {

/// The recorder over one window: GET /tracked every 100 ms on a thread.
class RecorderWatch {
public:
  explicit RecorderWatch(std::uint16_t port) : port_(port) {
    first_ = sample_tracked(port_);
    t_first_ = now_ns();
    thread_ = std::thread([this] {
      while (!stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto s = sample_tracked(port_);
        std::lock_guard lock(mutex_);
        samples_ += s.ok ? 1 : 0;
        failed_ += s.ok ? 0 : 1;
        lag_ticks_ = std::max(lag_ticks_, s.lag_ticks);
        lag_seconds_ = std::max(lag_seconds_, s.lag_seconds);
        pending_ = std::max(pending_, s.pending_ticks);
        if (s.ok && s.status != "ok") degraded_ = true;
      }
    });
  }
  /// Stops sampling; the JSON fields of the window.
  std::string finish() {
    stop_ = true;
    thread_.join();
    const auto last = sample_tracked(port_);
    const double seconds = static_cast<double>(now_ns() - t_first_) / 1e9;
    const std::uint64_t rows = last.ticks_recorded > first_.ticks_recorded
                                   ? last.ticks_recorded - first_.ticks_recorded
                                   : 0;
    recorded_per_s_ = static_cast<double>(rows) / seconds;
    lag_ticks_ = std::max(lag_ticks_, last.lag_ticks);
    lag_seconds_ = std::max(lag_seconds_, last.lag_seconds);
    gaps_opened_ = last.gaps > first_.gaps ? last.gaps - first_.gaps : 0;
    ok_ = first_.ok && last.ok && failed_ == 0 && !degraded_ && last.status == "ok";
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "\"recorded\":%llu,\"recorded_per_s\":%.0f,\"recorder_lag_ticks_max\":%llu,"
                  "\"recorder_lag_s_max\":%.3f,\"recorder_pending_max\":%llu,"
                  "\"gaps_opened\":%llu,\"tracked_samples\":%d,\"recorder_ok\":%s",
                  static_cast<unsigned long long>(rows), recorded_per_s_,
                  static_cast<unsigned long long>(lag_ticks_), lag_seconds_,
                  static_cast<unsigned long long>(pending_),
                  static_cast<unsigned long long>(gaps_opened_), samples_, ok_ ? "true" : "false");
    return buf;
  }
  double recorded_per_s() const { return recorded_per_s_; }
  double lag_seconds() const { return lag_seconds_; }
  std::uint64_t gaps_opened() const { return gaps_opened_; }
  bool ok() const { return ok_; }
  ~RecorderWatch() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

private:
  std::uint16_t port_;
  TrackedSample first_;
  std::uint64_t t_first_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  int samples_ = 0;
  int failed_ = 0;
  bool degraded_ = false;
  std::uint64_t lag_ticks_ = 0;
  double lag_seconds_ = 0;
  std::uint64_t pending_ = 0;
  std::uint64_t gaps_opened_ = 0;
  double recorded_per_s_ = 0;
  bool ok_ = false;
};

} // namespace bench
