#include "studies/classification.hpp"

#include <algorithm>
#include <cmath>

namespace studies {

std::string_view to_string(Side s) {
  switch (s) {
  case Side::buy: return "buy";
  case Side::sell: return "sell";
  case Side::neutral: return "neutral";
  }
  return "neutral";
}

std::string_view to_string(Basis b) {
  switch (b) {
  case Basis::ask_hit: return "ask_hit";
  case Basis::bid_hit: return "bid_hit";
  case Basis::inside_spread: return "inside_spread";
  case Basis::tick_rule: return "tick_rule";
  }
  return "tick_rule";
}

double signed_size(Side s, double size) {
  switch (s) {
  case Side::buy: return size;
  case Side::sell: return -size;
  case Side::neutral: return 0.0;
  }
  return 0.0;
}

Classification classify_against_quote(double price, const Quote& q, double neutral_zone_pct) {
  // Prices arrive as decimal text: 100 + 0.1 * 1 need not be the double that
  // "100.1" parses to, so boundaries get a relative tolerance far below any
  // real price increment.
  const double eps = 1e-9 * std::max({1.0, std::fabs(q.bid), std::fabs(q.ask)});
  if (q.bid >= q.ask) {
    const double mid = (q.bid + q.ask) / 2.0;
    if (price > mid + eps) return {Side::buy, Basis::ask_hit};
    if (price < mid - eps) return {Side::sell, Basis::bid_hit};
    return {Side::neutral, Basis::inside_spread};
  }
  const double zone = (q.ask - q.bid) * neutral_zone_pct / 100.0;
  if (price >= q.ask - zone - eps) return {Side::buy, Basis::ask_hit};
  if (price <= q.bid + zone + eps) return {Side::sell, Basis::bid_hit};
  return {Side::neutral, Basis::inside_spread};
}

Side TickRule::classify(double price) {
  Side side = Side::neutral;
  if (last_price_) {
    if (price > *last_price_) last_move_ = Side::buy;
    else if (price < *last_price_) last_move_ = Side::sell;
    side = last_move_;
  }
  last_price_ = price;
  return side;
}

} // namespace studies
