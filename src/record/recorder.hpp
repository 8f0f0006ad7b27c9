// record::Recorder: keeps every tracked stream open at the Hub and writes
// each of its ticks to the Store, fills the gaps that outages leave with
// IB's historical ticks (backfill.hpp), and says how far behind it is.
//
// The recorder is one more consumer of each tracked stream's log (a
// LogCursor on a loop of its own), opened at the Hub as an internal client:
// the upstream stays open without clients and clients share it. It never
// slows a client: it copies what it reads into a queue that one writer
// thread commits in batches (at most every commit_interval). A slow or full
// disk makes the queue grow (recorder lag, `degraded` in /health); past
// max_pending_rows the recorder stops reading, the log moves on without it,
// and what it missed becomes a gap to backfill, like any other outage.
//
// Gaps: after a tick stream was interrupted (TWS lost, a TWS error, farm
// down, stale, a re-request, the recorder falling behind, a server restart
// with an earlier record) the first tick after it closes a gap between the
// last tick recorded and that tick; the Backfiller fills it. A closed market
// (the Hub's market_closed / market_open) is no interruption, nor is one
// while the market is closed when the stream was re-requested before the
// open; the closed periods within a gap are skipped by its backfill.
//
// Threads: the recorder's loop (one thread: cursors, gap tracking,
// backfill, the public calls' work) and the writer thread (Store writes,
// gaps, retention). Public member functions may be called from any thread;
// callbacks run on the recorder's loop.
#pragma once

#include "record/historical_pacer.hpp"
#include "record/tracked.hpp"
#include "store/store.hpp"
#include "stream/hub.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace record {

struct RecorderConfig {
  /// Rows wait at most this long before they are committed.
  std::chrono::milliseconds commit_interval{100};
  /// Rows received but not committed, at most; then the recorder stops
  /// reading (and later backfills what it missed).
  std::size_t max_pending_rows = 500000;
  /// After a failed write (disk full), the next attempt.
  std::chrono::milliseconds write_retry{1000};
  /// A tracked stream that could not open (TWS down, an error) is retried
  /// after this.
  std::chrono::milliseconds reopen_delay{5000};
  /// How often retention runs (and once at start).
  std::chrono::milliseconds retention_interval{600000};
  PacingLimits pacing;
  bool backfill = true;
};

struct TrackedStatus {
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  /// "starting", "recording", "retrying" (could not open; `error` says why)
  std::string state;
  std::string error;
  std::uint64_t ticks_recorded = 0; // live rows committed by this process
  std::uint64_t backfilled = 0;     // backfilled rows committed by this process
  std::int64_t last_tick_time = 0;  // IB time of the last tick committed (Unix s)
  std::uint64_t lag_ticks = 0;      // read, not yet committed
  double lag_seconds = 0.0;         // age of the oldest of those
  std::vector<store::Gap> gaps;     // this stream's gaps (the record's, newest last)
};

struct RecorderHealth {
  bool degraded = false;
  std::string message; // why (disk full, fallen behind)
  std::uint64_t pending_rows = 0;
  std::uint64_t write_errors = 0; // failed writes of the record since start
};

class Recorder : public std::enable_shared_from_this<Recorder> {
public:
  static std::shared_ptr<Recorder> create(std::shared_ptr<stream::Hub> hub,
                                          std::shared_ptr<store::Store> store,
                                          RecorderConfig config = {});
  ~Recorder();

  /// Loads `tracked.json` of the store's directory, adds `initial` (the
  /// --track set), saves, starts the threads and opens every stream.
  /// Throws std::runtime_error (a bad tracked.json, an unwritable file).
  void start(const TrackedSet& initial);
  /// Commits what is queued, ends the streams, joins the threads.
  void stop();

  void status(std::function<void(std::vector<TrackedStatus>)> done);
  /// Adds tick types of a contract (opening each at the Hub) and saves the
  /// set. `error` (an OpenError of the first type that failed for good:
  /// 404, 429, 500) leaves nothing added; TWS unavailable is not an error:
  /// the stream opens when TWS is back.
  void
  track(int con_id, std::set<tws::TickType> types,
        std::function<void(std::optional<stream::OpenError> error, std::vector<TrackedStatus> now)>
            done);
  /// Stops recording every tick type of a contract and saves the set.
  void untrack(int con_id, std::function<void(bool found, std::string save_error)> done);

  /// Any thread.
  RecorderHealth health() const;
  TrackedSet tracked() const;

  struct Impl;

private:
  explicit Recorder(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

} // namespace record
