// Internals of record::Recorder, shared by recorder.cpp (tracked streams
// and the public calls), writer.cpp (the writer thread) and backfill.cpp.
#pragma once

#include "record/recorder.hpp"
#include "stream/log.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace record {

using Clock = std::chrono::steady_clock;

/// Wall clock, Unix seconds and microseconds.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
using StreamKey = std::pair<int, tws::TickType>;

/// A gap as the recorder's loop keeps it; the writer gets copies. The id
/// slot is set by the writer once the gap is in the record.
struct GapState {
  store::Gap gap;
  std::shared_ptr<std::atomic<std::int64_t>> id = std::make_shared<std::atomic<std::int64_t>>(0);
};

/// Counters of one stream: the writer adds, status reads.
struct StreamCounters {
  std::atomic<std::uint64_t> recorded{0};
  std::atomic<std::uint64_t> backfilled{0};
  std::atomic<std::int64_t> last_tick_time{0};
  std::atomic<std::uint64_t> pending{0};
};

/// What the writer thread commits, in order.
class WriterQueue {
public:
  struct GapOp {
    store::Gap gap;
    std::shared_ptr<std::atomic<std::int64_t>> id;
  };

  void push(std::vector<store::TickRecord>& rows);
  void push(GapOp op);
  std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }

  /// The writer thread's loop; returns after stop() once everything queued
  /// was written (or could not be).
  void run(Recorder::Impl& impl);
  void stop();

private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<store::TickRecord> rows_;
  std::vector<GapOp> ops_;
  std::atomic<std::size_t> pending_{0};
  bool stopping_ = false;
};

struct BackfillJob {
  std::shared_ptr<GapState> gap;
  std::int64_t from = 0, to = 0;
  std::uint64_t skip_from = 0; // ticks of second `from` recorded before the gap
  std::uint64_t skip_to = 0;   // ticks of second `to` recorded after it
  std::uint32_t next_sub = 1;
  std::int64_t page_start = 0;
  std::uint64_t seen_from = 0;          // historical ticks of second `from` so far
  std::vector<store::TickRecord> at_to; // historical ticks of second `to`
  int failures = 0;
  /// The market's closed periods within the gap, [from, to) Unix seconds
  /// (from the stream's market_closed notices): paging skips them.
  std::vector<std::pair<std::int64_t, std::int64_t>> closed;
};

class TrackedStream;

struct Recorder::Impl : std::enable_shared_from_this<Recorder::Impl> {
  Impl(std::shared_ptr<stream::Hub> h, std::shared_ptr<store::Store> s, RecorderConfig c);

  std::shared_ptr<stream::Hub> hub;
  std::shared_ptr<store::Store> store;
  RecorderConfig cfg;
  TrackedFile file;

  boost::asio::io_context loop;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread loop_thread;
  std::thread writer_thread;
  WriterQueue queue;

  // ---- the loop's
  std::map<StreamKey, std::shared_ptr<TrackedStream>> streams;
  bool stopping = false;

  // ---- any thread (locked)
  mutable std::mutex mutex;
  TrackedSet tracked_set;
  std::map<StreamKey, std::shared_ptr<StreamCounters>> counters;
  RecorderHealth health_state;
  std::int64_t oldest_pending_us = 0; // recv time of the oldest row queued

  std::shared_ptr<StreamCounters> counters_of(StreamKey key);
  TrackedSet tracked() const {
    const std::lock_guard lock(mutex);
    return tracked_set;
  }
  void set_health(bool degraded, std::string message);

  // recorder.cpp
  void open_stream(StreamKey key, std::function<void(std::optional<stream::OpenError>)> done);
  void close_stream(StreamKey key);
  std::vector<TrackedStatus> status_now();

  // backfill.cpp (the loop)
  std::deque<BackfillJob> jobs;
  bool job_running = false;
  HistoricalPacer pacer;
  boost::asio::steady_timer backfill_timer{loop};
  void enqueue_backfill(BackfillJob job);
  void run_backfill();
  void on_page(std::error_code ec, const tws::ErrorMessage* err, std::vector<tws::Tick> ticks);
  void finish_job(store::Gap::State state, std::string detail);
  void retry_job(std::chrono::milliseconds after, std::string detail);
  void push_gap(const GapState& g);
};

} // namespace record
