// stream::Log: one stream's events, appended once, read by cursors:
// publication, sequence numbers, chunks, the memory window (entries and
// bytes), resume points, the deflated form built once, reader groups woken
// at most once per hop, and a writer racing readers on other threads.
#include "stream/log.hpp"
#include "stream/ws_deflate.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace {

namespace asio = boost::asio;
using stream::EntryKind;
using stream::Log;
using stream::LogCursor;

std::shared_ptr<Log> make_log(std::size_t max_entries = 1000, std::size_t max_bytes = 16 << 20,
                              std::uint64_t seq_base = 0) {
  return std::make_shared<Log>(seq_base, stream::LogLimits{max_entries, max_bytes});
}

void ticks(Log& log, int n, std::string_view body = "t") {
  for (int i = 0; i < n; ++i) log.append(EntryKind::tick, body, body);
  log.publish();
}

TEST(Log, EntriesAreVisibleOncePublishedWithTheirBytesAndNumbers) {
  auto log = make_log(1000, 16 << 20, 41);
  LogCursor c(log, 0);
  log->append(EntryKind::tick, "sse-a", "ws-a");
  EXPECT_EQ(log->head(), 0u);
  EXPECT_EQ(c.get(), nullptr) << "not before publish()";
  log->append(EntryKind::error, "sse-n", "ws-n", "TWS_DISCONNECTED");
  log->append(EntryKind::tick, "sse-b", "ws-b");
  log->publish();
  EXPECT_EQ(log->head(), 3u);
  const auto* e = c.get();
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->is_tick());
  EXPECT_EQ(e->seq, 42u) << "sequence numbers go on from seq_base";
  EXPECT_EQ(e->sse, "sse-a");
  EXPECT_EQ(e->ws, "ws-a");
  c.advance();
  e = c.get();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, EntryKind::error);
  EXPECT_EQ(e->seq, 42u) << "a notice carries the last tick's number";
  EXPECT_EQ(e->code, "TWS_DISCONNECTED");
  c.advance();
  EXPECT_EQ(c.get()->seq, 43u);
  c.advance();
  EXPECT_EQ(c.get(), nullptr) << "at the head";
  EXPECT_EQ(log->last_seq(), 43u);
  EXPECT_EQ(log->next_seq(), 44u);
}

TEST(Log, ACursorReadsAcrossChunksAndEntriesLargerThanAChunk) {
  auto log = make_log(64); // 16 entries per chunk
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 50; ++i) log->append(EntryKind::tick, i == 20 ? big : "s", "w");
  log->publish();
  LogCursor c(log, 0);
  for (std::uint64_t seq = 1; seq <= 50; ++seq) {
    const auto* e = c.get();
    ASSERT_NE(e, nullptr) << seq;
    EXPECT_EQ(e->seq, seq);
    EXPECT_EQ(e->sse.size(), seq == 21 ? big.size() : 1u);
    c.advance();
  }
  EXPECT_EQ(c.get(), nullptr);
}

TEST(Log, HoldsAtLeastItsWindowAndForgetsOlderEntriesByWholeChunks) {
  auto log = make_log(100); // 25 entries per chunk
  LogCursor old(log, 0);
  ticks(*log, 1000);
  EXPECT_GE(log->head() - log->tail(), 100u);
  EXPECT_LT(log->head() - log->tail(), 100u + 25u);
  EXPECT_EQ(log->tail() % 25, 0u) << "whole chunks";
  EXPECT_EQ(old.get(), nullptr) << "entry 0 is gone";
  old.seek(log->tail());
  ASSERT_NE(old.get(), nullptr);
  EXPECT_EQ(old.get()->seq, log->tail() + 1);
}

TEST(Log, TheByteBoundWinsOverTheEntryCount) {
  auto log = make_log(100000, 64 * 1024); // 16 KiB chunks
  const std::string kb(1000, 'b');
  ticks(*log, 1000, kb); // ~2 MB written
  EXPECT_LE(log->bytes_held(), 64u * 1024 + 16 * 1024 + 2 * kb.size());
  EXPECT_LT(log->head() - log->tail(), 100u);
}

