// The `delta` study: trades only, each classified by the tick rule
// (classification.hpp), summed in a rolling tick-time window.
//
// Pure; not thread-safe (feed it from one thread).
#pragma once

#include "studies/delta_tally.hpp"
#include "studies/trade_result.hpp"

namespace studies {

class DeltaStudy {
public:
  explicit DeltaStudy(int window_seconds) : tally_(window_seconds) {}

  TradeResult on_trade(const Trade& trade);
  /// The window as of the newest trade (for periodic and final summaries).
  WindowSummary summary() const { return tally_.summary(); }
  const CalculationStats& stats() const { return tally_.stats(); }

private:
  TickRule tick_rule_;
  DeltaTally tally_;
};

} // namespace studies
