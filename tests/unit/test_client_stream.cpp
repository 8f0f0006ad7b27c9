// stream::ClientStream: the per-client logic shared by the transports:
// event order, exact limit accounting, drop-oldest, SLOW_CONSUMER, the last
// event of each way a stream ends.
#include "stream/client_stream.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace {

using stream::ClientStream;
using stream::Frame;

stream::TickEventPtr make_tick(std::uint64_t seq) {
  auto t = std::make_shared<stream::TickEvent>();
  t->seq = seq;
  t->con_id = 265598;
  t->tick_type = tws::TickType::bid_ask;
  t->data_json = "{\"type\":\"bid_ask\"}";
  t->sse = std::make_shared<const std::string>(stream::sse_frame(
      seq, stream::tick_event_json(265598, "2025-01-15T10:30:00.123Z", t->data_json)));
  return t;
}

stream::OpenResult opened(std::vector<stream::TickEventPtr> replay = {}, std::uint64_t lost = 0,
                          bool unknown = false) {
  stream::OpenResult r;
  r.stream_id = 7;
  r.contract.con_id = 265598;
  r.contract.symbol = "AAPL";
  r.stream_key = "265598:BidAsk";
  r.replay = std::move(replay);
  r.lost = lost;
  r.resume_unknown = unknown;
  r.counters = std::make_shared<stream::ClientCounters>();
  return r;
}

struct Harness {
  explicit Harness(std::optional<int> limit, std::size_t capacity = 100, std::size_t slow_after = 0)
      : counters(std::make_shared<stream::ClientCounters>()),
        cs({265598, tws::TickType::bid_ask, limit, capacity, slow_after},
           stream::sse_frame_format(), counters) {}

  /// Everything written so far, as parsed `data:` JSON objects (ticks keep
  /// their `id:` in `ids`).
  std::vector<boost::json::object> drain() {
    std::vector<Frame> frames;
    cs.take(frames);
    std::vector<boost::json::object> out;
    for (const auto& f : frames) {
      const std::string& s = *f;
      const auto data = s.find("data: ");
      if (data == std::string::npos) {
        raw.push_back(s);
        continue;
      }
      if (s.rfind("id: ", 0) == 0) ids.push_back(std::stoull(s.substr(4)));
      out.push_back(boost::json::parse(s.substr(data + 6)).as_object());
    }
    return out;
  }

  std::shared_ptr<stream::ClientCounters> counters;
  ClientStream cs;
  std::vector<std::uint64_t> ids;
  std::vector<std::string> raw;
};

std::string type_of(const boost::json::object& o) { return std::string(o.at("type").as_string()); }

TEST(ClientStream, StartsWithInfoThenTicks) {
  Harness h(std::nullopt);
  h.cs.push_control(std::make_shared<const std::string>("retry: 3000\n\n"));
  h.cs.start(opened());
  h.cs.on_tick(make_tick(1));
  h.cs.on_tick(make_tick(2));
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(h.raw, std::vector<std::string>{"retry: 3000\n\n"});
  EXPECT_EQ(type_of(ev[0]), "info");
  EXPECT_EQ(ev[0].at("info").at("message"), "stream started");
  EXPECT_EQ(ev[0].at("info").at("stream_id"), "265598:BidAsk");
  EXPECT_EQ(ev[0].at("info").at("tick_type"), "BidAsk");
  EXPECT_EQ(ev[0].at("info").at("contract").at("symbol"), "AAPL");
  EXPECT_EQ(type_of(ev[1]), "tick");
  EXPECT_EQ(h.ids, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(h.cs.ticks_sent(), 2u);
  EXPECT_EQ(h.counters->ticks_sent, 2u);
  EXPECT_FALSE(h.cs.finished());
}

TEST(ClientStream, LimitCompletesAfterExactlyNTicks) {
  Harness h(3);
  h.cs.start(opened());
  for (std::uint64_t i = 1; i <= 5; ++i) h.cs.on_tick(make_tick(i));
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 5u); // info, 3 ticks, complete
  EXPECT_EQ(type_of(ev[4]), "complete");
  EXPECT_EQ(ev[4].at("reason"), "limit_reached");
  EXPECT_EQ(ev[4].at("total_ticks"), 3);
  EXPECT_TRUE(h.cs.finished());
  h.cs.on_tick(make_tick(6));
  h.cs.on_timeout();
  EXPECT_FALSE(h.cs.has_frames());
}

TEST(ClientStream, DroppedTicksDoNotCountTowardsTheLimit) {
  Harness h(5, 2, 100);
  h.cs.start(opened());
  h.drain();
  // Four ticks into a queue of two: 1 and 2 are dropped, 3 and 4 stay.
  for (std::uint64_t i = 1; i <= 4; ++i) h.cs.on_tick(make_tick(i));
  EXPECT_EQ(h.cs.dropped(), 2u);
  EXPECT_EQ(h.counters->dropped, 2u);
  h.drain();
  EXPECT_EQ(h.ids, (std::vector<std::uint64_t>{3, 4}));
  // 2 sent; 5..9 into the queue of two: 8 and 9 stay, total 4 < 5.
  for (std::uint64_t i = 5; i <= 9; ++i) h.cs.on_tick(make_tick(i));
  EXPECT_FALSE(h.cs.finished());
  h.drain();
  h.cs.on_tick(make_tick(10)); // the fifth tick written
  EXPECT_TRUE(h.cs.finished());
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(type_of(ev.back()), "complete");
  EXPECT_EQ(ev.back().at("total_ticks"), 5);
  EXPECT_EQ(h.ids, (std::vector<std::uint64_t>{3, 4, 8, 9, 10}));
  EXPECT_EQ(h.cs.ticks_sent(), 5u);
  EXPECT_EQ(h.counters->ticks_sent, 5u);
  EXPECT_EQ(h.counters->dropped, 5u);
}

