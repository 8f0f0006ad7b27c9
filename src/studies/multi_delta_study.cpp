#include "studies/multi_delta_study.hpp"

namespace studies {

TradeResult MultiDeltaStudy::on_trade(const Trade& trade) {
  TradeResult r;
  r.study = "multi_delta";
  r.trade = trade;
  r.quote = quote_;
  // The tick rule sees every trade so that its fallback compares with the
  // trade just before, whatever classified that one.
  const Side by_tick = tick_rule_.classify(trade.price);
  if (quote_ && quote_->valid())
    r.classification = classify_against_quote(trade.price, *quote_, config_.neutral_zone_pct);
  else r.classification = {by_tick, Basis::tick_rule};
  tally_.record(r);
  return r;
}

} // namespace studies
