// The studies' parsing (tick events, the SSE stream) and JSON output.
#include "studies/multi_delta_study.hpp"
#include "studies/same_time_order.hpp"
#include "studies/sse_parser.hpp"
#include "studies/study_output.hpp"
#include "studies/tick_event.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace studies;

TEST(StudiesTickEvent, ParsesTradeAndQuoteEvents) {
  StreamEvent ev;
  std::string err;
  ASSERT_TRUE(parse_stream_event(
      R"({"type":"tick","contract_id":711280073,"timestamp":"2023-11-14T22:13:20.000Z","data":{"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20","unix_time":1700000000,"price":21000.25,"size":3,"exchange":"CME","conditions":"","past_limit":false,"unreported":false}})",
      ev, err))
      << err;
  EXPECT_EQ(ev.type, "tick");
  EXPECT_EQ(ev.contract_id, 711280073);
  EXPECT_EQ(ev.timestamp, "2023-11-14T22:13:20.000Z");
  const auto* t = std::get_if<Trade>(&ev.tick);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->price, 21000.25);
  EXPECT_EQ(t->size, 3);
  EXPECT_EQ(t->unix_time, 1700000000);
  EXPECT_EQ(t->tick_type, "Last");

  ASSERT_TRUE(parse_stream_event(
      R"({"type":"tick","contract_id":1,"timestamp":"x","data":{"type":"bid_ask","timestamp":"t","unix_time":5,"bid_price":1.5,"ask_price":2,"bid_size":0.5,"ask_size":7}})",
      ev, err));
  const auto* q = std::get_if<Quote>(&ev.tick);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->bid, 1.5);
  EXPECT_EQ(q->ask, 2);
  EXPECT_EQ(q->bid_size, 0.5);

  ASSERT_TRUE(parse_stream_event(
      R"({"type":"tick","contract_id":1,"timestamp":"x","data":{"type":"midpoint","unix_time":5,"midpoint":1}})",
      ev, err));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ev.tick));
  ASSERT_TRUE(parse_stream_event(R"({"type":"complete","reason":"timeout"})", ev, err));
  EXPECT_EQ(ev.type, "complete");
}

TEST(StudiesTickEvent, RejectsBrokenEvents) {
  StreamEvent ev;
  std::string err;
  EXPECT_FALSE(parse_stream_event("{not json", ev, err));
  EXPECT_FALSE(parse_stream_event("[1]", ev, err));
  EXPECT_FALSE(parse_stream_event(R"({"type":"tick"})", ev, err));
  EXPECT_FALSE(parse_stream_event(
      R"({"type":"tick","data":{"type":"time_sales","unix_time":1,"price":"1","size":1}})", ev,
      err));
  EXPECT_FALSE(parse_stream_event(
      R"({"type":"tick","data":{"type":"bid_ask","unix_time":1,"bid_price":1}})", ev, err));
}

TEST(StudiesTickEvent, TickEventLineReencodesLikeTheServer) {
  const auto data = boost::json::parse(
      R"({"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20","unix_time":1700000000,"price":175.25,"size":100,"exchange":"A\"B","conditions":"","past_limit":false,"unreported":false})");
  EXPECT_EQ(
      tick_event_line(265598, "2023-11-14T22:13:20.123Z", data),
      R"({"type":"tick","contract_id":265598,"timestamp":"2023-11-14T22:13:20.123Z","data":{"type":"time_sales","tick_type":"Last","timestamp":"2023-11-14 22:13:20","unix_time":1700000000,"price":175.25,"size":100,"exchange":"A\"B","conditions":"","past_limit":false,"unreported":false}})");
  std::string out;
  append_json_value(out, boost::json::parse("[0.1,1e-7,-2,null,true]"));
  EXPECT_EQ(out, "[0.1,1e-07,-2,null,true]");
}

TEST(StudiesSseParser, SplitsEventsAcrossArbitraryPieces) {
  const std::string stream = "retry: 3000\n\n: keepalive\n\nid: 7\ndata: {\"a\":1}\n\n"
                             "id: 8\r\ndata: x\r\ndata: y\r\n\r\nevent: e\rdata: z\r\r";
  // Every split point gives the same events.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    auto evs = p.feed(stream.substr(0, cut));
    auto more = p.feed(stream.substr(cut));
    evs.insert(evs.end(), more.begin(), more.end());
    ASSERT_EQ(evs.size(), 3u) << cut;
    EXPECT_EQ(evs[0].id, "7");
    EXPECT_EQ(evs[0].data, "{\"a\":1}");
    EXPECT_EQ(evs[1].id, "8");
    EXPECT_EQ(evs[1].data, "x\ny");
    EXPECT_FALSE(evs[2].id);
    EXPECT_EQ(evs[2].event, "e");
    EXPECT_EQ(evs[2].data, "z");
    EXPECT_EQ(p.retry_ms(), 3000);
  }
}

TEST(StudiesSseParser, IncompleteEventIsNotDispatchedAndResetForgetsIt) {
  SseParser p;
  EXPECT_TRUE(p.feed("data: half").empty());
  EXPECT_TRUE(p.feed("\n").empty());
  p.reset();
  auto evs = p.feed("data: whole\n\n");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].data, "whole");
}

