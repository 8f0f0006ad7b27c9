// IB trading hours into UTC sessions (both formats, over midnight, across
// DST changes, CLOSED days, malformed strings) and the market status at
// every boundary.
#include "hours/trading_hours.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using hours::parse_hours;
using hours::Schedule;
using hours::Session;
using hours::status_at;

std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return hours::days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

const hours::TimeZone& eastern() { return *hours::TimeZone::load("US/Eastern"); }
const hours::TimeZone& central() { return *hours::TimeZone::load("US/Central"); }

std::string error_of(std::string_view text) {
  try {
    parse_hours(text, eastern());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

constexpr const char* kStockWeek = "20260807:0930-20260807:1600;20260808:CLOSED;"
                                   "20260809:CLOSED;20260810:0930-20260810:1600";
constexpr const char* kEs = "20260823:1700-20260824:1600;20260824:1700-20260825:1600;"
                            "20260825:1700-20260826:1600";

TEST(TradingHours, StockWeekWithClosedWeekend) {
  const Schedule s = parse_hours(kStockWeek, eastern());
  const std::vector<Session> want = {{utc(2026, 8, 7, 13, 30), utc(2026, 8, 7, 20)},
                                     {utc(2026, 8, 10, 13, 30), utc(2026, 8, 10, 20)}};
  EXPECT_EQ(s.sessions, want);
  EXPECT_EQ(s.covered_from, utc(2026, 8, 7, 4)); // midnight EDT
  EXPECT_EQ(s.covered_to, utc(2026, 8, 11, 4));
}

TEST(TradingHours, CmeSessionsOverMidnight) {
  const Schedule s = parse_hours(kEs, central());
  ASSERT_EQ(s.sessions.size(), 3u);
  EXPECT_EQ(s.sessions[0], (Session{1787522400, 1787605200})); // 22:00 to 21:00 UTC
  EXPECT_EQ(s.sessions[1], (Session{utc(2026, 8, 24, 22), utc(2026, 8, 25, 21)}));
  EXPECT_EQ(s.sessions[2], (Session{utc(2026, 8, 25, 22), utc(2026, 8, 26, 21)}));
  // The first entry names 20260823 (the evening before its trading day).
  EXPECT_EQ(s.covered_from, utc(2026, 8, 23, 5));
  EXPECT_EQ(s.covered_to, utc(2026, 8, 27, 5));
}

TEST(TradingHours, SessionsAcrossDstChanges) {
  // Fall back: 17:00 CDT Oct 31 to 16:00 CST Nov 1 is 24 hours.
  const Schedule fall = parse_hours("20261031:1700-20261101:1600", central());
  ASSERT_EQ(fall.sessions.size(), 1u);
  EXPECT_EQ(fall.sessions[0], (Session{1793484000, 1793570400}));
  EXPECT_EQ(fall.covered_from, utc(2026, 10, 31, 5));
  EXPECT_EQ(fall.covered_to, utc(2026, 11, 2, 6)); // midnight CST
  // Spring forward: 17:00 CST Mar 7 to 16:00 CDT Mar 8 is 22 hours.
  const Schedule spring = parse_hours("20260307:1700-20260308:1600", central());
  ASSERT_EQ(spring.sessions.size(), 1u);
  EXPECT_EQ(spring.sessions[0], (Session{utc(2026, 3, 7, 23), 1773003600}));
  EXPECT_EQ(spring.covered_from, utc(2026, 3, 7, 6));
  EXPECT_EQ(spring.covered_to, utc(2026, 3, 9, 5));
  // An open in the skipped hour moves forward by the hour: 02:30 is 03:30 CDT.
  const Schedule skipped = parse_hours("20260308:0230-20260308:1600", central());
  EXPECT_EQ(skipped.sessions[0].open, utc(2026, 3, 8, 8, 30));
}

TEST(TradingHours, OldCommaFormat) {
  const Schedule s = parse_hours("20090507:0700-1830,1830-2330;20090508:CLOSED", eastern());
  // Touching sessions stay apart.
  const std::vector<Session> want = {{utc(2009, 5, 7, 11), utc(2009, 5, 7, 22, 30)},
                                     {utc(2009, 5, 7, 22, 30), utc(2009, 5, 8, 3, 30)}};
  EXPECT_EQ(s.sessions, want);
  EXPECT_EQ(s.covered_from, utc(2009, 5, 7, 4));
  EXPECT_EQ(s.covered_to, utc(2009, 5, 9, 4));
  // A close earlier than the open is on the next day.
  const Schedule night = parse_hours("20090507:1800-0200", eastern());
  EXPECT_EQ(night.sessions, (std::vector<Session>{{utc(2009, 5, 7, 22), utc(2009, 5, 8, 6)}}));
  EXPECT_EQ(night.covered_to, utc(2009, 5, 9, 4));
  // 2400 is the end of the day.
  const Schedule all_day = parse_hours("20090507:0000-2400", eastern());
  EXPECT_EQ(all_day.sessions, (std::vector<Session>{{utc(2009, 5, 7, 4), utc(2009, 5, 8, 4)}}));
  EXPECT_EQ(all_day.covered_to, utc(2009, 5, 8, 4));
}

TEST(TradingHours, ClosedOnlyDays) {
  const Schedule s = parse_hours("20261225:CLOSED;20261226:CLOSED", eastern());
  EXPECT_TRUE(s.sessions.empty());
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.covered_from, utc(2026, 12, 25, 5));
  EXPECT_EQ(s.covered_to, utc(2026, 12, 27, 5));
  const auto st = status_at(s, utc(2026, 12, 25, 15));
  EXPECT_TRUE(st.known);
  EXPECT_FALSE(st.open);
  EXPECT_FALSE(st.session);
  EXPECT_FALSE(st.next_open);
  EXPECT_FALSE(st.next_close);
}

TEST(TradingHours, SpacesTrailingSemicolonAndOrder) {
  const Schedule tidy = parse_hours(kStockWeek, eastern());
  const Schedule loose =
      parse_hours("  20260810:0930-20260810:1600 ; 20260808:CLOSED;20260809:CLOSED;"
                  " 20260807:0930-20260807:1600 ; ",
                  eastern());
  EXPECT_EQ(loose.sessions, tidy.sessions);
  EXPECT_EQ(loose.covered_from, tidy.covered_from);
  EXPECT_EQ(loose.covered_to, tidy.covered_to);
  const Schedule none = parse_hours("  ", eastern());
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.sessions.empty());
}

