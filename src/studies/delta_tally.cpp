#include "studies/delta_tally.hpp"

namespace studies {

void DeltaTally::record(TradeResult& r) {
  r.delta = signed_size(r.classification.side, r.trade.size);
  cumulative_delta_ += r.delta;
  stats_.count(r.classification.basis);
  window_.add(r.trade.unix_time, r.classification.side, r.trade.size);
  r.summary = summary();
  r.stats = stats_;
}

WindowSummary DeltaTally::summary() const {
  WindowSummary s = window_.summary();
  s.cumulative_delta = cumulative_delta_;
  return s;
}

} // namespace studies
