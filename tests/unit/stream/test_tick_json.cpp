// Tick JSON (stream/tick_json.hpp): the api.md §1 `data` object, exact text.
#include "stream/tick_json.hpp"

#include "stream/json_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::string_literals;

template <class Tick> std::string json_of(const Tick& t) {
  std::string out;
  stream::append_tick_json(out, t);
  return out;
}

std::string string_json(std::string_view s) {
  std::string out;
  stream::append_json_string(out, s);
  return out;
}

std::string number_json(double v) {
  std::string out;
  stream::append_json_number(out, v);
  return out;
}

tws::TickByTickLast last_tick() {
  tws::TickByTickLast t;
  t.req_id = 6;
  t.type = tws::TickType::last;
  t.time = 1700000000;
  t.price = 189.5;
  t.size = 100.0;
  t.exchange = "NASDAQ";
  return t;
}

// ------------------------------------------------------------ time

TEST(FormatUtc, KnownInstants) {
  EXPECT_EQ(stream::format_utc(0), "1970-01-01 00:00:00");
  EXPECT_EQ(stream::format_utc(1700000000), "2023-11-14 22:13:20");
  EXPECT_EQ(stream::format_utc(1705311000), "2024-01-15 09:30:00");
  EXPECT_EQ(stream::format_utc(951782400), "2000-02-29 00:00:00");
  EXPECT_EQ(stream::format_utc(1704067199), "2023-12-31 23:59:59");
  EXPECT_EQ(stream::format_utc(4102444800), "2100-01-01 00:00:00");
  EXPECT_EQ(stream::format_utc(-1), "1969-12-31 23:59:59");
}

