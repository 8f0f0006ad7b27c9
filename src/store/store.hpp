// store::Store: the record. Every tick of the tracked streams, kept in
// SQLite files, one per UTC day (the tick's IB time), in `dir`:
// `ticks-YYYY-MM-DD.sqlite`, plus `meta.sqlite` (gaps). Retention deletes
// whole day files. Schema: docs/recording.md (readable with the sqlite3
// command or pandas, without our code).
//
// Ordering: rows of one (contract, tick type) are ordered by (seq, sub):
// a live tick has its stream sequence number and sub 0; a backfilled tick
// has the seq of the last tick recorded before its gap and sub 1, 2, ... in
// time order. IB time never decreases along that order.
//
// Thread-safety: one writer thread calls the writer functions (write,
// add_gap, update_gap, enforce_retention); any number of reader threads
// call the reader functions at the same time (each call takes read-only
// connections from a pool, one reader per connection at a time; WAL lets
// them read while the writer commits). Nothing here blocks on the other
// side for long: a reader sees every transaction committed before its
// query (for read(), each page of it) started.
//
// Errors: writer functions return StoreError; reader functions throw
// std::runtime_error naming the file when a day file cannot be read or is
// not ours (a day file deleted by retention meanwhile just has no rows).
#pragma once

#include "tws/client.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace store {

enum class Source : std::uint8_t { live, backfill };
std::string_view to_string(Source s); // "live", "backfill"

/// One stored tick. `tick` holds the fields: its kind must match
/// tick_type, its `time` must be ib_time and a TickByTickLast's `type` must
/// be tick_type (write() refuses a batch otherwise); its req_id is ignored
/// (0 when read).
struct TickRecord {
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::uint64_t seq = 0;
  std::uint32_t sub = 0;    // 0: live; 1..: position within a backfilled gap
  std::int64_t ib_time = 0; // Unix seconds (TWS)
  std::int64_t recv_us = 0; // server receive time, Unix microseconds (backfill: when written)
  Source source = Source::live;
  tws::Tick tick;
  bool operator==(const TickRecord&) const = default;
};

/// A position in one stream's record: the row after which a read goes on.
struct Position {
  std::uint64_t seq = 0;
  std::uint32_t sub = 0;
  auto operator<=>(const Position&) const = default;
};

/// A stretch of time a stream was not recorded live.
struct Gap {
  std::int64_t id = 0; // assigned by add_gap
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::uint64_t after_seq = 0; // the last tick recorded before it
  std::int64_t from_time = 0;  // its IB time (Unix s)
  std::int64_t to_time = 0;    // IB time of the first tick after it (0: still open)
  enum class State { open, filling, filled, partial, unfillable } state = State::open;
  std::uint64_t filled_ticks = 0; // backfilled rows written
  std::string reason;             // why it opened: "TWS connection lost", "server restart", ...
  std::string detail;             // what backfill said (e.g. IB's 162 text)
  std::int64_t opened_unix = 0;   // server wall clock
  std::int64_t updated_unix = 0;
};
std::string_view to_string(Gap::State s); // "open", "filling", "filled", "partial", "unfillable"

struct StoreConfig {
  std::filesystem::path dir = "data";
  int retention_days = 30; // 0 = keep everything
};

/// What went wrong, for a person: names the file and the cause
/// ("data/ticks-2026-12-04.sqlite: database or disk is full").
struct StoreError {
  std::string message;
  bool disk_full = false; // SQLITE_FULL or ENOSPC / EFBIG: retry when space returns
};

struct LastRecorded {
  std::uint64_t seq = 0;
  std::uint32_t sub = 0;
  std::int64_t ib_time = 0;
  /// Live rows recorded with that same ib_time (a backfill of the gap after
  /// it skips that many historical ticks of that second).
  std::uint64_t live_at_time = 0;
};

struct Query {
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<std::int64_t> start_ms; // ib_time * 1000 >= start_ms
  std::optional<std::int64_t> end_ms;   // ib_time * 1000 <  end_ms (a read stops at the first
                                        // row past it: IB time never decreases along (seq, sub))
  std::optional<Position> after;        // rows strictly after this position
  std::size_t limit = 10000;            // at most this many rows
  /// Rows carry only seq, sub and ib_time (their tick is left as it was):
  /// a cheaper read for counting and positions.
  bool keys_only = false;
};

/// Per tick type of one contract: what /history/{contract_id} shows.
struct StreamSummary {
  tws::TickType tick_type = tws::TickType::last;
  std::int64_t first_time = 0;
  std::int64_t last_time = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::map<std::string, std::uint64_t> per_day; // "2026-12-04" -> rows
  std::uint64_t live = 0, backfill = 0;
};

class Store {
public:
  /// Creates `dir` when missing; opens (and checks) meta.sqlite and checks
  /// every day file present. Throws std::runtime_error with a clear message
  /// when the directory cannot be used (not writable, not a directory, a
  /// file that is not our database, retention_days < 0).
  explicit Store(StoreConfig config);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreConfig& config() const;

  // ------------------------------------------------------------ writer
  /// Writes `rows` in one transaction per day file (WAL, synchronous=NORMAL).
  /// All or nothing per day file: on error nothing of that file's rows was
  /// kept and the error says why (the first failing file; the others are
  /// still written); the caller retries later. A row already stored (same
  /// contract, type, seq, sub) is ignored (no duplicate). A batch with a
  /// record that does not describe one tick (see TickRecord) is refused
  /// whole, nothing written.
  std::optional<StoreError> write(std::span<const TickRecord> rows);
  /// Gaps: kept in meta.sqlite.
  std::optional<StoreError> add_gap(Gap& gap); // sets gap.id
  std::optional<StoreError> update_gap(const Gap& gap);
  /// Deletes the day files older than retention_days before `now_unix`'s
  /// UTC day (that day and the retention_days before it are kept), with
  /// their -wal and -shm, and the gaps that ended before the oldest day
  /// kept. Nothing when retention_days is 0. Returns the files removed.
  std::vector<std::filesystem::path> enforce_retention(std::int64_t now_unix);

  // ------------------------------------------------------------ readers (any thread)
  /// The last row of a stream (live or backfill, highest (seq, sub)).
  std::optional<LastRecorded> last_recorded(int con_id, tws::TickType type) const;
  /// Calls `row` for each row matching `q` in (seq, sub) order across day
  /// files, reading in pages (memory stays flat); stops when `row` returns
  /// false or `q.limit` rows were given. Returns the number given.
  std::size_t read(const Query& q, const std::function<bool(const TickRecord&)>& row) const;
  /// The first position whose ib_time * 1000 >= unix_ms (for `since=`).
  std::optional<Position> first_at_or_after(int con_id, tws::TickType type,
                                            std::int64_t unix_ms) const;
  /// Whether `seq` is a live tick recorded for the stream.
  bool has_seq(int con_id, tws::TickType type, std::uint64_t seq) const;
  /// Per tick type with rows; empty when nothing is recorded for con_id.
  std::vector<StreamSummary> summary(int con_id) const;
  /// Gaps of a stream (all types when type is nullopt), oldest first.
  std::vector<Gap> gaps(int con_id, std::optional<tws::TickType> type = std::nullopt) const;
  /// Day files present, oldest first.
  std::vector<std::filesystem::path> day_files() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace store
