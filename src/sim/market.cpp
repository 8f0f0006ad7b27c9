#include "sim/market.hpp"

#include <algorithm>
#include <cstdlib>

namespace sim {
namespace {

/// One seed per contract: two splitmix64 rounds keep (seed, conId) pairs
/// from colliding in any simple arithmetic way.
std::uint64_t contract_seed(std::uint64_t seed, int con_id) {
  std::uint64_t state = seed;
  std::uint64_t mixed = Prng::splitmix64(state);
  mixed ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(con_id));
  return Prng::splitmix64(mixed);
}

} // namespace

Market::Market(const MarketModel& model, std::uint64_t seed, int con_id)
    : model_(model), rng_(contract_seed(seed, con_id)) {
  switch (model_.asset) {
  case AssetClass::stock: lot_ = 100; break;
  case AssetClass::future: lot_ = 1; break;
  case AssetClass::forex: lot_ = 100000; break;
  }
  if (model_.venues.empty()) model_.venues = {"SMART"};
  if (model_.ticks_per_unit < 1) model_.ticks_per_unit = 1;
  bid_ = std::max<std::int64_t>(1, model_.start_ticks);
  ask_ = bid_ + rng_.between(1, 2);
  bid_size_ = quote_size();
  ask_size_ = quote_size();
}

double Market::price(std::int64_t ticks) const {
  return static_cast<double>(ticks) / static_cast<double>(model_.ticks_per_unit);
}

std::int64_t Market::quote_size() {
  switch (model_.asset) {
  case AssetClass::stock: return 100 * rng_.between(1, 12);
  case AssetClass::future: return rng_.between(1, 50);
  case AssetClass::forex: return 100000 * rng_.between(1, 50);
  }
  return 1;
}

void Market::keep_positive() {
  if (bid_ < 1) {
    const std::int64_t shift = 1 - bid_;
    bid_ += shift;
    ask_ += shift;
  }
}

MarketEvent Market::next(std::int64_t unix_time) {
  MarketEvent ev;
  ev.index = index_;
  // The order-flow imbalance drifts a little every event, so buying and
  // selling pressure (and with it the price trend) changes over time.
  // It also leans back toward balance, so no side dominates for ever.
  int drift = static_cast<int>(rng_.between(-2, 2));
  if (rng_.chance(std::abs(imbalance_) / 2)) drift += imbalance_ > 0 ? -1 : 1;
  imbalance_ = std::clamp(imbalance_ + drift, -60, 60);
  if (index_ == 0) {
    // The first event publishes the opening quote, so a first subscriber's
    // BidAsk and MidPoint streams start with a full picture.
    emit_quote(ev, unix_time);
  } else if (rng_.chance(58)) {
    quote_event();
    emit_quote(ev, unix_time);
  } else {
    trade_event(ev, unix_time);
  }
  ++index_;
  return ev;
}

void Market::quote_event() {
  const auto kind = rng_.below(100);
  if (kind < 45) {
    // Most quote updates only change the size on one side.
    if (rng_.chance(50)) bid_size_ = quote_size();
    else ask_size_ = quote_size();
  } else if (kind < 85) {
    // The whole quote moves one tick; the imbalance tilts the direction.
    // A soft anchor at the opening price keeps long runs in a realistic
    // range: 10 points of bias per 5 % away from it, at most 20.
    const std::int64_t five_percent = std::max<std::int64_t>(1, model_.start_ticks / 20);
    const auto pull = static_cast<int>(
        std::clamp<std::int64_t>((bid_ - model_.start_ticks) * 10 / five_percent, -20, 20));
    const int step = rng_.chance(50 + imbalance_ / 4 - pull) ? 1 : -1;
    bid_ += step;
    ask_ += step;
    if (step > 0) bid_size_ = quote_size();
    else ask_size_ = quote_size();
  } else {
    // Spread widens or narrows within 1..3 ticks, from either side.
    const std::int64_t spread = rng_.between(1, 3);
    if (rng_.chance(50)) {
      ask_ = bid_ + spread;
      ask_size_ = quote_size();
    } else {
      bid_ = ask_ - spread;
      bid_size_ = quote_size();
    }
  }
  keep_positive();
}

void Market::trade_event(MarketEvent& ev, std::int64_t unix_time) {
  const bool buy = rng_.chance(50 + imbalance_ / 2);
  const std::int64_t spread = ask_ - bid_;
  const bool inside = spread > 1 && rng_.chance(8); // midpoint / price-improved fills
  const std::int64_t px = inside ? bid_ + rng_.between(1, spread - 1) : (buy ? ask_ : bid_);

  std::int64_t size = 0;
  std::string conditions;
  bool unreported = false;
  const auto size_kind = rng_.below(100);
  switch (model_.asset) {
  case AssetClass::stock:
    if (size_kind < 12) {
      size = rng_.between(1, 99);
      conditions = "I"; // odd lot: AllLast only
    } else {
      size = 100 * (size_kind < 95 ? rng_.between(1, 5) : rng_.between(6, 40));
      if (rng_.chance(3)) conditions = "T"; // extended-hours form T: AllLast only
    }
    break;
  case AssetClass::future:
    size = size_kind < 80 ? rng_.between(1, 5) : rng_.between(6, 50);
    unreported = rng_.chance(4);
    break;
  case AssetClass::forex:
    size = 100000 * (size_kind < 80 ? rng_.between(1, 10) : rng_.between(11, 50));
    unreported = rng_.chance(4);
    break;
  }
  const auto& venue = model_.venues[rng_.below(model_.venues.size())];

  tws::TickByTickLast t;
  t.type = tws::TickType::all_last;
  t.time = unix_time;
  t.price = price(px);
  t.size = static_cast<double>(size);
  t.unreported = unreported;
  t.exchange = venue;
  t.special_conditions = std::move(conditions);
  ev.trade_in_last = t.special_conditions.empty() && !unreported;
  ev.trade = std::move(t);

  // A lit trade at the touch eats displayed size; when the level is gone
  // the quote ticks away (and the other side sometimes follows).
  if (inside || size < lot_) return;
  if (buy) {
    ask_size_ -= size;
    if (ask_size_ <= 0) {
      ++ask_;
      ask_size_ = quote_size();
      // The bid sometimes follows; always when the spread would pass 3.
      if (rng_.chance(50) || ask_ - bid_ > 3) {
        ++bid_;
        bid_size_ = quote_size();
      }
    }
  } else {
    bid_size_ -= size;
    if (bid_size_ <= 0) {
      --bid_;
      bid_size_ = quote_size();
      if (rng_.chance(50) || ask_ - bid_ > 3) {
        --ask_;
        ask_size_ = quote_size();
      }
      keep_positive();
    }
  }
  emit_quote(ev, unix_time);
}

void Market::emit_quote(MarketEvent& ev, std::int64_t unix_time) {
  tws::TickByTickBidAsk q;
  q.time = unix_time;
  q.bid_price = price(bid_);
  q.ask_price = price(ask_);
  q.bid_size = static_cast<double>(bid_size_);
  q.ask_size = static_cast<double>(ask_size_);
  ev.quote = q;
  ev.quote_price_changed = bid_ != last_bid_ || ask_ != last_ask_;
  last_bid_ = bid_;
  last_ask_ = ask_;
  if (bid_ + ask_ != last_mid2_) {
    last_mid2_ = bid_ + ask_;
    tws::TickByTickMidPoint m;
    m.time = unix_time;
    m.mid_point = static_cast<double>(bid_ + ask_) / static_cast<double>(2 * model_.ticks_per_unit);
    ev.mid = m;
  }
}

} // namespace sim
