#include "studies/delta_study.hpp"

namespace studies {

TradeResult DeltaStudy::on_trade(const Trade& trade) {
  TradeResult r;
  r.study = "delta";
  r.trade = trade;
  r.classification = {tick_rule_.classify(trade.price), Basis::tick_rule};
  r.delta = signed_size(r.classification.side, trade.size);
  cumulative_delta_ += r.delta;
  stats_.count(Basis::tick_rule);
  window_.add(trade.unix_time, r.classification.side, trade.size);
  r.summary = summary();
  r.stats = stats_;
  return r;
}

WindowSummary DeltaStudy::summary() const {
  WindowSummary s = window_.summary();
  s.cumulative_delta = cumulative_delta_;
  return s;
}

} // namespace studies
