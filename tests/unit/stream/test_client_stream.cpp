// stream::ClientStream: the one per-client model of both transports, over
// a real stream::Log: reading [cursor, head) in order, exact limit
// accounting, the window (skip ahead, count, announce), the slow-consumer
// rule, a resume replay, the last event of each way a stream ends.
#include "stream/client_stream.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using stream::ClientStream;
using stream::EntryKind;
using Clock = std::chrono::steady_clock;

/// Writes each event as a short token, so a test reads the whole output:
/// T<seq>; tick, N<code>; notice, I<code>[<extra>]; info, E<code>; error,
/// C<reason>:<total>; complete.
class TokenEncoder : public ClientStream::Encoder {
public:
  void tick(std::string& out, const stream::LogEntry& e, stream::LogCursor&,
            std::uint64_t) override {
    out += "T" + std::to_string(e.seq) + ";";
  }
  void notice(std::string& out, const stream::LogEntry& e) override {
    out += "N" + std::string(e.code) + ";";
  }
  void info(std::string& out, std::string_view code, std::string_view,
            std::string_view extra) override {
    out += "I" + std::string(code) + (extra.empty() ? "" : "[" + std::string(extra) + "]") + ";";
  }
  void error(std::string& out, std::string_view code, std::string_view, std::string_view) override {
    out += "E" + std::string(code) + ";";
  }
  void complete(std::string& out, std::string_view reason, std::uint64_t total) override {
    out += "C" + std::string(reason) + ":" + std::to_string(total) + ";";
  }
};

struct Harness {
  explicit Harness(ClientStream::Options o = {}, stream::LogLimits limits = {})
      : log(std::make_shared<stream::Log>(0, limits)), cs(o, encoder) {}

  void ticks(int n) {
    for (int i = 0; i < n; ++i) log->append(EntryKind::tick, "sse", "ws");
    log->publish();
  }
  void notice(std::string_view code, EntryKind kind = EntryKind::info) {
    log->append(kind, "sse", "ws", code);
    log->publish();
  }
  /// Opens at the head (a new client), or as the Hub opens a resume.
  void start(std::optional<std::uint64_t> from = std::nullopt, std::uint64_t lost = 0,
             bool unknown = false) {
    stream::OpenResult r;
    r.log = log;
    r.counters = counters;
    r.live_from = log->head();
    r.start = from.value_or(log->head());
    r.seq_before_start = from ? *from : log->last_seq(); // ticks only: position == seq - 1
    r.lost = lost;
    r.resume_unknown = unknown;
    cs.start(r, out);
  }
  std::string read(std::size_t budget = 1 << 20, Clock::time_point now = Clock::now()) {
    cs.read(out, budget, now);
    return take();
  }
  std::string take() {
    auto s = std::move(out);
    out.clear();
    return s;
  }

  TokenEncoder encoder;
  std::shared_ptr<stream::Log> log;
  std::shared_ptr<stream::ClientCounters> counters = std::make_shared<stream::ClientCounters>();
  ClientStream cs;
  std::string out;
};

ClientStream::Options window(std::size_t w, std::optional<int> limit = std::nullopt) {
  ClientStream::Options o;
  o.window = w;
  o.limit = limit;
  o.slow_after = 5s;
  return o;
}

TEST(ClientStream, ReadsEverythingFromItsCursorToTheHeadInOrder) {
  Harness h;
  h.ticks(3);
  h.start();
  EXPECT_EQ(h.read(), "") << "a new client starts at the head";
  EXPECT_TRUE(h.cs.at_head());
  h.ticks(2);
  h.notice("stale");
  h.ticks(1);
  EXPECT_FALSE(h.cs.at_head());
  EXPECT_EQ(h.read(), "T4;T5;Nstale;T6;");
  EXPECT_EQ(h.cs.ticks_sent(), 3u);
  EXPECT_EQ(h.counters->ticks_sent.load(), 3u);
  EXPECT_TRUE(h.cs.at_head());
}

TEST(ClientStream, LimitCompletesAfterExactlyNTicks) {
  Harness h(window(100, 3));
  h.start();
  h.ticks(2);
  EXPECT_EQ(h.read(), "T1;T2;");
  EXPECT_FALSE(h.cs.finished());
  h.ticks(5);
  EXPECT_EQ(h.read(), "T3;Climit_reached:3;");
  EXPECT_TRUE(h.cs.finished());
  h.ticks(1);
  EXPECT_EQ(h.read(), "") << "nothing after the last event";
}

TEST(ClientStream, BudgetBoundsOneBatch) {
  Harness h;
  h.start();
  h.ticks(10);
  EXPECT_EQ(h.read(6), "T1;T2;") << "stops once the output holds the budget";
  EXPECT_EQ(h.read(), "T3;T4;T5;T6;T7;T8;T9;T10;");
}

