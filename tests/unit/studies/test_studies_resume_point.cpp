// ResumePoints (the last tick of each type applied from /replay, as an SSE
// id and a count of its second) and SecondSkip (the WebSocket's drop of the
// ticks of that second already applied).
#include "studies_cli/resume_point.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace {

using studies_cli::ResumePoint;
using studies_cli::ResumePoints;
using studies_cli::SecondSkip;

boost::json::object tick(std::string_view json) { return boost::json::parse(json).as_object(); }

boost::json::object last(long long seq, long long unix_time, int sub = 0) {
  std::string s = R"({"type":"time_sales","tick_type":"Last","unix_time":)" +
                  std::to_string(unix_time) + R"(,"price":1.5,"size":1,"seq":)" +
                  std::to_string(seq);
  if (sub) s += R"(,"sub":)" + std::to_string(sub);
  s += sub ? R"(,"source":"backfill"})" : R"(,"source":"live"})";
  return tick(s);
}

boost::json::object quote(long long seq, long long unix_time) {
  return tick(R"({"type":"bid_ask","unix_time":)" + std::to_string(unix_time) +
              R"(,"bid_price":1,"ask_price":2,"seq":)" + std::to_string(seq) +
              R"(,"source":"live"})");
}

TEST(StudiesResumePoints, TheLastTickOfEachTypeAndItsSecond) {
  ResumePoints r;
  EXPECT_EQ(r.find("Last"), nullptr);
  ASSERT_TRUE(r.note(last(7, 100)));
  ASSERT_TRUE(r.note(quote(3, 100)));
  ASSERT_TRUE(r.note(last(8, 101)));
  ASSERT_TRUE(r.note(last(9, 101)));
  ASSERT_TRUE(r.note(quote(4, 101)));
  const ResumePoint* l = r.find("Last");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->last.text, "9");
  EXPECT_EQ(l->second, 101);
  EXPECT_EQ(l->at_second, 2u); // 8 and 9; 7 was another second
  const ResumePoint* q = r.find("BidAsk");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->last.text, "4");
  EXPECT_EQ(q->at_second, 1u);
  EXPECT_EQ(r.find("MidPoint"), nullptr);
}

TEST(StudiesResumePoints, BackfilledTicksResumeAtSeqDotSub) {
  ResumePoints r;
  ASSERT_TRUE(r.note(last(100, 50)));
  ASSERT_TRUE(r.note(last(100, 51, 1)));
  ASSERT_TRUE(r.note(last(100, 51, 2)));
  const ResumePoint* l = r.find("Last");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->last.text, "100.2");
  EXPECT_EQ(l->last.seq, 100u);
  EXPECT_EQ(l->last.sub, 2u);
  EXPECT_EQ(l->at_second, 2u);
}

TEST(StudiesResumePoints, TicksWithoutAPositionAreNotNoted) {
  ResumePoints r;
  EXPECT_FALSE(r.note(tick(R"({"type":"time_sales","tick_type":"Last","unix_time":5})")));
  EXPECT_FALSE(r.note(tick(R"({"type":"time_sales","tick_type":"Last","seq":"5","unix_time":5})")));
  EXPECT_FALSE(r.note(tick(R"({"type":"time_sales","tick_type":"Last","seq":5})")));
  EXPECT_FALSE(r.note(tick(R"({"type":"other","seq":5,"unix_time":5})")));
  EXPECT_FALSE(r.note(tick(R"({"type":"bid_ask","seq":5,"sub":"x","unix_time":5})")));
  EXPECT_EQ(r.find("Last"), nullptr);
  EXPECT_EQ(r.find("BidAsk"), nullptr);
}

TEST(StudiesSecondSkip, DropsTheAppliedTicksOfTheSecondThenNothing) {
  ResumePoint p;
  p.second = 101;
  p.at_second = 2;
  SecondSkip s(p);
  // since=101: the record sends both ticks of 101 applied, then new ones
  // (a third tick of 101 is new: the replay had two).
  EXPECT_TRUE(s.skip(101));
  EXPECT_TRUE(s.skip(101));
  EXPECT_FALSE(s.skip(101));
  EXPECT_TRUE(s.done());
  EXPECT_FALSE(s.skip(101)); // once a tick is kept, none is dropped
}

TEST(StudiesSecondSkip, ANewSubscriptionSendsTheSecondAgain) {
  ResumePoint p;
  p.second = 101;
  p.at_second = 2;
  SecondSkip s(p);
  EXPECT_TRUE(s.skip(101));
  s.restart(); // the connection was lost before a new tick came
  EXPECT_TRUE(s.skip(101));
  EXPECT_TRUE(s.skip(101));
  EXPECT_FALSE(s.skip(102));
}

TEST(StudiesSecondSkip, ALaterSecondEndsTheSkip) {
  ResumePoint p;
  p.second = 101;
  p.at_second = 3;
  SecondSkip s(p);
  EXPECT_TRUE(s.skip(101));
  EXPECT_FALSE(s.skip(102)); // fewer ticks of 101 than applied: nothing more is dropped
  EXPECT_FALSE(s.skip(101));
  SecondSkip none;
  EXPECT_FALSE(none.skip(101));
}

} // namespace
