// The classification rules of the studies (src/studies/classification.hpp)
// on hand-made trades and quotes, with exact expected sides and deltas.
#include "studies/classification.hpp"
#include "studies/delta_study.hpp"
#include "studies/multi_delta_study.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace studies;

namespace {

Quote quote(double bid, double ask, std::int64_t t = 100) {
  Quote q;
  q.unix_time = t;
  q.bid = bid;
  q.ask = ask;
  q.bid_size = 10;
  q.ask_size = 20;
  return q;
}

Trade trade(double price, double size, std::int64_t t = 100) {
  Trade x;
  x.unix_time = t;
  x.price = price;
  x.size = size;
  x.tick_type = "Last";
  return x;
}

Classification at(double price, double bid, double ask, double pct = 0.0) {
  return classify_against_quote(price, quote(bid, ask), pct);
}

} // namespace

TEST(StudiesQuoteRule, AtOrAboveAskBuysAtOrBelowBidSellsInsideNeutral) {
  EXPECT_EQ(at(101.0, 100.0, 101.0).side, Side::buy); // exactly at the ask
  EXPECT_EQ(at(101.0, 100.0, 101.0).basis, Basis::ask_hit);
  EXPECT_EQ(at(101.5, 100.0, 101.0).side, Side::buy);  // through the ask
  EXPECT_EQ(at(100.0, 100.0, 101.0).side, Side::sell); // exactly at the bid
  EXPECT_EQ(at(100.0, 100.0, 101.0).basis, Basis::bid_hit);
  EXPECT_EQ(at(99.5, 100.0, 101.0).side, Side::sell);
  EXPECT_EQ(at(100.5, 100.0, 101.0).side, Side::neutral);
  EXPECT_EQ(at(100.5, 100.0, 101.0).basis, Basis::inside_spread);
  EXPECT_EQ(at(100.01, 100.0, 101.0).side, Side::neutral); // strictly inside
  EXPECT_EQ(at(100.99, 100.0, 101.0).side, Side::neutral);
}

TEST(StudiesQuoteRule, NeutralZoneBoundariesAreInclusive) {
  // Spread 1.00, zone 10%: sell at <= 100.10, buy at >= 100.90.
  EXPECT_EQ(at(100.1, 100.0, 101.0, 10).side, Side::sell); // on the boundary
  EXPECT_EQ(at(100.11, 100.0, 101.0, 10).side, Side::neutral);
  EXPECT_EQ(at(100.9, 100.0, 101.0, 10).side, Side::buy); // on the boundary
  EXPECT_EQ(at(100.89, 100.0, 101.0, 10).side, Side::neutral);
  EXPECT_EQ(at(100.5, 100.0, 101.0, 10).side, Side::neutral);
  // Decimal prices that do not add up exactly in binary: 0.3 + 25% of 0.4.
  EXPECT_EQ(at(0.4, 0.3, 0.7, 25).side, Side::sell);
  EXPECT_EQ(at(0.6, 0.3, 0.7, 25).side, Side::buy);
  EXPECT_EQ(at(0.5, 0.3, 0.7, 25).side, Side::neutral);
  // 49.9%: only a 0.2% band around the mid stays neutral.
  EXPECT_EQ(at(100.499, 100.0, 101.0, 49.9).side, Side::sell);
  EXPECT_EQ(at(100.5, 100.0, 101.0, 49.9).side, Side::neutral);
  EXPECT_EQ(at(100.501, 100.0, 101.0, 49.9).side, Side::buy);
}

TEST(StudiesQuoteRule, CrossedMarketIsClassifiedAgainstTheMid) {
  // bid 101 > ask 100: mid 100.5; the neutral zone does not apply.
  EXPECT_EQ(at(100.75, 101.0, 100.0).side, Side::buy);
  EXPECT_EQ(at(100.75, 101.0, 100.0).basis, Basis::ask_hit);
  EXPECT_EQ(at(101.0, 101.0, 100.0).side, Side::buy);  // at the (crossed) bid, above the mid
  EXPECT_EQ(at(100.0, 101.0, 100.0).side, Side::sell); // at the (crossed) ask, below the mid
  EXPECT_EQ(at(100.25, 101.0, 100.0).basis, Basis::bid_hit);
  EXPECT_EQ(at(100.5, 101.0, 100.0).side, Side::neutral);
  EXPECT_EQ(at(100.5, 101.0, 100.0).basis, Basis::inside_spread);
  EXPECT_EQ(at(100.5, 101.0, 100.0, 40).side, Side::neutral);
}

