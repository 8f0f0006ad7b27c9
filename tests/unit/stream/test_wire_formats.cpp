// The wire formats of a stream's events, encoded once per tick or notice by
// the Hub (wire_formats.hpp): byte for byte what a client receives, SSE and
// WebSocket (the per-client prefix plus the shared suffix make exactly the
// message ws/ws_messages.hpp would build for that one client).
#include "stream/sse_events.hpp"
#include "stream/wire_formats.hpp"
#include "ws/ws_messages.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace {

constexpr std::string_view kIso = "2025-01-15T10:30:00.123Z";
constexpr std::string_view kData = R"({"type":"midpoint","timestamp":"2025-01-15 10:30:00",)"
                                   R"("unix_time":1736937000,"midpoint":175.255})";

stream::TickParts tick() { return {7, 265598, tws::TickType::mid_point, kIso, kData}; }

TEST(WireFormats, SseTickIsTheFramedTickEvent) {
  std::string out;
  stream::append_sse_tick(out, tick());
  EXPECT_EQ(out, stream::sse_frame(7, stream::tick_event_json(265598, kIso, kData)));
  EXPECT_EQ(out.rfind("id: 7\ndata: {\"type\":\"tick\",", 0), 0u);
}

// An edge rebuilds a tick's frames from the suffix the publisher sent: the
// parser gives back exactly the time and data the suffix was made of.
TEST(WireFormats, TickSuffixParsesBackToItsParts) {
  std::string suffix;
  stream::append_ws_tick_suffix(suffix, tick());
  const auto parts = stream::parse_ws_tick_suffix(suffix);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->first, kIso);
  EXPECT_EQ(parts->second, kData);
  std::string again;
  stream::append_ws_tick_suffix(again,
                                {7, 265598, tws::TickType::mid_point, parts->first, parts->second});
  EXPECT_EQ(again, suffix);
  for (const std::string_view bad :
       {"", "{}", R"("contract_id":1,"tick_type":"Last")", R"("contract_id":1,"data":{}})",
        R"("contract_id":1,"tick_type":"Last","timestamp":"x","data":}})",
        R"("contract_id":1,"tick_type":"Last","timestamp":"x","data":)",
        R"(x"contract_id":1,"tick_type":"Last","timestamp":"x","data":{}})"})
    EXPECT_FALSE(stream::parse_ws_tick_suffix(bad)) << bad;
}

TEST(WireFormats, WebSocketTickIsAPerClientPrefixPlusTheSharedSuffix) {
  std::string suffix;
  stream::append_ws_tick_suffix(suffix, tick());
  EXPECT_EQ(suffix, R"("contract_id":265598,"tick_type":"MidPoint","timestamp":")" +
                        std::string(kIso) + R"(","data":)" + std::string(kData) + "}");
  for (const std::string rid : {"req-1", "req-12345", "ünïcode \"quoted\""}) {
    std::string msg;
    stream::append_ws_prefix(msg, "tick", rid);
    msg += suffix;
    const auto v = boost::json::parse(msg).as_object();
    EXPECT_EQ(v.at("type").as_string(), "tick");
    EXPECT_EQ(v.at("request_id").as_string(), rid);
    EXPECT_EQ(v.at("contract_id").as_int64(), 265598);
    EXPECT_EQ(v.at("tick_type").as_string(), "MidPoint");
    EXPECT_EQ(v.at("data").at("midpoint").as_double(), 175.255);
    EXPECT_EQ(msg.rfind(R"({"type":"tick","request_id":)", 0), 0u) << "type first, then request_id";
  }
}

stream::NoticeParts notice(bool error, std::string_view details, const stream::ContractInfo& c) {
  stream::NoticeParts n;
  n.error = error;
  n.code = error ? "TWS_DISCONNECTED" : "reconnected";
  n.message = "TWS lost \"it\"";
  n.details = details;
  n.con_id = 265598;
  n.tick_type = tws::TickType::bid_ask;
  n.stream_key = "265598:BidAsk";
  n.contract = &c;
  n.iso_time = kIso;
  return n;
}

TEST(WireFormats, NoticesAreTheEventsEveryClientOfTheStreamGets) {
  stream::ContractInfo c;
  c.symbol = "AAPL";
  c.min_tick = 0.01;
  // SSE: an info event with the stream's contract and the code, or an error event.
  std::string sse;
  stream::append_sse_notice(sse, notice(false, "", c));
  EXPECT_EQ(sse, stream::sse_frame(std::nullopt,
                                   stream::info_event_json(265598, kIso, "TWS lost \"it\"",
                                                           tws::TickType::bid_ask, "265598:BidAsk",
                                                           c, R"("code":"reconnected")")));
  sse.clear();
  stream::append_sse_notice(sse, notice(true, "wait", c));
  EXPECT_EQ(sse, stream::sse_frame(std::nullopt,
                                   stream::error_event_json(265598, kIso, "TWS_DISCONNECTED",
                                                            "TWS lost \"it\"", "wait")));
  // WebSocket: prefix + suffix is the message of ws_messages for that client.
  for (const bool error : {false, true}) {
    for (const std::string_view details : {std::string_view(), std::string_view("what to do")}) {
      std::string msg;
      stream::append_ws_prefix(msg, error ? "error" : "info", "req-3");
      stream::append_ws_notice_suffix(msg, notice(error, details, c));
      const std::string want =
          error
              ? ws::error_message(kIso, {std::nullopt, std::string("req-3")}, "TWS_DISCONNECTED",
                                  "TWS lost \"it\"", details)
              : ws::info_message(kIso, "req-3", "reconnected", "TWS lost \"it\"",
                                 details.empty() ? std::string()
                                                 : R"("details":")" + std::string(details) + "\"");
      EXPECT_EQ(msg, want);
    }
  }
}

} // namespace
