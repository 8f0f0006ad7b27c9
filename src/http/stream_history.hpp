// History before live for SSE and WebSocket streams (README "Recording and
// history"): `since=` (the recorded ticks from a time, then live) and a
// Last-Event-ID older than the log's memory (the ticks after it from the
// record, then live). The session reads the record in pages on the
// HistoryWorkers, writes them, and once the record has given everything it
// holds, its ClientStream goes on in the log right after the last tick
// sent (ClientStream::go_live_after): no gap and no duplicate at the switch.
//
// Thread-safety: a StreamHistory belongs to one session and its loop; the
// page read runs on a worker and touches only the Store (thread-safe) and
// what it was given.
#pragma once

#include "http/server_state.hpp"
#include "store/store.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace http {

class StreamHistory {
public:
  /// From the rows after `after`, or (no `after`) from the first row at or
  /// after `since_ms`.
  StreamHistory(std::shared_ptr<ServerState> state, int con_id, tws::TickType type,
                std::optional<store::Position> after, std::optional<std::int64_t> since_ms);

  /// Reads up to `max_rows` more rows on a worker; `done` runs on `ex` with
  /// them (fewer than asked: the record has no more now). One at a time.
  void fetch(const boost::asio::any_io_executor& ex, std::size_t max_rows,
             std::function<void(std::vector<store::TickRecord>)> done);
  bool fetching() const { return fetching_; }
  /// The last row given (nothing given yet: none).
  const std::optional<store::Position>& last() const { return after_; }
  std::uint64_t rows() const { return rows_; }

private:
  std::shared_ptr<ServerState> state_;
  int con_id_;
  tws::TickType type_;
  std::optional<store::Position> after_;
  std::optional<std::int64_t> since_ms_;
  std::uint64_t rows_ = 0;
  bool fetching_ = false;
};

/// A stored tick as the SSE tick event of api.md §3: `id: seq` (a
/// backfilled tick: `id: seq.sub`), the tick object as live ticks have it.
void append_sse_record_tick(std::string& out, const store::TickRecord& r);
/// The same as a WebSocket tick message's part after the per-client prefix.
void append_ws_record_tick_suffix(std::string& out, const store::TickRecord& r);

} // namespace http
