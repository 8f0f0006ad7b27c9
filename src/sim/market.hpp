// The seeded synthetic market of one contract: a sequence of events (quote
// updates and trades) that depends only on (seed, conId).
//
// Determinism: all state is integer (prices in ticks, sizes in units), every
// draw comes from sim::Prng, and the only floating-point operations are the
// final tick-to-price divisions, which IEEE 754 rounds identically on every
// platform. Event i is the same on every run, machine and compiler; only its
// Unix time (passed in by the caller) depends on the start time and rate.
//
// Thread-safety: a value type; one object per thread.
#pragma once

#include "sim/contract_catalog.hpp"
#include "sim/prng.hpp"
#include "tws/messages.hpp"

#include <cstdint>
#include <optional>

namespace sim {

/// Everything one market event produces. Ticks carry req_id 0; the feed
/// stamps each subscriber's id.
struct MarketEvent {
  std::uint64_t index = 0;
  /// A trade, as AllLast reports it (type all_last).
  std::optional<tws::TickByTickLast> trade;
  /// Whether that trade is also in the Last stream: odd lots (condition
  /// "I"), extended-hours prints ("T") and unreported trades are AllLast only.
  bool trade_in_last = false;
  /// The quote after this event, when it changed (price or size).
  std::optional<tws::TickByTickBidAsk> quote;
  /// Whether a bid or ask price moved (reqTickByTickData ignoreSize=1
  /// subscribers get only those quotes).
  bool quote_price_changed = false;
  /// The midpoint, when it moved.
  std::optional<tws::TickByTickMidPoint> mid;
};

class Market {
public:
  Market(const MarketModel& model, std::uint64_t seed, int con_id);

  /// Generates event number next_index(), stamping its ticks with `unix_time`.
  MarketEvent next(std::int64_t unix_time);
  std::uint64_t next_index() const { return index_; }

private:
  void quote_event();
  void trade_event(MarketEvent& ev, std::int64_t unix_time);
  void keep_positive();
  std::int64_t quote_size();
  void emit_quote(MarketEvent& ev, std::int64_t unix_time);
  double price(std::int64_t ticks) const;

  MarketModel model_;
  Prng rng_;
  std::uint64_t index_ = 0;
  std::int64_t lot_ = 1; // smallest size that counts for the quote
  std::int64_t bid_ = 0; // ticks
  std::int64_t ask_ = 0;
  std::int64_t bid_size_ = 0;
  std::int64_t ask_size_ = 0;
  std::int64_t last_mid2_ = -1; // bid + ask of the last MidPoint tick
  std::int64_t last_bid_ = -1;  // prices of the last BidAsk tick
  std::int64_t last_ask_ = -1;
  int imbalance_ = 0; // percent, -60..60: > 0 means buyers dominate
};

} // namespace sim
