#include "studies/delta_study.hpp"

namespace studies {

TradeResult DeltaStudy::on_trade(const Trade& trade) {
  TradeResult r;
  r.study = "delta";
  r.trade = trade;
  r.classification = {tick_rule_.classify(trade.price), Basis::tick_rule};
  tally_.record(r);
  return r;
}

} // namespace studies