TEST(FormatIsoMs, MillisecondsAndZ) {
  EXPECT_EQ(stream::format_iso_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(stream::format_iso_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(stream::format_iso_ms(1700000000005), "2023-11-14T22:13:20.005Z");
  EXPECT_EQ(stream::format_iso_ms(1736937000999), "2025-01-15T10:30:00.999Z");
}

TEST(FormatIsoMs, NowHasTheShape) {
  const std::string now = stream::iso_now();
  ASSERT_EQ(now.size(), 24u);
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[19], '.');
  EXPECT_EQ(now.back(), 'Z');
  EXPECT_GE(now.substr(0, 4), "2024");
}

// ------------------------------------------------------------ primitives

TEST(JsonString, PlainAndEscaped) {
  EXPECT_EQ(string_json(""), "\"\"");
  EXPECT_EQ(string_json("NASDAQ"), "\"NASDAQ\"");
  EXPECT_EQ(string_json("a\"b"), R"("a\"b")");
  EXPECT_EQ(string_json("a\\b"), R"("a\\b")");
  EXPECT_EQ(string_json("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(string_json("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(string_json("nul\0x"s), R"("nul\u0000x")");
  EXPECT_EQ(string_json("/ ~\x7f"), R"("/ ~\u007f")");
}

TEST(JsonString, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(string_json("Soci\xc3\xa9t\xc3\xa9"), "\"Soci\xc3\xa9t\xc3\xa9\"");
  EXPECT_EQ(string_json("a\xff"
                        "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(string_json("\xc3"), R"("\ufffd")"); // truncated sequence
}

TEST(JsonString, AppendsToExistingText) {
  std::string out = "x=";
  stream::append_json_string(out, "y");
  EXPECT_EQ(out, "x=\"y\"");
}

TEST(JsonNumber, ShortestRoundTrip) {
  EXPECT_EQ(number_json(175.25), "175.25");
  EXPECT_EQ(number_json(189.57), "189.57");
  EXPECT_EQ(number_json(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(number_json(100.0), "100");
  EXPECT_EQ(number_json(0.0), "0");
  EXPECT_EQ(number_json(-1.0), "-1");
  EXPECT_EQ(number_json(0.5), "0.5");
  EXPECT_EQ(number_json(100000.0), "100000");
  EXPECT_EQ(number_json(1234567.0), "1234567");
  EXPECT_EQ(number_json(0.0001), "0.0001");
}

TEST(JsonNumber, NonFiniteIsNull) {
  EXPECT_EQ(number_json(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number_json(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number_json(std::numeric_limits<double>::quiet_NaN()), "null");
}

// ------------------------------------------------------------ ticks

TEST(TickJson, Last) {
  EXPECT_EQ(json_of(last_tick()),
            R"({"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20",)"
            R"("unix_time":1700000000,"price":189.5,"size":100,"exchange":"NASDAQ",)"
            R"("conditions":"","past_limit":false,"unreported":false})");
}

TEST(TickJson, AllLastWithFlagsAndConditions) {
  auto t = last_tick();
  t.type = tws::TickType::all_last;
  t.time = 1705311000;
  t.price = 175.25;
  t.size = 0.5;
  t.exchange = "ARCA";
  t.special_conditions = "T I";
  t.past_limit = true;
  t.unreported = true;
  EXPECT_EQ(json_of(t),
            R"({"type":"time_sales","tick_type":"AllLast","timestamp":"2024-01-15 09:30:00",)"
            R"("unix_time":1705311000,"price":175.25,"size":0.5,"exchange":"ARCA",)"
            R"("conditions":"T I","past_limit":true,"unreported":true})");
}

TEST(TickJson, LastUnsetSizeIsNull) {
  auto t = last_tick();
  t.size = std::nullopt;
  t.price = 0.1 + 0.2;
  EXPECT_EQ(json_of(t),
            R"({"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20",)"
            R"("unix_time":1700000000,"price":0.30000000000000004,"size":null,)"
            R"("exchange":"NASDAQ","conditions":"","past_limit":false,"unreported":false})");
}

TEST(TickJson, ConditionsAndExchangeAreEscaped) {
  auto t = last_tick();
  t.exchange = "A\"B";
  t.special_conditions = "x\\y\n\x02";
  EXPECT_EQ(json_of(t),
            R"({"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20",)"
            R"("unix_time":1700000000,"price":189.5,"size":100,"exchange":"A\"B",)"
            R"("conditions":"x\\y\n\u0002","past_limit":false,"unreported":false})");
}

TEST(TickJson, BidAsk) {
  tws::TickByTickBidAsk t{6, 1700000000, 189.4, 189.6, 300.0, 200.0, false, false};
  EXPECT_EQ(json_of(t), R"({"type":"bid_ask","timestamp":"2023-11-14 22:13:20",)"
                        R"("unix_time":1700000000,"bid_price":189.4,"ask_price":189.6,)"
                        R"("bid_size":300,"ask_size":200,"bid_past_low":false,)"
                        R"("ask_past_high":false})");
}

TEST(TickJson, BidAskFlagsAndUnsetSizes) {
  tws::TickByTickBidAsk t{6, 1700000000, -1.0, 175.25, std::nullopt, 12.5, true, false};
  EXPECT_EQ(json_of(t), R"({"type":"bid_ask","timestamp":"2023-11-14 22:13:20",)"
                        R"("unix_time":1700000000,"bid_price":-1,"ask_price":175.25,)"
                        R"("bid_size":null,"ask_size":12.5,"bid_past_low":true,)"
                        R"("ask_past_high":false})");
  t.bid_past_low = false;
  t.ask_past_high = true;
  t.ask_size = std::nullopt;
  EXPECT_EQ(json_of(t), R"({"type":"bid_ask","timestamp":"2023-11-14 22:13:20",)"
                        R"("unix_time":1700000000,"bid_price":-1,"ask_price":175.25,)"
                        R"("bid_size":null,"ask_size":null,"bid_past_low":false,)"
                        R"("ask_past_high":true})");
}

TEST(TickJson, MidPoint) {
  tws::TickByTickMidPoint t{6, 1700000000, 189.5};
  EXPECT_EQ(json_of(t), R"({"type":"midpoint","timestamp":"2023-11-14 22:13:20",)"
                        R"("unix_time":1700000000,"midpoint":189.5})");
  t.mid_point = std::numeric_limits<double>::infinity();
  t.time = 0;
  EXPECT_EQ(json_of(t), R"({"type":"midpoint","timestamp":"1970-01-01 00:00:00",)"
                        R"("unix_time":0,"midpoint":null})");
}

TEST(TickJson, AppendsAfterExistingText) {
  std::string out = "data: ";
  stream::append_tick_json(out, tws::TickByTickMidPoint{1, 1700000000, 175.25});
  stream::append_tick_json(out, tws::TickByTickMidPoint{1, 1700000001, 175.5});
  EXPECT_EQ(out, R"(data: {"type":"midpoint","timestamp":"2023-11-14 22:13:20",)"
                 R"("unix_time":1700000000,"midpoint":175.25})"
                 R"({"type":"midpoint","timestamp":"2023-11-14 22:13:21",)"
                 R"("unix_time":1700000001,"midpoint":175.5})");
}

} // namespace

// ------------------------------------------------------------ fast paths

namespace {

/// What format_utc did before its arithmetic fast path.
std::string reference_utc(std::int64_t unix_time) {
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

} // namespace

TEST(FormatUtc, MatchesGmtimeEveryDayFrom1600To2500) {
  // Every day (at a varying second) across leap and century years.
  constexpr std::int64_t kFirst = -11676096000; // 1600-01-01
  constexpr std::int64_t kLast = 16725225600;   // 2500-01-01
  std::int64_t second = 0;
  for (std::int64_t t = kFirst; t <= kLast; t += 86400) {
    ASSERT_EQ(stream::format_utc(t), reference_utc(t)) << t;
    ASSERT_EQ(stream::format_utc(t - 1), reference_utc(t - 1)) << t - 1;
    second = (second + 7919) % 86400;
    ASSERT_EQ(stream::format_utc(t + second), reference_utc(t + second)) << t + second;
  }
}

TEST(FormatUtc, LeapDaysAndYearBoundaries) {
  EXPECT_EQ(stream::format_utc(951868799), "2000-02-29 23:59:59");
  EXPECT_EQ(stream::format_utc(951868800), "2000-03-01 00:00:00");
  EXPECT_EQ(stream::format_utc(4107542400), "2100-03-01 00:00:00"); // 2100: no Feb 29
  EXPECT_EQ(stream::format_utc(1709164800), "2024-02-29 00:00:00");
  EXPECT_EQ(stream::format_utc(-2203891200), "1900-03-01 00:00:00");
  EXPECT_EQ(stream::format_utc(-62167219200), "0000-01-01 00:00:00");
  EXPECT_EQ(stream::format_utc(-62162121600), "0000-02-29 00:00:00");
  EXPECT_EQ(stream::format_utc(253402300799), "9999-12-31 23:59:59");
}

TEST(FormatUtc, MatchesGmtimeAtTheEdgesAndFarOut) {
  std::vector<std::int64_t> times = {0,
                                     -1,
                                     1,
                                     -86400,
                                     -86401,
                                     -62167219201, // just before year 0
                                     -62167219200,
                                     -62167219199,
                                     -62162121601,
                                     253402300798,
                                     253402300799,
                                     253402300800, // year 10000
                                     -62198755200, // year -1
                                     1000000000000,
                                     -1000000000000,
                                     67767976233316800, // beyond int tm_year
                                     std::numeric_limits<std::int64_t>::max(),
                                     std::numeric_limits<std::int64_t>::min(),
                                     std::numeric_limits<std::int64_t>::max() / 2,
                                     std::numeric_limits<std::int64_t>::min() / 2};
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> any(-70000000000, 260000000000);
  for (int i = 0; i < 200000; ++i) times.push_back(any(rng));
  for (std::int64_t t : times) ASSERT_EQ(stream::format_utc(t), reference_utc(t)) << t;
}

TEST(TickJson, LongAndUnusualStringsMatchTheEscaper) {
  // Strings past the inline limit or needing escapes go through
  // append_json_utf8 (json_text.hpp); the result must be the same text.
  const std::vector<std::string> samples = {
      "",
      "NASDAQ",
      std::string(64, 'x'),
      std::string(65, 'y'),
      std::string(300, 'z'),
      std::string(1000, 'q') + "\"",
      "a\"b",
      "back\\slash",
      "tab\there",
      "ctl\x01\x7f",
      "caf\xc3\xa9",
      "bad\xff",
      std::string("nul\0in", 6),
  };
  for (const auto& exchange : samples) {
    for (const auto& conditions : samples) {
      tws::TickByTickLast t;
      t.type = tws::TickType::all_last;
      t.time = 1700000000;
      t.price = 189.42;
      t.size = 100;
      t.exchange = exchange;
      t.special_conditions = conditions;
      std::string want = "{\"type\":\"time_sales\",\"tick_type\":\"AllLast\","
                         "\"timestamp\":\"2023-11-14 22:13:20\",\"unix_time\":1700000000,"
                         "\"price\":189.42,\"size\":100,\"exchange\":";
      stream::append_json_utf8(want, exchange);
      want += ",\"conditions\":";
      stream::append_json_utf8(want, conditions);
      want += ",\"past_limit\":false,\"unreported\":false}";
      std::string prefix = "previous text ";
      ASSERT_EQ(json_of(t), want);
      stream::append_tick_json(prefix, t);
      ASSERT_EQ(prefix, "previous text " + want);
      ASSERT_EQ(string_json(exchange), [&] {
        std::string s;
        stream::append_json_utf8(s, exchange);
        return s;
      }());
    }
  }
}

TEST(TickJson, ExtremeValuesFitAndMatch) {
  tws::TickByTickBidAsk t;
  t.time = std::numeric_limits<std::int64_t>::min();
  t.bid_price = -2.2250738585072014e-308;
  t.ask_price = -1.7976931348623157e308;
  t.bid_size = -1.2345678901234568e-300;
  t.ask_size = std::nan("");
  t.bid_past_low = true;
  t.ask_past_high = true;
  std::string want = "{\"type\":\"bid_ask\",\"timestamp\":\"" + reference_utc(t.time) +
                     "\",\"unix_time\":-9223372036854775808,"
                     "\"bid_price\":-2.2250738585072014e-308,"
                     "\"ask_price\":-1.7976931348623157e+308,"
                     "\"bid_size\":-1.2345678901234568e-300,\"ask_size\":null,"
                     "\"bid_past_low\":true,\"ask_past_high\":true}";
  EXPECT_EQ(json_of(t), want);
}
