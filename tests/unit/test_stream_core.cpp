// Building blocks of the streaming hub: SSE event framing (api.md §3), the
// resume ring behind Last-Event-ID, and the bounded per-client queue.
#include "stream/delivery_inbox.hpp"
#include "stream/frame_queue.hpp"
#include "stream/sequence_ring.hpp"
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

TEST(SequenceRing, NumbersFromOneAndReplaysWhatWasMissed) {
  stream::SequenceRing<int> ring(4);
  EXPECT_EQ(ring.last_seq(), 0u);
  EXPECT_EQ(ring.after(0).items.size(), 0u);
  for (int v = 10; v <= 12; ++v) ring.push(v); // seqs 1..3
  EXPECT_EQ(ring.last_seq(), 3u);
  auto r = ring.after(1);
  EXPECT_EQ(r.items, (std::vector<int>{11, 12}));
  EXPECT_EQ(r.first_seq, 2u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_FALSE(r.unknown_id);
  EXPECT_TRUE(ring.after(3).items.empty()); // up to date
}

TEST(SequenceRing, CountsEvictedEvents) {
  stream::SequenceRing<int> ring(3);
  for (int v = 1; v <= 10; ++v) ring.push(v); // holds seqs 8, 9, 10
  EXPECT_EQ(ring.first_seq(), 8u);
  auto r = ring.after(2); // missed 3..10; 3..7 are gone
  EXPECT_EQ(r.lost, 5u);
  EXPECT_EQ(r.items, (std::vector<int>{8, 9, 10}));
  EXPECT_EQ(r.first_seq, 8u);
  auto edge = ring.after(7); // exactly the oldest held is next: nothing lost
  EXPECT_EQ(edge.lost, 0u);
  EXPECT_EQ(edge.items.size(), 3u);
}

TEST(SequenceRing, IdFromTheFutureIsFlagged) {
  stream::SequenceRing<int> ring(3);
  ring.push(1);
  auto r = ring.after(99);
  EXPECT_TRUE(r.unknown_id);
  EXPECT_TRUE(r.items.empty());
}

stream::Frame frame(const std::string& s) { return std::make_shared<const std::string>(s); }

std::vector<std::string> drain(stream::FrameQueue& q) {
  std::vector<stream::Frame> out;
  q.take_all(out);
  std::vector<std::string> text;
  for (const auto& f : out) text.push_back(*f);
  return text;
}

TEST(FrameQueue, DropsOldestTickWhenFull) {
  stream::FrameQueue q(3, 10);
  EXPECT_EQ(q.push(frame("a")), stream::FrameQueue::Push::queued);
  EXPECT_EQ(q.push(frame("b")), stream::FrameQueue::Push::queued);
  EXPECT_EQ(q.push(frame("c")), stream::FrameQueue::Push::queued);
  EXPECT_EQ(q.push(frame("d")), stream::FrameQueue::Push::dropped_oldest);
  EXPECT_EQ(q.dropped(), 1u);
  EXPECT_EQ(q.bytes(), 3u);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(FrameQueue, ControlFramesAreNeverDropped) {
  stream::FrameQueue q(2, 10);
  q.push_control(frame("info"));
  (void)q.push(frame("t1"));
  (void)q.push(frame("t2"));
  (void)q.push(frame("t3"));
  q.push_control(frame("complete"));
  EXPECT_EQ(drain(q), (std::vector<std::string>{"info", "t2", "t3", "complete"}));
}

TEST(FrameQueue, SlowConsumerAfterAStreakOfDrops) {
  stream::FrameQueue q(2); // slow after ten queues' worth of drops
  (void)q.push(frame("1"));
  (void)q.push(frame("2"));
  for (int i = 0; i < 19; ++i)
    EXPECT_EQ(q.push(frame("x")), stream::FrameQueue::Push::dropped_oldest) << i;
  EXPECT_EQ(q.push(frame("4")), stream::FrameQueue::Push::slow_consumer);
  // Draining (a completed write) starts a new streak.
  drain(q);
  (void)q.push(frame("5"));
  (void)q.push(frame("6"));
  EXPECT_EQ(q.push(frame("7")), stream::FrameQueue::Push::dropped_oldest);
  EXPECT_EQ(q.dropped(), 21u);
}

} // namespace

TEST(DeliveryInbox, AsksForOneDrainPerBatchAndKeepsOrder) {
  stream::DeliveryInbox<int> inbox;
  EXPECT_TRUE(inbox.push(1));  // the first push posts a drain
  EXPECT_FALSE(inbox.push(2)); // one is pending: no second post
  EXPECT_FALSE(inbox.push(3));
  std::vector<int> out{42};
  inbox.take(out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(inbox.push(4)); // after a drain took the batch, the next push posts again
  inbox.take(out);
  EXPECT_EQ(out, (std::vector<int>{4}));
  inbox.take(out);
  EXPECT_TRUE(out.empty());
}
