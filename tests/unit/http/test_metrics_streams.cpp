// What GET /metrics reads of a stream (README "Metrics"): a subscription's
// StreamTotals add up every client stream it had (sent, dropped,
// slow-consumer ends), and ClientStream hands its session the receive time
// of the oldest live tick it read (the delivery latency), over a real Log.
#include "http/metrics_registry.hpp"
#include "stream/client_stream.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using stream::ClientStream;
using stream::EntryKind;
using Clock = std::chrono::steady_clock;

class NullEncoder : public ClientStream::Encoder {
public:
  void tick(std::string& out, const stream::LogEntry&, stream::LogCursor&, std::uint64_t) override {
    out += "t";
  }
  void notice(std::string& out, const stream::LogEntry&) override { out += "n"; }
  void info(std::string& out, std::string_view, std::string_view, std::string_view) override {
    out += "i";
  }
  void error(std::string& out, std::string_view, std::string_view, std::string_view) override {
    out += "e";
  }
  void complete(std::string& out, std::string_view, std::uint64_t) override { out += "c"; }
};

struct Client {
  Client(const std::shared_ptr<stream::Log>& log, const std::shared_ptr<stream::StreamTotals>& t,
         ClientStream::Options o = {})
      : cs(o, encoder) {
    counters->stream = t;
    stream::OpenResult r;
    r.log = log;
    r.counters = counters;
    r.start = r.live_from = log->head();
    r.seq_before_start = log->last_seq();
    cs.start(r, out);
  }
  NullEncoder encoder;
  std::shared_ptr<stream::ClientCounters> counters = std::make_shared<stream::ClientCounters>();
  ClientStream cs;
  std::string out;
};

void ticks(stream::Log& log, int n, std::int64_t received_ns = 0) {
  for (int i = 0; i < n; ++i)
    log.append(EntryKind::tick, "sse", "ws", {}, {}, received_ns ? received_ns + i : 0);
  log.publish();
}

TEST(MetricsStreams, TotalsAddUpEveryClientEndedOnesIncluded) {
  auto log = std::make_shared<stream::Log>(0, stream::LogLimits{1000, 1 << 20});
  auto totals = std::make_shared<stream::StreamTotals>();
  {
    Client a(log, totals);
    Client b(log, totals);
    ticks(*log, 5);
    a.cs.read(a.out, 1 << 20, Clock::now());
    b.cs.read(b.out, 1 << 20, Clock::now());
    EXPECT_EQ(totals->ticks_sent, 10u);
  } // both ended: the totals stay
  Client c(log, totals, ClientStream::Options{std::nullopt, 2, 1000ms});
  ticks(*log, 10);
  const auto t0 = Clock::now();
  c.cs.read(c.out, 1 << 20, t0); // 8 skipped (window 2), 2 sent
  EXPECT_EQ(totals->ticks_sent, 12u);
  EXPECT_EQ(totals->dropped, 8u);
  EXPECT_EQ(c.counters->ticks_sent, 2u);
  EXPECT_EQ(totals->slow_consumer_ends, 0u);
  c.cs.end_slow(c.out);
  c.cs.end_slow(c.out); // the end counts once
  EXPECT_EQ(totals->slow_consumer_ends, 1u);
}

TEST(MetricsStreams, TheRecordersCountersFeedNoTotals) {
  // A client without totals (the Hub gives none to the recorder) counts
  // only for itself.
  auto log = std::make_shared<stream::Log>(0, stream::LogLimits{});
  Client r(log, nullptr);
  ticks(*log, 3);
  r.cs.read(r.out, 1 << 20, Clock::now());
  EXPECT_EQ(r.counters->ticks_sent, 3u);
}

TEST(MetricsStreams, OldestReceivedLiveTickOfAReadIsTakenOnce) {
  auto log = std::make_shared<stream::Log>(0, stream::LogLimits{});
  auto totals = std::make_shared<stream::StreamTotals>();
  Client c(log, totals);
  EXPECT_EQ(c.cs.take_oldest_received(), 0);
  log->append(EntryKind::info, "sse", "ws", "stale"); // a notice has no receive time
  log->publish();
  ticks(*log, 3, 1000); // received at 1000, 1001, 1002
  c.cs.read(c.out, 1 << 20, Clock::now());
  EXPECT_EQ(c.cs.take_oldest_received(), 1000);
  EXPECT_EQ(c.cs.take_oldest_received(), 0);
  ticks(*log, 2, 5000);
  stream::SseBatch batch;
  c.cs.read_sse(batch, 1 << 20, Clock::now());
  EXPECT_EQ(c.cs.take_oldest_received(), 5000);
}

TEST(MetricsStreams, ObserveDeliveryMeasuresFromReceipt) {
  auto& h = http::server_metrics().delivery_latency;
  const auto before = h.snapshot();
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  http::observe_delivery(now_ns - 3'000'000); // received 3 ms ago
  http::observe_delivery(0);                  // no live tick: nothing observed
  const auto after = h.snapshot();
  EXPECT_EQ(after.count(), before.count() + 1);
  EXPECT_GE(after.sum_seconds - before.sum_seconds, 0.003);
  // Not in the buckets up to 2.5 ms, in the one of 5 ms.
  const auto bucket = [&](const http::Histogram::Snapshot& s, double le) {
    for (std::size_t i = 0; i < s.bounds.size(); ++i)
      if (s.bounds[i] == le) return s.counts[i];
    return std::uint64_t{0};
  };
  EXPECT_EQ(bucket(after, 0.0025), bucket(before, 0.0025));
  EXPECT_EQ(bucket(after, 0.005), bucket(before, 0.005) + 1);
}

} // namespace