TEST(Log, ResumePointsAfterALastSeenTick) {
  auto log = make_log(100, 16 << 20, 1000); // ticks 1001...
  ticks(*log, 10);
  log->append(EntryKind::info, "n", "n", "reconnected"); // position 10
  ticks(*log, 10);                                       // 1011..1020 at 11..20
  auto r = log->resume_after(1005);
  EXPECT_EQ(r.position, 5u);
  EXPECT_EQ(r.seq_before, 1005u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_FALSE(r.unknown);
  r = log->resume_after(1010); // the tick after it comes after the notice
  EXPECT_EQ(r.position, 11u);
  EXPECT_EQ(r.seq_before, 1010u);
  r = log->resume_after(1020); // nothing missed
  EXPECT_EQ(r.position, log->head());
  EXPECT_EQ(r.lost, 0u);
  r = log->resume_after(5000);
  EXPECT_TRUE(r.unknown);
  EXPECT_EQ(r.position, log->head());
  // Older than what is held: the loss is counted.
  ticks(*log, 500);
  const auto first_held = log->tail() + 1000; // positions past 10 are one behind the seq
  r = log->resume_after(1002);
  EXPECT_EQ(r.position, log->tail());
  EXPECT_EQ(r.lost, first_held - 1003) << "ticks 1003.." << first_held - 1;
}

TEST(Log, TheDeflatedFormIsBuiltOnceForEveryConsumer) {
  auto log = make_log();
  const std::string suffix = R"("contract_id":265598,"tick_type":"BidAsk","data":{"bid_price":1}})";
  for (int i = 0; i < 5; ++i) log->append(EntryKind::tick, "sse", suffix);
  log->append(EntryKind::info, "sse", "notice", "stale");
  log->publish();
  LogCursor a(log, 0), b(log, 0);
  const auto da = a.deflated(log->head());
  const auto db = b.deflated(log->head());
  EXPECT_FALSE(da.empty());
  EXPECT_EQ(da.data(), db.data()) << "the same bytes, not a second deflate";
  EXPECT_EQ(std::string(da), stream::deflate_message_part(suffix));
  a.seek(5);
  EXPECT_TRUE(a.deflated(log->head()).empty()) << "a notice has no deflated form";
}

/// A consumer that counts its calls and reads its cursor to the head.
struct Counter : stream::LogConsumer {
  explicit Counter(std::shared_ptr<Log> log) : cursor(std::move(log), 0) {}
  void on_log_advanced() override {
    ++calls;
    while (cursor.get()) cursor.advance();
  }
  LogCursor cursor;
  int calls = 0;
};

TEST(ReaderGroup, OneWakeUpPerHopWhateverThePublishes) {
  asio::io_context loop;
  auto log = make_log();
  auto group = log->readers(loop);
  EXPECT_EQ(log->readers(loop), group) << "one group per loop";
  Counter a(log), b(log);
  group->add(&a);
  group->add(&b);
  for (int i = 0; i < 100; ++i) ticks(*log, 1);
  EXPECT_EQ(loop.poll(), 1u) << "100 publishes, one hop";
  loop.restart();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(a.cursor.position(), 100u);
  ticks(*log, 1);
  group->remove(&a);
  EXPECT_EQ(loop.poll(), 1u);
  loop.restart();
  EXPECT_EQ(a.calls, 1) << "removed";
  EXPECT_EQ(b.calls, 2);
  group->remove(&b);
  ticks(*log, 1);
  EXPECT_EQ(loop.poll(), 0u) << "an empty group is not woken";
}

TEST(ReaderGroup, AConsumerMayRemoveItselfAndOthersWhileCalled) {
  asio::io_context loop;
  auto log = make_log();
  auto group = log->readers(loop);
  struct Leaver : stream::LogConsumer {
    stream::ReaderGroup* g = nullptr;
    stream::LogConsumer* other = nullptr;
    int calls = 0;
    void on_log_advanced() override {
      ++calls;
      g->remove(this);
      if (other) g->remove(other);
    }
  } first;
  Counter second(log);
  first.g = group.get();
  first.other = &second;
  group->add(&first);
  group->add(&second);
  ticks(*log, 1);
  loop.poll();
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(second.calls, 0) << "removed before its turn";
  EXPECT_EQ(group->size(), 0u);
}

TEST(Log, AWriterRacesReadersOnOtherThreads) {
  // One writer (the Hub's thread), two loops with a reader each: every
  // reader sees strictly increasing sequence numbers, and misses ticks only
  // where it fell behind the window (then it skips to the tail).
  auto log = make_log(256);
  struct Loop {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
  };
  Loop loops[2];
  struct Reader : stream::LogConsumer {
    explicit Reader(std::shared_ptr<Log> l) : cursor(std::move(l), 0) {}
    void on_log_advanced() override {
      for (;;) {
        const auto* e = cursor.get();
        if (!e) {
          if (cursor.position() >= cursor.log()->head()) return;
          cursor.seek(cursor.log()->tail()); // fell behind: skip
          ++skips;
          continue;
        }
        // Ticks go up by one; a notice repeats the last tick's number.
        if (e->seq < last || (e->is_tick() && e->seq == last)) ordered = false;
        last = e->seq;
        ++read;
        cursor.advance();
      }
    }
    LogCursor cursor;
    std::uint64_t last = 0, read = 0, skips = 0;
    bool ordered = true;
  };
  Reader r0(log), r1(log);
  std::promise<void> added1;
  auto g0 = log->readers(loops[0].ioc); // the writer's call
  auto g1 = log->readers(loops[1].ioc);
  asio::post(loops[0].ioc, [&] { g0->add(&r0); });
  asio::post(loops[1].ioc, [&] {
    g1->add(&r1);
    added1.set_value();
  });
  added1.get_future().wait();
  constexpr int kTicks = 200000;
  for (int i = 0; i < kTicks; ++i) {
    log->append(i % 1000 == 999 ? EntryKind::info : EntryKind::tick, "sse-bytes", "ws-bytes");
    if (i % 7 == 0) log->publish();
  }
  log->publish();
  std::promise<void> done0, done1;
  asio::post(loops[0].ioc, [&] {
    r0.on_log_advanced();
    g0->remove(&r0);
    done0.set_value();
  });
  asio::post(loops[1].ioc, [&] {
    r1.on_log_advanced();
    g1->remove(&r1);
    done1.set_value();
  });
  done0.get_future().wait();
  done1.get_future().wait();
  for (auto& l : loops) {
    l.work.reset();
    l.thread.join();
  }
  for (const Reader* r : {&r0, &r1}) {
    EXPECT_TRUE(r->ordered);
    EXPECT_EQ(r->cursor.position(), log->head());
    EXPECT_EQ(r->last, log->last_seq());
    if (r->skips == 0) {
      EXPECT_EQ(r->read, static_cast<std::uint64_t>(kTicks));
    }
  }
}

} // namespace

namespace {

TEST(Log, ARecorderRaisesTheWindowAndFindsWhereTheRecordEnds) {
  auto log = make_log(100);
  ticks(*log, 1000);
  EXPECT_LT(log->head() - log->tail(), 200u) << "the client window";
  log->raise_limits(stream::LogLimits{5000, 16 << 20});
  ticks(*log, 4000);
  EXPECT_GE(log->head() - log->tail(), 4000u) << "everything since the raise is held";
  // The first tick after seq 2500 and what is missing before the oldest held.
  const auto after = log->find_after(2500);
  LogCursor c(log, after.position);
  ASSERT_NE(c.get(), nullptr);
  EXPECT_EQ(c.get()->seq, 2501u);
  EXPECT_EQ(after.missing, 0u);
  const auto old = log->find_after(10);
  LogCursor o(log, old.position);
  ASSERT_NE(o.get(), nullptr);
  EXPECT_EQ(old.missing, o.get()->seq - 11) << "ticks 11.. before the oldest held are gone";
  EXPECT_EQ(log->find_after(5000).position, log->head()) << "nothing newer yet";
}

} // namespace
