// stream::ClientStream: one client stream, whatever the transport (an SSE
// response, a WebSocket subscription): its cursor in the stream's Log, its
// `limit`, its counters, its window and the slow-consumer rule
// (design.md "Streams are logs, consumers are cursors"; README "Slow
// clients").
//
// A transport session owns the socket and one output buffer. When the log
// advances (or its write completed) it calls read(), which appends the
// client's next events - ticks and notices as the log encoded them, through
// the transport's Encoder - to that buffer; the session writes the buffer
// at once. Per-client events (the first `info`, `complete`, `error`,
// replies) are appended to the same buffer by the session when they happen:
// the buffer is the client's never-dropped control queue, and everything in
// it keeps its order.
//
// The window: a client may fall at most `window` entries behind the log's
// head (IB_STREAM_BUFFER_SIZE; a resume replay from the log's memory does
// not count) and never behind the oldest entry the log holds. When it has
// fallen further - its socket did not take what it had - it skips ahead:
// the ticks skipped are counted (`dropped`) and announced with an `info`
// `ticks_lost` carrying their number. A client that stays behind (it skips
// and does not catch up) for `slow_after` is a slow consumer: the session
// ends it with `error` SLOW_CONSUMER.
//
// Limit accounting is exact: a tick counts when it is read for writing
// (skipped ticks never count); the limit-th tick is followed by `complete`
// `limit_reached`.
//
// Not thread-safe: owned by the transport session, used on its event loop.
#pragma once

#include "stream/hub.hpp"
#include "stream/log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stream {

/// What an SSE client writes next, in order: its own events (bytes in
/// `control`) and views of the log's SSE frames, which every client sends
/// as they are - no copy per client; one gather write sends them all.
struct SseBatch {
  struct Piece {
    const char* log = nullptr; // a view of the log; nullptr: control[offset, offset + size)
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  std::string control;
  std::vector<Piece> pieces;
  /// The chunks the views point into, beside the cursor's own.
  std::vector<std::shared_ptr<const void>> chunks;
  std::size_t bytes = 0;

  bool empty() const { return bytes == 0; }
  void clear() {
    control.clear();
    pieces.clear();
    chunks.clear();
    bytes = 0;
  }
  /// control[from, end) was just appended.
  void add_control(std::size_t from);
  /// Appends a control event made by `f(control)`.
  template <class F> void control_event(F&& f) {
    const std::size_t from = control.size();
    f(control);
    add_control(from);
  }
  void add_view(std::string_view v);
  /// The bytes of piece `i`.
  std::string_view piece(std::size_t i) const {
    const Piece& p = pieces[i];
    return p.log ? std::string_view(p.log, p.size)
                 : std::string_view(control).substr(p.offset, p.size);
  }
  /// Drops the first `n` bytes (written).
  void consume(std::size_t n);
};

class ClientStream {
public:
  using Clock = std::chrono::steady_clock;

  /// How a transport writes what a client stream sends; each call appends
  /// one whole event (SSE frame, WebSocket frame) to `out`.
  class Encoder {
  public:
    virtual ~Encoder() = default;
    /// A tick of the log; `at` is the cursor on it (for encodings a log
    /// makes on demand, e.g. LogCursor::deflated(upto)).
    virtual void tick(std::string& out, const LogEntry& e, LogCursor& at, std::uint64_t upto) = 0;
    /// A notice of the log (info or error about the whole stream).
    virtual void notice(std::string& out, const LogEntry& e) = 0;
    /// A per-client `info`: `code`, `message`, further members of the info
    /// object (`extra_json`, e.g. `"ticks_lost":12`).
    virtual void info(std::string& out, std::string_view code, std::string_view message,
                      std::string_view extra_json) = 0;
    virtual void error(std::string& out, std::string_view code, std::string_view message,
                       std::string_view details) = 0;
    virtual void complete(std::string& out, std::string_view reason, std::uint64_t total_ticks) = 0;
  };

  struct Options {
    std::optional<int> limit;
    std::size_t window = 100; // IB_STREAM_BUFFER_SIZE
    std::chrono::milliseconds slow_after{5000};
  };

  ClientStream(Options options, Encoder& encoder);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  /// The Hub opened the stream: places the cursor and appends the notices
  /// of a resume (ticks_lost / resume_unknown) to `out`.
  void start(const OpenResult& opened, std::string& out);
  bool started() const { return started_; }
  /// Joins the log's reader group of this event loop: `consumer` is called
  /// when the log advances. On that loop.
  void attach(LogConsumer* consumer);
  /// Leaves it (idempotent); no more calls after this.
  void detach();

