// IB's historical-data pacing as the backfill keeps it.
#include "record/historical_pacer.hpp"

#include <gtest/gtest.h>

namespace {

using record::HistoricalPacer;
using namespace std::chrono_literals;

TEST(HistoricalPacer, FivePerContractAndTypeInTwoSeconds) {
  HistoricalPacer p;
  auto t = HistoricalPacer::Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) {
    const auto id = "req" + std::to_string(i);
    EXPECT_EQ(p.earliest(t, 1, "TRADES", id), t);
    p.sent(t, 1, "TRADES", id);
  }
  EXPECT_EQ(p.earliest(t, 1, "TRADES", "req5"), t + 2s);
  EXPECT_EQ(p.earliest(t, 2, "TRADES", "other"), t) << "another contract is not held back";
  EXPECT_EQ(p.earliest(t, 1, "MIDPOINT", "other"), t) << "another type is not held back";
}

TEST(HistoricalPacer, NoIdenticalRequestWithinFifteenSeconds) {
  HistoricalPacer p;
  auto t = HistoricalPacer::Clock::time_point{} + 1h;
  p.sent(t, 1, "TRADES", "same");
  EXPECT_EQ(p.earliest(t + 1s, 1, "TRADES", "same"), t + 15s);
  EXPECT_EQ(p.earliest(t + 16s, 1, "TRADES", "same"), t + 16s);
}

TEST(HistoricalPacer, SixtyUnitsInTenMinutesBidAskCountsTwice) {
  HistoricalPacer p;
  auto t = HistoricalPacer::Clock::time_point{} + 1h;
  // 30 BID_ASK requests = 60 units, spread so the 2 s rule never bites.
  for (int i = 0; i < 30; ++i) {
    const auto at = t + std::chrono::seconds(3 * i);
    ASSERT_EQ(p.earliest(at, i, "BID_ASK", std::to_string(i)), at);
    p.sent(at, i, "BID_ASK", std::to_string(i));
  }
  const auto now = t + 90s;
  // The next one waits until the first has left the 10-minute window.
  EXPECT_EQ(p.earliest(now, 99, "TRADES", "x"), t + 600s);
}

} // namespace
