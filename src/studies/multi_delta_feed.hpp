// studies::MultiDeltaFeed: the multi-delta study fed the way `ib-studies
// --study multi-delta` feeds it (studies_cli/study_runner.cpp), for a
// consumer that is not ib-studies (the server's GET /studies/{contract}/delta).
//
// - Ticks already in applying order (the record, merged in time order as
//   GET /replay merges it) are applied at once: apply_now().
// - Live ticks of the two streams (Last, BidAsk) are held and applied in
//   server timestamp order, trades first within one timestamp, a tick
//   stamped before its stream's previous one ordered at that stamp
//   (same_time_order.hpp, the rule ib-studies applies too): push(), and
//   flush() shortly after the last arrival.
//
// Only Last trades and BidAsk quotes are applied (other ticks are ignored).
// Each trade applied comes out as a FedTrade: the study's result and the
// server timestamp of its tick event (format_trade_json's `timestamp`).
//
// A value type; not thread-safe (one per consumer, on one thread).
#pragma once

#include "studies/multi_delta_study.hpp"
#include "studies/same_time_order.hpp"
#include "studies/tick_event.hpp"

#include <string>
#include <vector>

namespace studies {

struct FedTrade {
  TradeResult result;
  std::string event_timestamp; // the trade's tick event `timestamp`
};

class MultiDeltaFeed {
public:
  explicit MultiDeltaFeed(const MultiDeltaConfig& config = {}) : study_(config) {}

  /// A tick in applying order: applied now (trades appended to `out`).
  void apply_now(StreamEvent event, std::vector<FedTrade>& out);
  /// A live tick: held; the ticks it releases are applied (trades to `out`).
  void push(StreamEvent event, std::vector<FedTrade>& out);
  /// Applies every held tick.
  void flush(std::vector<FedTrade>& out);
  /// Ticks are held (a flush is due).
  bool holding() const { return !order_.empty(); }

  const MultiDeltaStudy& study() const { return study_; }

private:
  void apply(const StreamEvent& event, std::vector<FedTrade>& out);

  MultiDeltaStudy study_;
  SameTimeOrder order_;
};

} // namespace studies
