// What both delta studies keep once a trade is classified: its signed size,
// the cumulative delta since start, the counts by basis and the rolling
// tick-time window.
//
// Pure; not thread-safe (feed it from one thread).
#pragma once

#include "studies/trade_result.hpp"

namespace studies {

class DeltaTally {
public:
  explicit DeltaTally(int window_seconds) : window_(window_seconds) {}

  /// Fills r.delta, r.summary and r.stats from r.trade and r.classification.
  void record(TradeResult& r);
  /// The window as of the newest trade, with the cumulative delta.
  WindowSummary summary() const;
  const CalculationStats& stats() const { return stats_; }

private:
  RollingWindow window_;
  CalculationStats stats_;
  double cumulative_delta_ = 0.0;
};

} // namespace studies