TEST(ClientStream, SlowConsumerEndsWithError) {
  Harness h(std::nullopt, 3);
  h.cs.start(opened());
  // A burst of drops is tolerated; ten queues' worth without a write is not.
  for (std::uint64_t i = 1; i <= 32; ++i) h.cs.on_tick(make_tick(i));
  EXPECT_FALSE(h.cs.slow_consumer());
  h.cs.on_tick(make_tick(33));
  EXPECT_TRUE(h.cs.slow_consumer());
  EXPECT_TRUE(h.cs.finished());
  auto ev = h.drain();
  EXPECT_EQ(type_of(ev.back()), "error");
  EXPECT_EQ(ev.back().at("error").at("code"), "SLOW_CONSUMER");
}

TEST(ClientStream, LostInfoThenReplayThenLive) {
  Harness h(std::nullopt, 2);
  // A replay larger than the queue is never dropped.
  h.cs.start(opened({make_tick(4), make_tick(5), make_tick(6)}, 3));
  h.cs.on_tick(make_tick(7));
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(h.ids, (std::vector<std::uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(type_of(ev[1]), "info");
  EXPECT_EQ(ev[1].at("info").at("code"), "ticks_lost");
  EXPECT_EQ(ev[1].at("info").at("ticks_lost"), 3);
  EXPECT_EQ(type_of(ev[2]), "tick");
  EXPECT_EQ(h.cs.dropped(), 0u);
}

TEST(ClientStream, ReplayRespectsTheLimit) {
  Harness h(2);
  h.cs.start(opened({make_tick(4), make_tick(5), make_tick(6)}));
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(type_of(ev[3]), "complete");
  EXPECT_EQ(ev[3].at("total_ticks"), 2);
}

TEST(ClientStream, UnknownResumeIdSaysSo) {
  Harness h(std::nullopt);
  h.cs.start(opened({}, 0, true));
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].at("info").at("code"), "resume_unknown");
}

TEST(ClientStream, TicksBeforeStartAreHeld) {
  Harness h(std::nullopt);
  h.cs.on_tick(make_tick(1));
  EXPECT_FALSE(h.cs.has_frames());
  h.cs.start(opened());
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(type_of(ev[1]), "tick");
}

TEST(ClientStream, NoticesBecomeInfoOrError) {
  Harness h(std::nullopt);
  h.cs.start(opened());
  h.cs.on_notice({stream::Notice::Kind::info, "reconnected", "TWS is back", ""});
  h.cs.on_notice({stream::Notice::Kind::error, "TWS_DISCONNECTED", "lost", "retrying"});
  auto ev = h.drain();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].at("info").at("code"), "reconnected");
  EXPECT_EQ(ev[1].at("info").at("message"), "TWS is back");
  EXPECT_EQ(ev[2].at("error").at("code"), "TWS_DISCONNECTED");
  EXPECT_EQ(ev[2].at("error").at("details"), "retrying");
  EXPECT_FALSE(h.cs.finished());
}

TEST(ClientStream, EveryEndHasItsLastEvent) {
  struct Case {
    stream::EndReason reason;
    std::string type, detail;
  };
  for (const auto& c : {Case{stream::EndReason::stopped, "complete", "stopped"},
                        Case{stream::EndReason::shutdown, "complete", "shutdown"},
                        Case{stream::EndReason::failed, "error", "TWS_ERROR_10197"}}) {
    Harness h(std::nullopt);
    h.cs.start(opened());
    h.cs.on_tick(make_tick(1));
    std::optional<stream::Notice> why;
    if (c.reason == stream::EndReason::failed)
      why = stream::Notice{stream::Notice::Kind::error, "TWS_ERROR_10197", "no data", ""};
    h.cs.on_end(c.reason, why);
    EXPECT_TRUE(h.cs.finished());
    auto ev = h.drain();
    ASSERT_EQ(type_of(ev.back()), c.type);
    if (c.type == "complete") {
      EXPECT_EQ(ev.back().at("reason"), c.detail.c_str());
      EXPECT_EQ(ev.back().at("total_ticks"), 1);
    } else {
      EXPECT_EQ(ev.back().at("error").at("code"), c.detail.c_str());
    }
  }
  Harness h(std::nullopt);
  h.cs.start(opened());
  h.cs.on_timeout();
  auto ev = h.drain();
  EXPECT_EQ(ev.back().at("reason"), "timeout");
}

TEST(ClientStream, KeepaliveIsAControlFrame) {
  Harness h(std::nullopt, 1);
  h.cs.start(opened());
  h.cs.on_idle(std::make_shared<const std::string>(": keepalive\n\n"));
  h.drain();
  EXPECT_EQ(h.raw, std::vector<std::string>{": keepalive\n\n"});
}

} // namespace