TEST(TradingHours, OverlappingSessionsMergeTouchingOnesDoNot) {
  const Schedule overlap = parse_hours(
      "20260807:1500-20260807:1700;20260807:0930-20260807:1600;20260807:0930-20260807:1600",
      eastern());
  EXPECT_EQ(overlap.sessions,
            (std::vector<Session>{{utc(2026, 8, 7, 13, 30), utc(2026, 8, 7, 21)}}));
  const Schedule touching =
      parse_hours("20260807:0930-20260807:1200;20260807:1200-20260807:1600", eastern());
  EXPECT_EQ(touching.sessions.size(), 2u);
}

TEST(TradingHours, MalformedEntriesThrowQuotingTheEntry) {
  EXPECT_EQ(error_of("20260230:0930-20260230:1600"),
            "invalid trading hours entry \"20260230:0930-20260230:1600\": no such date");
  EXPECT_EQ(error_of("20260807:0930-20260807:2460"),
            "invalid trading hours entry \"20260807:0930-20260807:2460\": no such time of day");
  EXPECT_EQ(error_of("20260807:0930-2401"),
            "invalid trading hours entry \"20260807:0930-2401\": no such time of day");
  EXPECT_EQ(error_of("20260807:CLOSED;20260808:09301600"),
            "invalid trading hours entry \"20260808:09301600\": no '-' between open and close");
  EXPECT_EQ(error_of("garbage"), "invalid trading hours entry \"garbage\": no ':' after the date");
  EXPECT_EQ(error_of("2026080:0930-1600"),
            "invalid trading hours entry \"2026080:0930-1600\": date is not YYYYMMDD");
  EXPECT_EQ(error_of("20260807:930-1600"),
            "invalid trading hours entry \"20260807:930-1600\": time is not HHMM");
  EXPECT_EQ(error_of("20260807:0930-20260806:1600"),
            "invalid trading hours entry \"20260807:0930-20260806:1600\": session closes before it "
            "opens");
  EXPECT_EQ(error_of("20260807:closed"),
            "invalid trading hours entry \"20260807:closed\": no '-' between open and close");
  EXPECT_EQ(error_of("20260807:0930-1600,"),
            "invalid trading hours entry \"20260807:0930-1600,\": no '-' between open and close");
  EXPECT_EQ(error_of("20260807:CLOSED;;20260808:CLOSED"),
            "invalid trading hours: empty entry in \"20260807:CLOSED;;20260808:CLOSED\"");
}

