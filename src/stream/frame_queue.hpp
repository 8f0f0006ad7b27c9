// The bounded send queue of one client stream (design.md): shared,
// immutable frames; when full the oldest tick frame is dropped and counted;
// a client that keeps losing frames without ever draining is a slow
// consumer, and the caller ends it with SLOW_CONSUMER.
//
// Not thread-safe: owned by the client session's strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace stream {

using Frame = std::shared_ptr<const std::string>;

class FrameQueue {
public:
  /// A client that loses this many queues' worth of ticks without a single
  /// completed write has stayed behind; fewer is a burst it may catch up on
  /// (a scheduling stall on a busy machine must not end a healthy client).
  static constexpr std::size_t kSlowAfterQueues = 10;

  /// `capacity`: tick frames held at most (IB_STREAM_BUFFER_SIZE).
  /// `slow_after`: drops since the last drain that make a slow consumer
  /// (default: kSlowAfterQueues x capacity).
  explicit FrameQueue(std::size_t capacity, std::size_t slow_after = 0);

  enum class Push { queued, dropped_oldest, slow_consumer };

  /// Queues a tick frame; on overflow drops the oldest tick frame.
  [[nodiscard]] Push push(Frame frame);
  /// Queues a control frame (info, error, complete): never dropped and not
  /// counted against the capacity, so a client always learns why it ends.
  void push_control(Frame frame);

  /// Moves every queued frame into `out` (one gather write) and starts a
  /// new drop streak.
  void take_all(std::vector<Frame>& out);

  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  std::size_t bytes() const { return bytes_; }
  /// Tick frames dropped since the queue was made.
  std::uint64_t dropped() const { return dropped_; }

private:
  struct Entry {
    Frame frame;
    bool control;
  };
  std::deque<Entry> frames_;
  std::size_t capacity_;
  std::size_t slow_after_;
  std::size_t ticks_ = 0;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
  std::size_t streak_ = 0;
};

} // namespace stream
