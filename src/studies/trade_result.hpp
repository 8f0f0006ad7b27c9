// What a study reports for one trade: the trade, how it was classified, the
// quote it was classified against, the rolling window and the totals since
// start. Plain data.
#pragma once

#include "studies/classification.hpp"
#include "studies/rolling_window.hpp"
#include "studies/tick_event.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace studies {

/// Counts since start.
struct CalculationStats {
  std::int64_t trades = 0;
  std::int64_t bid_hits = 0;
  std::int64_t ask_hits = 0;
  std::int64_t inside_spread = 0;
  std::int64_t no_quote_trades = 0; // classified by the tick rule

  void count(Basis b);
  /// Share of trades classified against a valid quote, percent; none
  /// before the first trade.
  std::optional<double> true_delta_percentage() const;
};

struct TradeResult {
  std::string_view study; // "delta" or "multi_delta"
  Trade trade;
  Classification classification;
  double delta = 0.0; // +size, -size or 0
  /// The latest quote when the trade arrived (valid or not); none before
  /// the first quote and always for the `delta` study.
  std::optional<Quote> quote;
  WindowSummary summary;
  CalculationStats stats;
};

} // namespace studies