TEST(TradingHours, StatusAtEveryBoundary) {
  const Schedule s = parse_hours(kEs, central());
  const Session first = s.sessions[0], second = s.sessions[1], third = s.sessions[2];

  for (const auto t : {s.covered_from - 1, s.covered_to, s.covered_to + 86400}) {
    const auto st = status_at(s, t); // outside the span: unknown, never "closed"
    EXPECT_FALSE(st.known) << t;
    EXPECT_TRUE(st.open) << t;
    EXPECT_FALSE(st.session || st.next_open || st.next_close) << t;
  }

  auto weekend = status_at(s, s.covered_from); // Sunday morning, Chicago
  EXPECT_TRUE(weekend.known);
  EXPECT_FALSE(weekend.open);
  EXPECT_FALSE(weekend.session);
  EXPECT_EQ(weekend.next_open, first.open);
  EXPECT_EQ(weekend.next_close, first.close);
  EXPECT_EQ(status_at(s, first.open - 1).open, false);
  EXPECT_EQ(status_at(s, first.open - 1).next_open, first.open);

  const auto at_open = status_at(s, first.open);
  EXPECT_TRUE(at_open.known && at_open.open);
  EXPECT_EQ(at_open.session, first);
  EXPECT_EQ(at_open.next_open, second.open);
  EXPECT_EQ(at_open.next_close, first.close);

  const auto before_close = status_at(s, first.close - 1);
  EXPECT_TRUE(before_close.open);
  EXPECT_EQ(before_close.session, first);

  const auto at_close = status_at(s, first.close); // the daily break starts
  EXPECT_TRUE(at_close.known);
  EXPECT_FALSE(at_close.open);
  EXPECT_FALSE(at_close.session);
  EXPECT_EQ(at_close.next_open, second.open);
  EXPECT_EQ(at_close.next_close, second.close);

  const auto in_break = status_at(s, utc(2026, 8, 24, 21, 30));
  EXPECT_FALSE(in_break.open);
  EXPECT_EQ(in_break.next_open, second.open);
  EXPECT_FALSE(status_at(s, second.open - 1).open);
  EXPECT_TRUE(status_at(s, second.open).open);

  const auto last_open = status_at(s, third.close - 1);
  EXPECT_EQ(last_open.session, third);
  EXPECT_FALSE(last_open.next_open);
  EXPECT_EQ(last_open.next_close, third.close);

  const auto after_last = status_at(s, third.close); // known until covered_to
  EXPECT_TRUE(after_last.known);
  EXPECT_FALSE(after_last.open);
  EXPECT_FALSE(after_last.next_open || after_last.next_close);
  EXPECT_TRUE(status_at(s, s.covered_to - 1).known);
}

TEST(TradingHours, StatusOnAStockWeekend) {
  const Schedule s = parse_hours(kStockWeek, eastern());
  const auto saturday = status_at(s, utc(2026, 8, 8, 16)); // 12:00 EDT
  EXPECT_TRUE(saturday.known);
  EXPECT_FALSE(saturday.open);
  EXPECT_EQ(saturday.next_open, utc(2026, 8, 10, 13, 30));
  EXPECT_EQ(saturday.next_close, utc(2026, 8, 10, 20));
  const auto empty = status_at(Schedule{}, utc(2026, 8, 8, 16));
  EXPECT_FALSE(empty.known);
  EXPECT_TRUE(empty.open);
}

} // namespace
