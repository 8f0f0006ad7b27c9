// The packed tick of a log entry (what the recorder reads).
#include "stream/tick_fields.hpp"

#include <gtest/gtest.h>

namespace {

TEST(TickFields, RoundTripsEveryKind) {
  tws::TickByTickLast last;
  last.type = tws::TickType::all_last;
  last.time = 1700000000;
  last.price = 189.25;
  last.size = 300;
  last.past_limit = true;
  last.exchange = "NASDAQ";
  last.special_conditions = "I T";
  tws::TickByTickLast no_size = last;
  no_size.size.reset();
  no_size.unreported = true;
  no_size.past_limit = false;
  tws::TickByTickBidAsk q;
  q.time = 1700000001;
  q.bid_price = 1.0855;
  q.ask_price = 1.0856;
  q.bid_size = 1000000;
  q.ask_past_high = true;
  tws::TickByTickMidPoint m;
  m.time = 1700000002;
  m.mid_point = 4321.125;
  for (const tws::Tick& t : {tws::Tick(last), tws::Tick(no_size), tws::Tick(q), tws::Tick(m)}) {
    std::string packed;
    stream::append_tick_fields(packed, t, 1700000000123456);
    auto back = stream::read_tick_fields(packed);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->tick, t);
    EXPECT_EQ(back->recv_us, 1700000000123456);
    EXPECT_EQ(stream::tick_time(back->tick), stream::tick_time(t));
  }
}

TEST(TickFields, RefusesWhatItDidNotWrite) {
  EXPECT_FALSE(stream::read_tick_fields(""));
  EXPECT_FALSE(stream::read_tick_fields("garbage bytes here"));
  std::string packed;
  tws::TickByTickMidPoint m;
  stream::append_tick_fields(packed, m, 1);
  EXPECT_FALSE(stream::read_tick_fields(std::string_view(packed).substr(0, packed.size() - 1)));
  EXPECT_FALSE(stream::read_tick_fields(packed + "x"));
}

} // namespace