TEST(ClientStream, BehindItsWindowItSkipsAheadCountsAndAnnounces) {
  Harness h(window(3, 5));
  h.start();
  h.ticks(10);
  const auto t0 = Clock::now();
  EXPECT_EQ(h.read(1 << 20, t0), "Iticks_lost[\"ticks_lost\":7];T8;T9;T10;");
  EXPECT_EQ(h.cs.dropped(), 7u);
  EXPECT_EQ(h.counters->dropped.load(), 7u);
  EXPECT_TRUE(h.cs.behind());
  // Skipped ticks never count towards the limit.
  h.ticks(3);
  EXPECT_EQ(h.read(1 << 20, t0), "T11;T12;Climit_reached:5;");
}

TEST(ClientStream, AClientThatStaysBehindIsSlowOneThatCatchesUpIsNot) {
  Harness h(window(2));
  h.start();
  h.ticks(5);
  const auto t0 = Clock::now();
  h.read(1 << 20, t0);
  EXPECT_TRUE(h.cs.behind());
  EXPECT_FALSE(h.cs.slow(t0 + 4s));
  EXPECT_TRUE(h.cs.slow(t0 + 5s));
  h.cs.caught_up(); // its socket took everything and it is at the head
  EXPECT_FALSE(h.cs.behind());
  EXPECT_FALSE(h.cs.slow(t0 + 60s));
}

TEST(ClientStream, SkipIfBehindWhileItsWriteWaits) {
  Harness h(window(4));
  h.start();
  h.ticks(3);
  h.cs.skip_if_behind(Clock::now());
  EXPECT_EQ(h.take(), "") << "within its window";
  h.ticks(7); // 10 unread now
  h.cs.skip_if_behind(Clock::now());
  EXPECT_EQ(h.cs.dropped(), 6u) << "counted at once";
  h.ticks(4); // 8 unread now: 4 more to skip
  h.cs.skip_if_behind(Clock::now());
  EXPECT_EQ(h.take(), "") << "announced with the next read";
  EXPECT_EQ(h.read(), "Iticks_lost[\"ticks_lost\":10];T11;T12;T13;T14;")
      << "one announcement per gap, right before the ticks after it";
}

TEST(ClientStream, AResumeReplayIsNotBoundedByTheWindowAndSkipsOldNotices) {
  Harness h(window(2));
  h.ticks(3);
  h.notice("reconnected");
  h.ticks(3); // positions 0..6: T1 T2 T3 N T4 T5 T6
  h.start(1); // resume after tick 1: position 1 (tick 2)
  h.notice("stale");
  h.ticks(1);
  EXPECT_EQ(h.read(), "T2;T3;T4;T5;T6;Nstale;T7;")
      << "the replay is whole; the notice of the replayed part is history";
  EXPECT_EQ(h.cs.dropped(), 0u);
}

TEST(ClientStream, TheResumeGapAndAnUnknownIdAreAnnouncedFirst) {
  Harness a;
  a.start(std::nullopt, 12);
  EXPECT_EQ(a.take(), "Iticks_lost[\"ticks_lost\":12];");
  Harness b;
  b.start(std::nullopt, 0, true);
  EXPECT_EQ(b.take(), "Iresume_unknown;");
}

TEST(ClientStream, ACursorBehindWhatTheLogHoldsSkipsToItsOldestEntry) {
  stream::LogLimits small;
  small.max_entries = 20;
  Harness h(window(1000), small);
  h.start(0);
  h.ticks(200);
  const auto tail = h.log->tail();
  ASSERT_GT(tail, 0u);
  const auto out = h.read();
  EXPECT_EQ(out.rfind("Iticks_lost[\"ticks_lost\":" + std::to_string(tail) + "];T" +
                          std::to_string(tail + 1) + ";",
                      0),
            0u)
      << out;
  EXPECT_EQ(h.cs.dropped(), tail);
  EXPECT_EQ(h.cs.ticks_sent(), 200u - tail);
}

TEST(ClientStream, EveryEndHasItsLastEvent) {
  Harness stopped;
  stopped.start();
  stopped.ticks(2);
  stopped.read();
  stopped.cs.finish(stopped.out, "stopped");
  EXPECT_EQ(stopped.take(), "Cstopped:2;");
  EXPECT_TRUE(stopped.cs.finished());
  stopped.cs.finish(stopped.out, "timeout");
  EXPECT_EQ(stopped.take(), "") << "one last event only";

  Harness failed;
  failed.start();
  failed.cs.fail(failed.out, "TWS_ERROR_10197", "m", "d");
  EXPECT_EQ(failed.take(), "ETWS_ERROR_10197;");
  EXPECT_FALSE(failed.cs.slow_consumer());

  Harness slow(window(2));
  slow.start();
  slow.ticks(10);
  slow.cs.end_slow(slow.out);
  EXPECT_EQ(slow.take(), "ESLOW_CONSUMER;");
  EXPECT_TRUE(slow.cs.slow_consumer());
  EXPECT_EQ(slow.cs.dropped(), 10u) << "what it will never read counts as dropped";
}

} // namespace
