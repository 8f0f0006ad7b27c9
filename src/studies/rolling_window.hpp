// The rolling window of the studies' summaries, in tick time: trades are
// kept while their unix_time > now - window_seconds, where `now` is the
// newest trade time seen. Tick times are whole seconds, so a 60 s window at
// 10:00:59 holds the trades of 10:00:00 through 10:00:59. Measuring in tick
// time (not wall-clock time) is what makes a replay give the live answer.
//
// A value type; not thread-safe (one object per study).
#pragma once

#include "studies/classification.hpp"

#include <cstdint>
#include <deque>
#include <optional>

namespace studies {

/// The summary of the trades in the window (cumulative_delta: since start).
struct WindowSummary {
  int window_seconds = 0;
  std::int64_t trade_count = 0;
  double total_buy_volume = 0.0;
  double total_sell_volume = 0.0;
  double total_neutral_volume = 0.0;
  double net_delta = 0.0; // buy - sell volume in the window
  double cumulative_delta = 0.0;
  std::optional<double> buy_sell_ratio; // buy / sell; none when sell volume is 0
  std::optional<double> buy_percentage; // buy / (buy + sell) * 100; none when both are 0
};

class RollingWindow {
public:
  explicit RollingWindow(int window_seconds) : window_seconds_(window_seconds) {}

  /// Adds a trade; a time older than the newest seen is kept (ticks may be
  /// merged from two streams out of order) but does not move `now` back.
  void add(std::int64_t unix_time, Side side, double size);
  /// Moves `now` forward (never back), evicting trades that left the window.
  void advance_to(std::int64_t unix_time);
  /// The window as of `now`. `cumulative_delta` is filled in by the study.
  WindowSummary summary() const;

  int window_seconds() const { return window_seconds_; }

private:
  struct Entry {
    std::int64_t unix_time;
    Side side;
    double size;
  };
  void evict();

  int window_seconds_;
  std::optional<std::int64_t> now_;
  std::deque<Entry> trades_;
};

} // namespace studies