TEST(StudiesQuoteRule, ZeroSpreadTradeAtThePriceIsNeutral) {
  EXPECT_EQ(at(100.0, 100.0, 100.0).side, Side::neutral);
  EXPECT_EQ(at(100.0, 100.0, 100.0).basis, Basis::inside_spread);
  EXPECT_EQ(at(100.25, 100.0, 100.0).side, Side::buy);
  EXPECT_EQ(at(99.75, 100.0, 100.0).side, Side::sell);
  EXPECT_EQ(at(100.0, 100.0, 100.0, 30).side, Side::neutral);
}

TEST(StudiesQuoteRule, QuoteValidity) {
  EXPECT_TRUE(quote(100, 101).valid());
  EXPECT_FALSE(quote(0, 101).valid());
  EXPECT_FALSE(quote(100, -1).valid());
  EXPECT_FALSE(quote(0, 0).valid());
  EXPECT_TRUE(quote(101, 100).valid()); // crossed, but both sides there
}

TEST(StudiesTickRule, UptickDowntickZeroTick) {
  TickRule r;
  // first neutral, flat before any move neutral, then zero-tick keeps the last move
  const std::vector<std::pair<double, Side>> seq = {
      {100.0, Side::neutral}, {100.0, Side::neutral}, {100.25, Side::buy},
      {100.25, Side::buy},    {100.25, Side::buy},    {100.0, Side::sell},
      {100.0, Side::sell},    {100.5, Side::buy},     {100.5, Side::buy}};
  for (std::size_t i = 0; i < seq.size(); ++i)
    EXPECT_EQ(r.classify(seq[i].first), seq[i].second) << "trade " << i;
}

TEST(StudiesTickRule, SignedSize) {
  EXPECT_EQ(signed_size(Side::buy, 5), 5);
  EXPECT_EQ(signed_size(Side::sell, 5), -5);
  EXPECT_EQ(signed_size(Side::neutral, 5), 0);
  EXPECT_FALSE(std::signbit(signed_size(Side::neutral, 5)));
}

TEST(StudiesDelta, TickRuleDeltasAndCumulative) {
  DeltaStudy s(60);
  const std::vector<std::pair<double, double>> trades = {{100.0, 3},  {100.5, 2},  {100.5, 4},
                                                         {100.25, 1}, {100.25, 7}, {100.75, 5}};
  const std::vector<double> deltas = {0, 2, 4, -1, -7, 5};
  const std::vector<double> cumulative = {0, 2, 6, 5, -2, 3};
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const auto r = s.on_trade(trade(trades[i].first, trades[i].second, 100 + i));
    EXPECT_EQ(r.delta, deltas[i]) << i;
    EXPECT_EQ(r.summary.cumulative_delta, cumulative[i]) << i;
    EXPECT_EQ(r.classification.basis, Basis::tick_rule);
    EXPECT_EQ(r.study, "delta");
  }
  const auto sum = s.summary();
  EXPECT_EQ(sum.trade_count, 6);
  EXPECT_EQ(sum.total_buy_volume, 11);
  EXPECT_EQ(sum.total_sell_volume, 8);
  EXPECT_EQ(sum.total_neutral_volume, 3);
  EXPECT_EQ(sum.net_delta, 3);
  EXPECT_DOUBLE_EQ(*sum.buy_sell_ratio, 11.0 / 8.0);
  EXPECT_DOUBLE_EQ(*sum.buy_percentage, 11.0 / 19.0 * 100.0);
  EXPECT_EQ(s.stats().no_quote_trades, 6);
  EXPECT_EQ(*s.stats().true_delta_percentage(), 0.0);
}