TEST(StudiesOutput, TradeJsonHasEveryFieldAndNullsWhereUndefined) {
  MultiDeltaStudy s({60, 0});
  Trade t;
  t.unix_time = 1700000000;
  t.timestamp = "2023-11-14 22:13:20";
  t.price = 100.5;
  t.size = 2;
  t.tick_type = "Last";
  const auto r = s.on_trade(t);
  EXPECT_EQ(
      format_trade_json(r, 42, "2023-11-14T22:13:20.500Z"),
      R"({"study":"multi_delta","contract_id":42,"timestamp":"2023-11-14T22:13:20.500Z",)"
      R"("current_trade":{"price":100.5,"size":2,"delta":0,"side":"neutral","basis":"tick_rule","tick_type":"Last","timestamp":"2023-11-14 22:13:20","unix_time":1700000000},)"
      R"("current_quote":{"bid":null,"ask":null,"bid_size":null,"ask_size":null,"spread":null,"valid":false},)"
      R"("summary":{"window_seconds":60,"trade_count":1,"total_buy_volume":0,"total_sell_volume":0,"total_neutral_volume":2,"net_delta":0,"cumulative_delta":0,"buy_sell_ratio":null,"buy_percentage":null},)"
      R"("calculation_stats":{"trades":1,"bid_hits":0,"ask_hits":0,"inside_spread":0,"no_quote_trades":1,"true_delta_percentage":0}})");
  Quote q;
  q.bid = 100;
  q.ask = 100.25;
  q.bid_size = 3;
  q.ask_size = 4;
  s.on_quote(q);
  t.price = 100;
  const auto r2 = s.on_trade(t);
  const auto v = boost::json::parse(format_trade_json(r2, 42, "x")).as_object();
  EXPECT_EQ(v.at("current_trade").at("delta").to_number<double>(), -2);
  EXPECT_EQ(v.at("current_quote").at("spread").to_number<double>(), 0.25);
  EXPECT_EQ(v.at("summary").at("buy_sell_ratio").to_number<double>(), 0);
  EXPECT_EQ(v.at("summary").at("buy_percentage").to_number<double>(), 0);
  EXPECT_EQ(v.at("calculation_stats").at("true_delta_percentage").to_number<double>(), 50);
}

TEST(StudiesOutput, HumanRowAndSummary) {
  MultiDeltaStudy s({60, 0});
  Quote q;
  q.bid = 21000;
  q.ask = 21000.25;
  s.on_quote(q);
  Trade t;
  t.timestamp = "2023-11-14 22:13:20";
  t.price = 21000.25;
  t.size = 5;
  const auto r = s.on_trade(t);
  EXPECT_EQ(format_row(r, 2), "2023-11-14 22:13:20 |     21000.25 |        5 |     21000.00 | "
                              "    21000.25 |       +5 |         +5  ask hit");
  EXPECT_EQ(format_summary("summary", s.summary(), s.stats()),
            "--- summary (last 60 s of tick time) ---\n"
            "trades 1 | buys 5 | sells 0 | neutral 0 | net delta +5 | cumulative delta +5\n"
            "buy/sell ratio n/a | buy percentage 100.0%\n"
            "since start: trades 1 | bid hits 0 | ask hits 1 | inside spread 0 | no-quote "
            "trades 0 | true delta 100.0%");
  EXPECT_EQ(decimals_for(0.00005, 2), 5);
  EXPECT_EQ(decimals_for(21000.25, 2), 2);
  EXPECT_EQ(decimals_for(1.5, 2), 2);
}

static StreamEvent stamped_event(const char* ts, bool trade) {
  StreamEvent e;
  e.timestamp = ts;
  if (trade) e.tick = Trade{};
  else e.tick = Quote{};
  return e;
}

TEST(StudiesSameTimeOrder, TradesFirstWithinOneServerTimestamp) {
  SameTimeOrder o;
  EXPECT_TRUE(o.push(stamped_event("t1", false), "q1").empty());
  EXPECT_TRUE(o.push(stamped_event("t1", true), "T1").empty());
  EXPECT_TRUE(o.push(stamped_event("t1", false), "q2").empty());
  EXPECT_TRUE(o.push(stamped_event("t1", true), "T2").empty());
  auto out = o.push(stamped_event("t2", false), "q3");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].line, "T1");
  EXPECT_EQ(out[1].line, "T2");
  EXPECT_EQ(out[2].line, "q1");
  EXPECT_EQ(out[3].line, "q2");
  out = o.flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].line, "q3");
  EXPECT_TRUE(o.empty());
}

TEST(StudiesSameTimeOrder, AnEarlierStampedTradeArrivingLateStillGoesFirst) {
  // The quote connection was quicker: its tick stamped 001 before the
  // trade stamped 000 on the other connection.
  SameTimeOrder o;
  EXPECT_TRUE(o.push(stamped_event("2024-01-15T14:30:00.001Z", false), "q1").empty());
  EXPECT_TRUE(o.push(stamped_event("2024-01-15T14:30:00.000Z", true), "T1").empty());
  auto out = o.push(stamped_event("2024-01-15T14:30:00.100Z", false), "q2");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].line, "T1");
  EXPECT_EQ(out[1].line, "q1");
  out = o.flush();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].line, "q2");
}

TEST(StudiesSameTimeOrder, ATickStampedBeforeItsStreamsLastKeepsItsPlace) {
  // The record's last trade was stamped when it was sent (100); the first
  // live trade carries IB's earlier receive stamp (050): it stays after it,
  // and after the quote stamped 080, as in its stream.
  SameTimeOrder o;
  EXPECT_TRUE(o.push(stamped_event("2024-01-15T14:30:00.100Z", true), "T1").empty());
  EXPECT_TRUE(o.push(stamped_event("2024-01-15T14:30:00.080Z", false), "q1").empty());
  auto out = o.push(stamped_event("2024-01-15T14:30:00.050Z", true), "T2");
  ASSERT_EQ(out.size(), 1u); // ordered at 100: the quote at 080 is complete
  EXPECT_EQ(out[0].line, "q1");
  out = o.flush();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].line, "T1");
  EXPECT_EQ(out[1].line, "T2");
  EXPECT_EQ(out[1].event.timestamp, "2024-01-15T14:30:00.100Z");
}
