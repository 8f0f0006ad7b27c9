// stream::Log: the events of one stream (contract x tick type), in order
// (design.md "Streams are logs, consumers are cursors").
//
// The Hub appends every event once - a tick or a notice - already encoded
// in every wire format (wire_formats.hpp), and publishes it. A consumer (an
// SSE client, a WebSocket subscription, later the recorder) is a position
// in the log, a LogCursor, that reads [position, head) on its own thread,
// as one batch, and writes it to its socket at once: the producer never
// touches a consumer's state and the cost per (event, consumer) is a
// position compare and the bytes the kernel copies anyway.
//
// Memory: entries live in chunks (a few allocations per chunk of up to a
// quarter of the window), immutable once published and freed when neither
// the log nor a cursor holds them. The log holds the most recent entries,
// at least `max_entries` of them (and at most a chunk more) while they take
// less than `max_bytes`: the memory window for resume. A cursor that falls behind the oldest entry
// held has lost what lies between (LogCursor::get() says so); it skips ahead.
//
// Positions number every entry from 0; a tick also carries its sequence
// number, the id a client sees (SSE `id:`), which continues across logs of
// the same stream (`seq_base`).
//
// Wake-ups: consumers of the log that run on the same event loop form a
// ReaderGroup. publish() wakes each group that has consumers with at most
// one pending hop to its loop (coalesced), and the hop calls every
// consumer of the group: no allocation, lock or queue push per (event,
// consumer).
//
// Thread-safety: append(), publish(), readers() and resume_after() belong
// to one writer thread (the Hub's strand). head(), tail() and LogCursor
// may be used from any thread; a LogCursor itself by one thread at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace stream {

enum class EntryKind : std::uint8_t { tick, info, error };

/// One event of a log; its bytes live as long as its chunk.
struct LogEntry {
  /// A tick: its sequence number. A notice: the sequence number of the last
  /// tick before it (so sequence numbers never decrease along a log).
  std::uint64_t seq = 0;
  EntryKind kind = EntryKind::tick;
  std::string_view sse;  // the SSE frame
  std::string_view ws;   // the WebSocket message after its per-client prefix
  std::string_view code; // a notice's code (TWS_DISCONNECTED, reconnected, ...)
  /// A tick's fields and receive time, packed (tick_fields.hpp): what the
  /// recorder stores. Empty for notices (and for ticks appended without).
  std::string_view record;
  /// A tick: when the server received it from TWS (steady clock, ns since
  /// its epoch; 0 = unknown). The delivery latency metric reads it.
  std::int64_t received_ns = 0;

  bool is_tick() const { return kind == EntryKind::tick; }
};

struct LogLimits {
  std::size_t max_entries = 1000;    // the resume window, in entries
  std::size_t max_bytes = 16u << 20; // ... and at most this many bytes
};

/// What reads a log: told when the log advanced, on its own event loop.
class LogConsumer {
public:
  virtual ~LogConsumer() = default;
  /// The log has entries past the consumer's position (or the consumer was
  /// just added to its group). Runs on the group's event loop.
  virtual void on_log_advanced() = 0;
};

template <class T> struct WakeAllocator;

/// The consumers of one log on one event loop.
class ReaderGroup : public std::enable_shared_from_this<ReaderGroup> {
public:
  explicit ReaderGroup(boost::asio::io_context& loop);
  ~ReaderGroup();
  ReaderGroup(const ReaderGroup&) = delete;
  ReaderGroup& operator=(const ReaderGroup&) = delete;

  boost::asio::io_context& loop() const { return loop_; }

  /// Any thread: at most one pending hop to the loop that calls every
  /// consumer (nothing when the group is empty).
  void wake();

  // The group's loop only.
  /// Adds `c` and calls it once (it catches up with what it missed).
  void add(LogConsumer* c);
  /// `c` is called no more (also from within a wake-up).
  void remove(LogConsumer* c);
  std::size_t size() const { return size_.load(std::memory_order_relaxed); }

private:
  struct WakeHandler;
  template <class T> friend struct WakeAllocator;
  void run();

  boost::asio::io_context& loop_;
  std::atomic<bool> pending_{false};
  std::atomic<std::size_t> size_{0};
  std::vector<LogConsumer*> consumers_; // loop only; nullptr: removed during run()
  bool running_ = false;
  bool holes_ = false;
  // The memory of the one pending wake-up handler: reused, never allocated.
  alignas(std::max_align_t) unsigned char handler_memory_[128];
  std::atomic<bool> handler_memory_used_{false};
};

