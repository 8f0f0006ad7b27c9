// How one trade is classified: the rule set of both studies (README
// "ib-studies" has the same text for users).
//
// Tick rule (`delta`, and `multi-delta` before a valid quote):
//   price > previous trade's price -> buy  (+size)   "uptick"
//   price < previous trade's price -> sell (-size)   "downtick"
//   price = previous trade's price -> the side of the last non-zero move
//                                     (zero-tick rule); neutral if none yet
//   first trade                    -> neutral (0)
//   Every trade moves the tick rule's state, also those classified against a
//   quote, so the fallback always compares with the trade just before.
//
// Quote rule (`multi-delta`, valid quote: bid > 0 and ask > 0), with the
// neutral zone Z = --neutral-zone PCT / 100 (0 <= PCT < 50, default 0):
//   bid < ask:  spread = ask - bid
//               price >= ask - Z*spread -> buy  (+size)  ask hit
//               price <= bid + Z*spread -> sell (-size)  bid hit
//               otherwise               -> neutral (0)   inside spread
//               (Z = 0: at or above the ask buys, at or below the bid sells,
//               strictly inside is neutral; boundaries are inclusive, to a
//               relative 1e-9 so a price printed as the boundary is on it)
//   bid >= ask: crossed (bid > ask) or locked (bid = ask, zero spread)
//               quote: against the mid (bid + ask) / 2, neutral zone unused:
//               above the mid buy (ask hit), below sell (bid hit), at the
//               mid neutral (inside spread). A locked market's mid is its
//               price, so a trade at a zero-spread quote is neutral.
//
// Pure functions; thread-safe.
#pragma once

#include "studies/tick_event.hpp"

#include <optional>
#include <string_view>

namespace studies {

enum class Side { buy, sell, neutral };

/// What a trade was classified against.
enum class Basis {
  ask_hit,       // buy against a valid quote
  bid_hit,       // sell against a valid quote
  inside_spread, // neutral against a valid quote
  tick_rule,     // no valid quote (or the `delta` study): uptick/downtick
};

struct Classification {
  Side side = Side::neutral;
  Basis basis = Basis::tick_rule;
};

std::string_view to_string(Side s);
std::string_view to_string(Basis b);

/// +size, -size or 0 (never -0).
double signed_size(Side s, double size);

/// The quote rule above. `quote` must be valid(); neutral_zone_pct in [0, 50).
Classification classify_against_quote(double price, const Quote& quote, double neutral_zone_pct);

/// The tick rule's state: the previous trade price and the last non-zero move.
/// A value type; one object per study.
class TickRule {
public:
  /// Classifies a trade at `price` and remembers it.
  Side classify(double price);

private:
  std::optional<double> last_price_;
  Side last_move_ = Side::neutral;
};

} // namespace studies
