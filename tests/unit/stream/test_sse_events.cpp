// The events of a stream (api.md §3) and their Server-Sent Events framing.
#include "stream/sse_events.hpp"

#include <gtest/gtest.h>

namespace {

stream::ContractInfo aapl() {
  tws::ContractDetails d;
  d.contract.con_id = 265598;
  d.contract.symbol = "AAPL";
  d.contract.sec_type = "STK";
  d.contract.exchange = "SMART";
  d.contract.primary_exchange = "NASDAQ";
  d.contract.currency = "USD";
  d.contract.local_symbol = "AAPL";
  d.contract.trading_class = "NMS";
  d.min_tick = 0.01;
  return stream::ContractInfo::from(d);
}

TEST(SseEvents, TickEventAndFrame) {
  const std::string json = stream::tick_event_json(265598, "2025-01-15T10:30:00.123Z",
                                                   R"({"type":"midpoint","midpoint":175.255})");
  EXPECT_EQ(json, R"({"type":"tick","contract_id":265598,"timestamp":"2025-01-15T10:30:00.123Z",)"
                  R"("data":{"type":"midpoint","midpoint":175.255}})");
  EXPECT_EQ(stream::sse_frame(42, json), "id: 42\ndata: " + json + "\n\n");
  EXPECT_EQ(stream::sse_frame(std::nullopt, "{}"), "data: {}\n\n");
}

TEST(SseEvents, InfoCarriesContractDetails) {
  EXPECT_EQ(
      stream::info_event_json(265598, "2025-01-15T10:30:00.000Z", "Stream started",
                              tws::TickType::bid_ask, "265598_BidAsk", aapl()),
      R"({"type":"info","contract_id":265598,"timestamp":"2025-01-15T10:30:00.000Z",)"
      R"("info":{"message":"Stream started","tick_type":"BidAsk","stream_id":"265598_BidAsk",)"
      R"("contract":{"symbol":"AAPL","sec_type":"STK","exchange":"SMART",)"
      R"("primary_exchange":"NASDAQ","currency":"USD","local_symbol":"AAPL",)"
      R"("trading_class":"NMS","min_tick":0.01}}})");
  const std::string gap = stream::info_event_json(1, "t", "gap", tws::TickType::last, "s", aapl(),
                                                  R"("ticks_lost":12)");
  EXPECT_NE(gap.find(R"("min_tick":0.01},"ticks_lost":12}})"), std::string::npos) << gap;
}

TEST(SseEvents, ErrorAndComplete) {
  EXPECT_EQ(stream::error_event_json(265598, "t", "TWS_DISCONNECTED", "Connection to TWS lost",
                                     "Reconnecting \"soon\""),
            R"({"type":"error","contract_id":265598,"timestamp":"t","error":{"code":)"
            R"("TWS_DISCONNECTED","message":"Connection to TWS lost","details":)"
            R"("Reconnecting \"soon\""}})");
  EXPECT_EQ(stream::complete_event_json(265598, "t", "limit_reached", 100),
            R"({"type":"complete","contract_id":265598,"timestamp":"t","reason":"limit_reached",)"
            R"("total_ticks":100})");
  EXPECT_EQ(stream::sse_retry(3000), "retry: 3000\n\n");
  EXPECT_EQ(stream::sse_keepalive(), ": keepalive\n\n");
}

} // namespace
