// The `multi-delta` study (true delta): quotes (BidAsk) and trades (Last or
// AllLast) fed in arrival order; each trade is classified against the latest
// quote by the quote rule, or by the tick rule while there is no valid quote
// (counted in no_quote_trades). Rules: classification.hpp.
//
// Pure; not thread-safe (feed it from one thread).
#pragma once

#include "studies/delta_tally.hpp"
#include "studies/trade_result.hpp"

#include <optional>

namespace studies {

struct MultiDeltaConfig {
  int window_seconds = 60;
  double neutral_zone_pct = 0.0; // [0, 50)
};

class MultiDeltaStudy {
public:
  explicit MultiDeltaStudy(const MultiDeltaConfig& config)
      : config_(config), tally_(config.window_seconds) {}

  /// The latest quote replaces the previous one, valid or not: a one-sided
  /// book means "no valid quote" until both sides are back.
  void on_quote(const Quote& quote) { quote_ = quote; }
  TradeResult on_trade(const Trade& trade);

  WindowSummary summary() const { return tally_.summary(); }
  const CalculationStats& stats() const { return tally_.stats(); }
  const std::optional<Quote>& quote() const { return quote_; }

private:
  MultiDeltaConfig config_;
  std::optional<Quote> quote_;
  TickRule tick_rule_;
  DeltaTally tally_;
};

} // namespace studies
