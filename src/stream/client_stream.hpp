// stream::ClientStream: what one client stream sends, whatever the transport
// (design.md "One path for a tick"): its `limit`, its counters, its bounded
// queue of shared frames and the events of api.md §3 (info, tick, error,
// complete). A transport session (SSE now, WebSocket later) feeds it what
// the Hub delivers and its own timers, takes every queued frame for one
// gather write, and closes once finished() and drained.
//
// Limit accounting is exact: a tick counts when it is taken for writing, so
// a tick dropped from a full queue never counts, and once the ticks taken
// plus the ticks queued reach `limit` the stream stops accepting ticks and
// queues `complete` (`limit_reached`, total_ticks = limit).
//
// Not thread-safe: owned by the transport session's strand.
#pragma once

#include "stream/frame_queue.hpp"
#include "stream/hub.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stream {

/// How a transport frames events: ticks come pre-serialized by the Hub,
/// other events are one-line JSON objects. `tick` may keep the pointer (the
/// frame can share the tick's lifetime instead of a count of its own).
struct FrameFormat {
  std::function<Frame(TickEventPtr)> tick;
  std::function<Frame(std::string json)> event;
};

/// SSE: the Hub's shared tick frame as is; events as "data: <json>\n\n".
FrameFormat sse_frame_format();

class ClientStream {
public:
  struct Options {
    int con_id = 0;
    tws::TickType tick_type = tws::TickType::last;
    std::optional<int> limit;
    std::size_t queue_capacity = 100; // IB_STREAM_BUFFER_SIZE
    /// Drops since the last drain that make a slow consumer (0: one queue).
    std::size_t slow_after = 0;
  };

  /// `counters` is shared with the Hub's snapshots; when null, start()
  /// adopts OpenResult::counters.
  ClientStream(Options options, FrameFormat format, std::shared_ptr<ClientCounters> counters);

  /// Queues a frame that must go out before the stream's events (e.g. the
  /// SSE response head and `retry:` line). Never dropped, not a tick.
  void push_control(Frame frame);

  /// The stream is open: adopts its counters (see above), queues the
  /// `info` "stream started" event, an `info` about lost ticks (code
  /// ticks_lost) or an unknown resume id (code resume_unknown), then the
  /// replayed ticks. Ticks delivered before start() are held and queued
  /// after it.
  void start(const OpenResult& opened);

  /// A live tick from the Hub.
  void on_tick(TickEventPtr tick);
  /// A notice from the Hub: `info` (message + code) or `error` event.
  void on_notice(const Notice& notice);
  /// The Hub ended the stream: `complete` (stopped, shutdown) or, for
  /// failed, the `error` event of `why`.
  void on_end(EndReason reason, const std::optional<Notice>& why);
  /// The client's `timeout` passed: `complete` `timeout`.
  void on_timeout();
  /// Keep-alive frame after silence (transport specific bytes).
  void on_idle(Frame keepalive);

  /// Moves every queued frame into `out` (one gather write); the ticks among
  /// them count as sent from now on.
  void take(std::vector<Frame>& out);

  bool has_frames() const { return !queue_.empty(); }
  /// A last event (complete / error) is queued: nothing more is accepted;
  /// close once the queue is written.
  bool finished() const { return finished_; }
  /// Ended by SLOW_CONSUMER: the transport closes soon even if the last
  /// frames cannot be written.
  bool slow_consumer() const { return slow_; }
  bool started() const { return started_; }

  std::uint64_t ticks_sent() const { return ticks_sent_; }
  std::uint64_t ticks_queued() const { return ticks_queued_; }
  std::uint64_t dropped() const { return queue_.dropped(); }

private:
  void push_tick(TickEventPtr tick, bool replayed);
  void push_event(std::string json);
  void finish_with(std::string json);
  bool limit_reached() const;
  std::string info_json(std::string_view message, std::string_view extra_json) const;

  Options options_;
  FrameFormat format_;
  std::shared_ptr<ClientCounters> counters_;
  FrameQueue queue_;
  ContractInfo contract_;
  std::string stream_key_;
  std::vector<TickEventPtr> early_; // ticks delivered before start()
  std::uint64_t ticks_sent_ = 0;    // taken for writing
  std::uint64_t ticks_queued_ = 0;  // in the queue now
  bool started_ = false;
  bool finished_ = false;
  bool slow_ = false;
};

} // namespace stream
