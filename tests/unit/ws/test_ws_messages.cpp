#include "stream/wire_formats.hpp"
#include "ws/ws_messages.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace {

constexpr std::string_view ts = "2025-01-15T10:30:00.123Z";

stream::ContractInfo aapl() {
  stream::ContractInfo c;
  c.con_id = 265598;
  c.symbol = "AAPL";
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.primary_exchange = "NASDAQ";
  c.currency = "USD";
  c.local_symbol = "AAPL";
  c.trading_class = "NMS";
  c.min_tick = 0.01;
  return c;
}

} // namespace

TEST(WsMessages, Connected) {
  EXPECT_EQ(
      ws::connected_message(ts, "0.1.0", ws::ServerInfo{20, 50}),
      R"({"type":"connected","version":"0.1.0","timestamp":"2025-01-15T10:30:00.123Z",)"
      R"("server_info":{"max_subscriptions_per_connection":20,"max_concurrent_streams":50}})");
}

TEST(WsMessages, Subscribed) {
  EXPECT_EQ(ws::subscribed_message(ts, "r1", "ws-1-1", 265598, tws::TickType::bid_ask, aapl()),
            R"({"type":"subscribed","id":"r1","timestamp":"2025-01-15T10:30:00.123Z","data":{)"
            R"("request_id":"ws-1-1","contract_id":265598,"tick_type":"BidAsk","contract_info":{)"
            R"("symbol":"AAPL","sec_type":"STK","exchange":"SMART","primary_exchange":"NASDAQ",)"
            R"("currency":"USD","local_symbol":"AAPL","trading_class":"NMS","min_tick":0.01}}})");
}

TEST(WsMessages, MultiSubscribed) {
  const std::vector<ws::SubscriptionRef> subs{{"a", tws::TickType::last},
                                              {"b", tws::TickType::mid_point}};
  EXPECT_EQ(ws::multi_subscribed_message(ts, "m", 5, subs),
            R"({"type":"multi_subscribed","id":"m","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"contract_id":5,"subscriptions":[{"request_id":"a","tick_type":"Last"},)"
            R"({"request_id":"b","tick_type":"MidPoint"}]}})");
}

TEST(WsMessages, UnsubscribedAndAll) {
  EXPECT_EQ(ws::unsubscribed_message(ts, "u", "ws-1-2"),
            R"({"type":"unsubscribed","id":"u","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"request_id":"ws-1-2"}})");
  EXPECT_EQ(ws::unsubscribed_all_message(ts, "a", 3),
            R"({"type":"unsubscribed_all","id":"a","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"unsubscribed_count":3}})");
}

TEST(WsMessages, PongEchoesTheClientTimestamp) {
  EXPECT_EQ(ws::pong_message(ts, "p", boost::json::value(1736937000123)),
            R"({"type":"pong","id":"p","timestamp":"2025-01-15T10:30:00.123Z","data":{)"
            R"("client_timestamp":1736937000123,"server_timestamp":"2025-01-15T10:30:00.123Z"}})");
  EXPECT_EQ(ws::pong_message(ts, "p", boost::json::value("t\"0")),
            R"({"type":"pong","id":"p","timestamp":"2025-01-15T10:30:00.123Z","data":{)"
            R"("client_timestamp":"t\"0","server_timestamp":"2025-01-15T10:30:00.123Z"}})");
  EXPECT_EQ(ws::pong_message(ts, "p", boost::json::value()),
            R"({"type":"pong","id":"p","timestamp":"2025-01-15T10:30:00.123Z","data":{)"
            R"("client_timestamp":null,"server_timestamp":"2025-01-15T10:30:00.123Z"}})");
}

TEST(WsMessages, StatsAndStreamsSpliceTheirData) {
  EXPECT_EQ(ws::stats_message(ts, "s", R"({"connections":{"active":1}})"),
            R"({"type":"stats","id":"s","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"connections":{"active":1}}})");
  EXPECT_EQ(ws::streams_message(ts, "l", R"({"upstreams":[]})"),
            R"({"type":"streams","id":"l","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"upstreams":[]}})");
}

TEST(WsMessages, Errors) {
  EXPECT_EQ(ws::error_message(ts, {std::nullopt, "ws-1-1"}, "TWS_DISCONNECTED", "lost", "wait"),
            R"({"type":"error","request_id":"ws-1-1","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("error":{"code":"TWS_DISCONNECTED","message":"lost","details":"wait"}})");
  EXPECT_EQ(ws::error_message(ts, {"r9", std::nullopt}, "RATE_LIMIT_EXCEEDED", "m", "d"),
            R"({"type":"error","id":"r9","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("error":{"code":"RATE_LIMIT_EXCEEDED","message":"m","details":"d"}})");
  EXPECT_EQ(ws::error_message(ts, {}, "INTERNAL_ERROR", "m", ""),
            R"({"type":"error","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("error":{"code":"INTERNAL_ERROR","message":"m","details":""}})");
}