  /// Appends the next events to `out`: ticks and notices from the cursor to
  /// the log's head, while `out` holds less than `budget` bytes; skips ahead
  /// first when it has fallen behind its window. Stops after the limit-th
  /// tick (then finished()). Returns the ticks read.
  std::size_t read(std::string& out, std::size_t budget, Clock::time_point now);
  /// For SSE: the same as read(), but the log's frames go into `batch` as
  /// views (a run of entries is one view), not copies.
  std::size_t read_sse(SseBatch& batch, std::size_t budget, Clock::time_point now);
  /// History before live (since=, a resume older than the log's memory):
  /// after start(), the session sends ticks from the record itself; each
  /// counts like a tick of the log. False when it was the limit-th (the
  /// session then ends the stream with finish(out, "limit_reached")).
  bool history_tick();
  /// The record gave every tick up to `after_seq`: the cursor moves to the
  /// first tick after it that the log holds (the entries up to the head are
  /// caught up like a resume). Returns how many ticks after `after_seq` the
  /// log no longer holds (0: none is missing).
  std::uint64_t go_live_after(std::uint64_t after_seq);
  /// An `info` ticks_lost for `n` ticks neither the record nor the log has.
  void announce_lost(std::string& out, std::uint64_t n);
  /// Nothing to read now (or finished).
  bool at_head() const;
  /// For a client whose write is still in flight: when the log has run
  /// more than a window ahead, skip now (counted now, announced with the
  /// next read).
  void skip_if_behind(Clock::time_point now);
  /// The session wrote everything read so far and nothing is left to read:
  /// the client is not behind.
  void caught_up();
  /// It has stayed behind for `slow_after`.
  bool slow(Clock::time_point now) const;
  bool behind() const { return behind_since_.has_value(); }

  // The last event: after one of these nothing more is read.
  /// `complete` with `reason` and total_ticks.
  void finish(std::string& out, std::string_view reason);
  /// An `error` event (the stream failed).
  void fail(std::string& out, std::string_view code, std::string_view message,
            std::string_view details);
  /// `error` SLOW_CONSUMER; what it skipped last is counted.
  void end_slow(std::string& out);
  bool finished() const { return finished_; }
  bool slow_consumer() const { return slow_; }

  std::uint64_t ticks_sent() const { return ticks_sent_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t position() const { return cursor_.position(); }
  /// When the oldest live tick read since the last call was received
  /// (LogEntry::received_ns; 0: none read), and forgets it. A session takes
  /// it when it writes what it read (the delivery latency metric).
  std::int64_t take_oldest_received() { return std::exchange(oldest_received_ns_, 0); }

private:
  /// Where the cursor may be at the least: the window's start, the oldest
  /// entry held, or (in a resume replay) just the oldest entry held.
  std::uint64_t allowed_start(std::uint64_t head) const;
  /// Moves the cursor to `to` and accounts for the ticks skipped (the
  /// announcement waits for the next read: one `info` per gap).
  bool skip_to(std::uint64_t to, Clock::time_point now);
  /// The `info` ticks_lost of the gap skipped since the last read.
  void announce_loss(std::string& out);
  /// The entry at the cursor (skipping ahead when it is no longer held), or
  /// nullptr at the head; `head` is the last head read, refreshed as needed.
  const LogEntry* next(std::uint64_t& head, Clock::time_point now);
  void count_drops(std::uint64_t n);

  Options options_;
  Encoder& encoder_;
  LogCursor cursor_;
  std::shared_ptr<ReaderGroup> readers_;
  LogConsumer* consumer_ = nullptr;
  std::shared_ptr<ClientCounters> counters_;
  std::uint64_t live_from_ = 0; // positions before it: a resume replay
  std::uint64_t last_seq_ = 0;  // sequence number of the last tick read or skipped
  std::uint64_t ticks_sent_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t unannounced_ = 0;       // ticks skipped and not yet announced
  std::int64_t oldest_received_ns_ = 0; // take_oldest_received()
  std::optional<Clock::time_point> behind_since_;
  bool started_ = false;
  bool finished_ = false;
  bool slow_ = false;
};

} // namespace stream
