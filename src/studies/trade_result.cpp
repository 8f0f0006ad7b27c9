#include "studies/trade_result.hpp"

namespace studies {

void CalculationStats::count(Basis b) {
  ++trades;
  switch (b) {
  case Basis::ask_hit: ++ask_hits; break;
  case Basis::bid_hit: ++bid_hits; break;
  case Basis::inside_spread: ++inside_spread; break;
  case Basis::tick_rule: ++no_quote_trades; break;
  }
}

std::optional<double> CalculationStats::true_delta_percentage() const {
  if (trades == 0) return std::nullopt;
  return static_cast<double>(trades - no_quote_trades) / static_cast<double>(trades) * 100.0;
}

} // namespace studies
