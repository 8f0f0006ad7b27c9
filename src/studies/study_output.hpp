// Text of the studies' results: the per-trade JSON object of --json and
// --output, and the human console header, rows and summary.
//
// Pure functions; thread-safe.
#pragma once

#include "studies/trade_result.hpp"

#include <string>
#include <string_view>

namespace studies {

/// The one-line JSON object of a trade (no newline):
/// {"study","contract_id","timestamp","current_trade","current_quote",
///  "summary","calculation_stats"}. `timestamp` is the server's send time of
/// the trade's tick event (identical over SSE, WebSocket and a replay).
std::string format_trade_json(const TradeResult& r, int contract_id,
                              std::string_view event_timestamp);

/// Decimals that show `price` exactly (at least `at_least`, at most 8).
int decimals_for(double price, int at_least);

/// "multi-delta study of contract 711280073 (window 60 s tick time, ...)" and
/// the column titles, two lines without the final newline.
std::string format_header(std::string_view study, int contract_id, int window_seconds,
                          double neutral_zone_pct, std::string_view tick_types);
/// One aligned row: time | price | size | bid | ask | delta | cumulative.
std::string format_row(const TradeResult& r, int decimals);
/// The summary block (several lines, no final newline); `title` e.g.
/// "summary" or "final summary".
std::string format_summary(std::string_view title, const WindowSummary& s,
                           const CalculationStats& stats);

} // namespace studies