class Log {
public:
  /// `seq_base`: the first tick gets seq_base + 1.
  Log(std::uint64_t seq_base, LogLimits limits);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // ---- the writer
  /// Appends an event (the bytes are copied); a tick takes the next
  /// sequence number. Returns the entry's position. Not visible to readers
  /// before publish().
  /// `received_ns`: LogEntry::received_ns.
  std::uint64_t append(EntryKind kind, std::string_view sse, std::string_view ws,
                       std::string_view code = {}, std::string_view record = {},
                       std::int64_t received_ns = 0);
  /// Makes what was appended visible and wakes the reader groups.
  void publish();
  /// The reader group of `loop` (made on first use).
  std::shared_ptr<ReaderGroup> readers(boost::asio::io_context& loop);
  /// Keeps at least `limits` from now on (a recorder joined: its window).
  void raise_limits(LogLimits limits) {
    limits_.max_entries = std::max(limits_.max_entries, limits.max_entries);
    limits_.max_bytes = std::max(limits_.max_bytes, limits.max_bytes);
  }
  /// The sequence number of the last tick appended (seq_base before any).
  std::uint64_t last_seq() const { return last_seq_; }
  /// The sequence number the next tick gets.
  std::uint64_t next_seq() const { return last_seq_ + 1; }
  /// The next tick gets `seq` (when that is ahead): the numbers between
  /// were never appended here (a remote stream's gap).
  void skip_to(std::uint64_t seq) {
    if (seq > last_seq_ + 1) last_seq_ = seq - 1;
  }

  /// Where a client that last saw tick `last_seen` resumes (Last-Event-ID).
  struct Resume {
    std::uint64_t position = 0;   // the first tick after last_seen still held (or head)
    std::uint64_t seq_before = 0; // the sequence number of the last tick before `position`
    std::uint64_t lost = 0;       // ticks after last_seen no longer held
    bool unknown = false;         // last_seen is newer than any tick numbered here
  };
  Resume resume_after(std::uint64_t last_seen) const;

  // ---- readers, any thread
  /// One past the last published position.
  std::uint64_t head() const { return head_.load(std::memory_order_acquire); }
  /// The oldest position held.
  std::uint64_t tail() const { return tail_.load(std::memory_order_acquire); }
  /// Any thread: the first tick held whose sequence number is greater than
  /// `seq` (a client that got ticks up to `seq` elsewhere goes on there).
  struct After {
    std::uint64_t position = 0; // that tick's position (head when none yet)
    std::uint64_t missing = 0;  // ticks after `seq` no longer held before it
  };
  After find_after(std::uint64_t seq) const;
  /// Bytes of the entries held (for snapshots and tests).
  std::size_t bytes_held() const { return bytes_held_.load(std::memory_order_relaxed); }

private:
  friend class LogCursor;
  struct Chunk;
  std::shared_ptr<const Chunk> chunk_for(std::uint64_t position) const;
  void trim();
  /// Deflates the WebSocket suffixes of the ticks before `upto` not yet done.
  void deflate_upto(std::uint64_t upto);

  LogLimits limits_;
  std::uint64_t last_seq_;
  const std::uint32_t entries_per_chunk_;
  const std::size_t bytes_per_chunk_;
  std::uint64_t appended_ = 0; // positions appended (the next position)
  std::atomic<std::uint64_t> head_{0};
  std::atomic<std::uint64_t> tail_{0};
  std::atomic<std::size_t> bytes_held_{0};
  mutable std::mutex chunks_mutex_; // the deque; readers take it once per chunk
  std::deque<std::shared_ptr<Chunk>> chunks_;
  std::vector<std::shared_ptr<ReaderGroup>> groups_; // writer only
  std::mutex deflate_mutex_;
  std::atomic<std::uint64_t> deflated_upto_{0};
};

/// A position in a log and the chunk it reads.
class LogCursor {
public:
  LogCursor() = default;
  LogCursor(std::shared_ptr<Log> log, std::uint64_t position)
      : log_(std::move(log)), pos_(position) {}

  const std::shared_ptr<Log>& log() const { return log_; }
  std::uint64_t position() const { return pos_; }
  /// The entry at position(); nullptr at the head, or when the entry is no
  /// longer held (then position() < log()->tail()).
  const LogEntry* get();
  void advance() { ++pos_; }
  /// The deflated WebSocket suffix (ws_deflate.hpp) of the tick at
  /// position(), built once for every consumer that wants it, off the
  /// writer's thread: the first consumer to need it deflates every tick up
  /// to `upto` (its batch) under a lock, the others find them done. Empty
  /// when the entry is not a tick or no longer held.
  std::string_view deflated(std::uint64_t upto);
  /// The end of the run of entries from position() that lie in the same
  /// chunk as it, up to `head` (call right after get() returned the entry
  /// at position()): their SSE frames are one contiguous range.
  std::uint64_t run_end(std::uint64_t head) const;
  /// An entry of that run.
  const LogEntry& at(std::uint64_t position) const;
  /// While set, the chunks the cursor leaves are added to `keep` instead of
  /// being let go (views of their bytes are about to be written).
  void keep_chunks(std::vector<std::shared_ptr<const void>>* keep) { keep_ = keep; }
  /// Moves to `position` (forward only).
  void seek(std::uint64_t position) {
    if (position > pos_) pos_ = position;
  }

private:
  std::shared_ptr<Log> log_;
  std::shared_ptr<const Log::Chunk> chunk_;
  std::uint64_t pos_ = 0;
  std::vector<std::shared_ptr<const void>>* keep_ = nullptr;
};

} // namespace stream