TEST(StudiesMultiDelta, NoQuoteYetFallsBackToTheTickRuleAndIsCounted) {
  MultiDeltaStudy s({60, 0});
  auto r = s.on_trade(trade(100.0, 5));
  EXPECT_EQ(r.classification.basis, Basis::tick_rule);
  EXPECT_EQ(r.delta, 0); // first trade
  EXPECT_FALSE(r.quote);
  r = s.on_trade(trade(100.25, 2));
  EXPECT_EQ(r.delta, 2);       // uptick
  s.on_quote(quote(0, 100.5)); // one-sided: still no valid quote
  r = s.on_trade(trade(100.0, 3));
  EXPECT_EQ(r.classification.basis, Basis::tick_rule);
  EXPECT_EQ(r.delta, -3); // downtick
  ASSERT_TRUE(r.quote);
  EXPECT_FALSE(r.quote->valid());
  s.on_quote(quote(100.0, 100.25));
  r = s.on_trade(trade(100.0, 4)); // at the bid
  EXPECT_EQ(r.classification.basis, Basis::bid_hit);
  EXPECT_EQ(r.delta, -4);
  r = s.on_trade(trade(100.25, 6)); // at the ask
  EXPECT_EQ(r.delta, 6);
  s.on_quote(quote(0, 0)); // the book went away: the tick rule again, from the last trade
  r = s.on_trade(trade(100.25, 1));
  EXPECT_EQ(r.classification.basis, Basis::tick_rule);
  EXPECT_EQ(r.delta, 1); // zero tick after an uptick
  const auto& st = s.stats();
  EXPECT_EQ(st.trades, 6);
  EXPECT_EQ(st.no_quote_trades, 4);
  EXPECT_EQ(st.bid_hits, 1);
  EXPECT_EQ(st.ask_hits, 1);
  EXPECT_EQ(st.inside_spread, 0);
  EXPECT_DOUBLE_EQ(*st.true_delta_percentage(), 2.0 / 6.0 * 100.0);
  EXPECT_EQ(r.summary.cumulative_delta, 0 + 2 - 3 - 4 + 6 + 1);
}

TEST(StudiesMultiDelta, SequenceWithExactWindowRatiosAndStats) {
  MultiDeltaStudy s({60, 0});
  s.on_quote(quote(100.0, 100.5));
  const double d1 = s.on_trade(trade(100.5, 10)).delta; // ask hit +10
  const double d2 = s.on_trade(trade(100.0, 4)).delta;  // bid hit -4
  const double d3 = s.on_trade(trade(100.25, 7)).delta; // inside 0
  s.on_quote(quote(100.5, 100.25));                     // crossed, mid 100.375
  const double d4 = s.on_trade(trade(100.5, 3)).delta;  // above mid +3
  s.on_quote(quote(100.25, 100.25));                    // locked
  const auto r = s.on_trade(trade(100.25, 2));          // at the price: 0
  EXPECT_EQ(d1, 10);
  EXPECT_EQ(d2, -4);
  EXPECT_EQ(d3, 0);
  EXPECT_EQ(d4, 3);
  EXPECT_EQ(r.delta, 0);
  EXPECT_EQ(r.summary.trade_count, 5);
  EXPECT_EQ(r.summary.total_buy_volume, 13);
  EXPECT_EQ(r.summary.total_sell_volume, 4);
  EXPECT_EQ(r.summary.total_neutral_volume, 9);
  EXPECT_EQ(r.summary.net_delta, 9);
  EXPECT_EQ(r.summary.cumulative_delta, 9);
  EXPECT_DOUBLE_EQ(*r.summary.buy_sell_ratio, 3.25);
  EXPECT_DOUBLE_EQ(*r.summary.buy_percentage, 13.0 / 17.0 * 100.0);
  EXPECT_EQ(r.stats.ask_hits, 2);
  EXPECT_EQ(r.stats.bid_hits, 1);
  EXPECT_EQ(r.stats.inside_spread, 2);
  EXPECT_EQ(r.stats.no_quote_trades, 0);
  EXPECT_EQ(*r.stats.true_delta_percentage(), 100.0);
}

TEST(StudiesMultiDelta, NeutralZoneAppliesToTheStudy) {
  MultiDeltaStudy s({60, 20});
  s.on_quote(quote(100.0, 101.0)); // sell <= 100.2, buy >= 100.8
  EXPECT_EQ(s.on_trade(trade(100.2, 1)).delta, -1);
  EXPECT_EQ(s.on_trade(trade(100.8, 1)).delta, 1);
  EXPECT_EQ(s.on_trade(trade(100.21, 1)).delta, 0);
  EXPECT_EQ(s.on_trade(trade(100.79, 1)).delta, 0);
}