TEST(WsMessages, InvalidMessageErrorPutsTheViolationInDetails) {
  const ws::ValidationError e{"data.params.limit: 0 is less than the minimum 1",
                              "data.params.limit", "q1"};
  const auto v = boost::json::parse(ws::invalid_message_error(ts, e));
  EXPECT_EQ(v.at("type"), "error");
  EXPECT_EQ(v.at("id"), "q1");
  EXPECT_FALSE(v.as_object().contains("request_id"));
  EXPECT_EQ(v.at_pointer("/error/code"), "INVALID_MESSAGE");
  EXPECT_EQ(v.at_pointer("/error/details"), "data.params.limit: 0 is less than the minimum 1");
  const auto no_id = boost::json::parse(ws::invalid_message_error(ts, {"x", "", std::nullopt}));
  EXPECT_FALSE(no_id.as_object().contains("id"));
}

TEST(WsMessages, Complete) {
  EXPECT_EQ(ws::complete_message(ts, "ws-1-1", "limit_reached", 100, 12.3456),
            R"({"type":"complete","request_id":"ws-1-1","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"reason":"limit_reached","total_ticks":100,"duration_seconds":12.346}})");
  EXPECT_EQ(ws::complete_message(ts, "r", "timeout", 0, 5),
            R"({"type":"complete","request_id":"r","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":{"reason":"timeout","total_ticks":0,"duration_seconds":5}})");
}

TEST(WsMessages, Info) {
  EXPECT_EQ(ws::info_message(ts, "ws-1-1", "reconnected", "TWS reconnected"),
            R"({"type":"info","request_id":"ws-1-1","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("info":{"message":"TWS reconnected","code":"reconnected"}})");
  EXPECT_EQ(ws::info_message(ts, "r", "ticks_lost", "12 ticks lost", R"("ticks_lost":12)"),
            R"({"type":"info","request_id":"r","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("info":{"message":"12 ticks lost","code":"ticks_lost","ticks_lost":12}})");
}

TEST(WsMessages, ClientStringsAreEscapedAndUtf8Kept) {
  EXPECT_EQ(ws::unsubscribed_message(ts, "a\"b\\c\n\x01é", "r"),
            "{\"type\":\"unsubscribed\",\"id\":\"a\\\"b\\\\c\\n\\u0001é\",\"timestamp\":"
            "\"2025-01-15T10:30:00.123Z\",\"data\":{\"request_id\":\"r\"}}");
  // Bytes that are not UTF-8 cannot break the JSON.
  const auto s = ws::unsubscribed_message(ts, "\xff\xc3", "r");
  EXPECT_EQ(boost::json::parse(s).at("id"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(WsMessages, TickIsSharedSuffixPlusPerClientPrefix) {
  const std::string data =
      R"({"type":"time_sales","tick_type":"Last","timestamp":"2025-01-15 10:30:00",)"
      R"("unix_time":1736937000,"price":175.25,"size":100,"exchange":"NASDAQ",)"
      R"("conditions":"","past_limit":false,"unreported":false})";
  std::string suffix;
  stream::append_ws_tick_suffix(suffix, {42, 265598, tws::TickType::last, ts, data});
  EXPECT_EQ(suffix,
            R"("contract_id":265598,"tick_type":"Last","timestamp":"2025-01-15T10:30:00.123Z",)"
            R"("data":)" +
                data + "}");
  std::string prefix;
  stream::append_ws_prefix(prefix, "tick", "ws-1-1");
  EXPECT_EQ(prefix, R"({"type":"tick","request_id":"ws-1-1",)");

  const std::string whole = prefix + suffix;
  const auto v = boost::json::parse(whole).as_object();
  EXPECT_EQ(v.size(), 6u);
  EXPECT_EQ(v.at("type"), "tick");
  EXPECT_EQ(v.at("request_id"), "ws-1-1");
  EXPECT_EQ(v.at("contract_id"), 265598);
  EXPECT_EQ(v.at("tick_type"), "Last");
  EXPECT_EQ(v.at("timestamp"), boost::json::value(ts));
  EXPECT_EQ(v.at("data"), boost::json::parse(data));

  std::string buf = "junk";
  buf.clear();
  stream::append_ws_prefix(buf, "tick", "other");
  EXPECT_EQ(boost::json::parse(buf + suffix).at("request_id"), "other");
}
