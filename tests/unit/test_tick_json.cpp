// Tick JSON (stream/tick_json.hpp): the api.md §1 `data` object, exact text.
#include "stream/tick_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

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
