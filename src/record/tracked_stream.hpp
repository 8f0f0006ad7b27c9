// One tracked stream as the recorder's loop sees it: its Hub stream (an
// internal client), its cursor in the stream's log, the last tick recorded
// and the gap it may be in. Lives on the recorder's loop only.
#pragma once

#include "record/recorder_impl.hpp"

namespace record {

class TrackedStream : public stream::LogConsumer,
                      public stream::Subscriber,
                      public std::enable_shared_from_this<TrackedStream> {
public:
  TrackedStream(Recorder::Impl& rec, StreamKey key);
  ~TrackedStream() override;

  const StreamKey key;
  enum class State { starting, recording, retrying, closed } state = State::starting;
  std::string error; // why it is retrying

  /// Opens it at the Hub; `done` (on the loop) gets the error, if any.
  void open(std::function<void(std::optional<stream::OpenError>)> done);
  /// Ends it at the Hub (untrack, stop).
  void close();
  /// Once a second: a gap whose last second is long over (a quiet stream)
  /// goes to backfill.
  void poll();

  // LogConsumer: the loop.
  void on_log_advanced() override;
  // Subscriber: the Hub's strand.
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;

private:
  struct Last {
    std::uint64_t seq = 0;
    std::uint32_t sub = 0;
    std::int64_t ib_time = 0;
    std::uint64_t at_time = 0; // rows recorded with that ib_time
  };

  void attach(const stream::OpenResult& r);
  void detach();
  void schedule_reopen();
  void interrupt(std::string why);
  /// A notice: market_closed / market_open, or one that interrupts.
  void on_notice(const stream::LogEntry& e);
  void on_tick(const stream::LogEntry& e);
  void flush();

  Recorder::Impl& rec_;
  std::shared_ptr<StreamCounters> counters_;
  std::uint64_t stream_id_ = 0;
  stream::LogCursor cursor_;
  std::shared_ptr<stream::ReaderGroup> readers_;
  std::optional<Last> last_;
  std::optional<std::string> interrupted_;
  /// The market is closed (between market_closed and market_open): the
  /// period [from, to), to = 0 when its open is not known.
  std::optional<std::pair<std::int64_t, std::int64_t>> closed_;
  /// An interruption while closed: no gap when the stream was re-requested
  /// (`reconnected`) before the open, else a gap at the first tick after.
  std::optional<std::string> interrupted_closed_;
  /// The latest closed periods (handed to backfill jobs).
  std::deque<std::pair<std::int64_t, std::int64_t>> closed_periods_;
  /// The gap just closed, counting the live ticks of its last second.
  std::optional<BackfillJob> counting_;
  std::vector<store::TickRecord> rows_;
  boost::asio::steady_timer retry_timer_;
};

} // namespace record
