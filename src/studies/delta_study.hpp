// The `delta` study: trades only, each classified by the tick rule
// (classification.hpp), summed in a rolling tick-time window.
//
// Pure; not thread-safe (feed it from one thread).
#pragma once

#include "studies/trade_result.hpp"

namespace studies {

class DeltaStudy {
public:
  explicit DeltaStudy(int window_seconds) : window_(window_seconds) {}

  TradeResult on_trade(const Trade& trade);
  /// The window as of the newest trade (for periodic and final summaries).
  WindowSummary summary() const;
  const CalculationStats& stats() const { return stats_; }

private:
  TickRule tick_rule_;
  RollingWindow window_;
  CalculationStats stats_;
  double cumulative_delta_ = 0.0;
};

} // namespace studies
