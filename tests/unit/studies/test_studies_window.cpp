// The studies' rolling window in tick time, ratios and percentages.
#include "studies/multi_delta_study.hpp"
#include "studies/rolling_window.hpp"

#include <gtest/gtest.h>

using namespace studies;

TEST(StudiesWindow, EmptyWindow) {
  RollingWindow w(60);
  const auto s = w.summary();
  EXPECT_EQ(s.window_seconds, 60);
  EXPECT_EQ(s.trade_count, 0);
  EXPECT_EQ(s.total_buy_volume, 0);
  EXPECT_EQ(s.total_sell_volume, 0);
  EXPECT_EQ(s.total_neutral_volume, 0);
  EXPECT_EQ(s.net_delta, 0);
  EXPECT_FALSE(s.buy_sell_ratio);
  EXPECT_FALSE(s.buy_percentage);
}

TEST(StudiesWindow, KeepsTradesNewerThanNowMinusWindow) {
  RollingWindow w(10);
  w.add(1000, Side::buy, 5); // leaves when now reaches 1010
  w.add(1005, Side::sell, 2);
  w.add(1009, Side::neutral, 1);
  auto s = w.summary();
  EXPECT_EQ(s.trade_count, 3);
  w.advance_to(1010); // window (1000, 1010]: the trade of 1000 is out
  s = w.summary();
  EXPECT_EQ(s.trade_count, 2);
  EXPECT_EQ(s.total_buy_volume, 0);
  EXPECT_EQ(s.total_sell_volume, 2);
  EXPECT_EQ(*s.buy_sell_ratio, 0.0); // no buys: 0 / 2
  EXPECT_EQ(*s.buy_percentage, 0.0);
  w.add(1014, Side::buy, 4); // now 1014: (1004, 1014]
  s = w.summary();
  EXPECT_EQ(s.trade_count, 3);
  EXPECT_EQ(s.net_delta, 2);
  w.advance_to(1015); // (1005, 1015]: 1005 is out
  s = w.summary();
  EXPECT_EQ(s.trade_count, 2);
  EXPECT_EQ(s.total_sell_volume, 0);
  EXPECT_FALSE(s.buy_sell_ratio); // sell volume 0: no ratio (null in JSON)
  EXPECT_EQ(*s.buy_percentage, 100.0);
  w.advance_to(1100);
  EXPECT_EQ(w.summary().trade_count, 0);
  EXPECT_FALSE(w.summary().buy_percentage);
}

TEST(StudiesWindow, TimeNeverGoesBack) {
  RollingWindow w(5);
  w.add(100, Side::buy, 1);
  w.add(90, Side::sell, 1); // late and already outside (95, 100]
  EXPECT_EQ(w.summary().trade_count, 1);
  w.add(97, Side::sell, 3); // late but inside
  EXPECT_EQ(w.summary().trade_count, 2);
  EXPECT_EQ(w.summary().net_delta, -2);
}

TEST(StudiesWindow, RatioAndPercentage) {
  RollingWindow w(60);
  w.add(1, Side::buy, 3);
  w.add(1, Side::sell, 0.5);
  w.add(1, Side::neutral, 100);
  const auto s = w.summary();
  EXPECT_EQ(*s.buy_sell_ratio, 6.0);
  EXPECT_DOUBLE_EQ(*s.buy_percentage, 3.0 / 3.5 * 100.0);
  EXPECT_EQ(s.net_delta, 2.5);
}

TEST(StudiesWindow, StudyWindowIsTickTimeAndCumulativeIsSinceStart) {
  MultiDeltaStudy s({2, 0});
  Quote q;
  q.bid = 10;
  q.ask = 11;
  s.on_quote(q);
  Trade t;
  t.size = 1;
  t.price = 11;
  t.unix_time = 50;
  s.on_trade(t); // +1
  t.unix_time = 51;
  s.on_trade(t); // +1
  t.unix_time = 52;
  t.price = 10;
  t.size = 4;
  const auto r = s.on_trade(t); // -4; window (50, 52]
  EXPECT_EQ(r.summary.trade_count, 2);
  EXPECT_EQ(r.summary.net_delta, -3);
  EXPECT_EQ(r.summary.cumulative_delta, -2);
  EXPECT_EQ(r.summary.window_seconds, 2);
}
