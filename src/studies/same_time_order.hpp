// The order in which ticks that the server stamped with the same time are
// applied: trades first, then quotes, each kind in arrival order.
//
// Why: BidAsk and Last are separate upstream subscriptions (and separate
// SSE connections), so a trade and the quote update it caused reach the
// client in either order, and the quote often first. A trade is classified
// against the quote that stood before it (the reason Lee and Ready lagged
// quotes behind trades), so within one server timestamp (milliseconds) the
// trades go first. The rule also makes SSE, WebSocket and a replay apply the
// same ticks in the same order whatever the arrival race.
//
// Ticks are applied in server timestamp order (then trades first, then
// arrival): the two connections may deliver a quote stamped a millisecond
// later before the trade stamped earlier. A tick is held until one with a
// later timestamp arrives, or flush() (live: shortly after the last arrival;
// replay: at the end of the file).
//
// Each stream's ticks come in order, but the server stamps ticks read from
// its record (`since=`, `duration=`) with the time it sends them: at the
// switch to live a tick may carry an earlier stamp than the record's last.
// It keeps its place in its stream: it is ordered at its stream's latest
// stamp (trades and quotes are the two streams).
//
// A value type; not thread-safe.
#pragma once

#include "studies/tick_event.hpp"

#include <string>
#include <vector>

namespace studies {

class SameTimeOrder {
public:
  struct Item {
    StreamEvent event;
    std::string line; // the event's JSON line (for --record)
  };

  /// Adds a tick event; returns the ticks now released, in applying order.
  std::vector<Item> push(StreamEvent event, std::string line);
  /// Releases every held tick, in applying order.
  std::vector<Item> flush();
  bool empty() const { return held_.empty(); }

private:
  std::vector<Item> held_;       // in arrival order
  std::string last_trade_stamp_; // the latest stamp of each stream
  std::string last_quote_stamp_;
};

} // namespace studies
