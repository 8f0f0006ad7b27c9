// A client stream for the Hub's unit tests (test_hub, test_hub_remote), as
// the transports make one: a cursor in its stream's log, read on the client
// loop when the log advances.
#pragma once

#include "stream/hub.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace test_support {

/// One client stream as the transports make it: a cursor in its stream's
/// log, read on the client loop when the log advances. Records every tick
/// (sequence number and SSE bytes) and the codes of the notices.
class HubReader : public stream::Subscriber,
                  public stream::LogConsumer,
                  public std::enable_shared_from_this<HubReader> {
public:
  struct Tick {
    std::uint64_t seq;
    std::string sse;
    bool operator==(const Tick&) const = default;
  };

  explicit HubReader(boost::asio::io_context& loop) : loop_(loop) {}

  /// The Hub answered: place the cursor, join the log's readers (on the loop).
  void start(const stream::OpenResult& r) {
    std::promise<void> done;
    boost::asio::post(loop_, [&, self = shared_from_this()] {
      cursor_ = stream::LogCursor(r.log, r.start);
      live_from_ = r.live_from;
      readers_ = r.readers;
      if (readers_) readers_->add(this);
      on_log_advanced();
      done.set_value();
    });
    done.get_future().wait();
  }
  /// Leaves the log's readers (on the loop); before the recorder goes.
  void detach() {
    std::promise<void> done;
    boost::asio::post(loop_, [&, self = shared_from_this()] {
      if (readers_) readers_->remove(this);
      readers_.reset();
      done.set_value();
    });
    done.get_future().wait();
  }

  void on_log_advanced() override {
    std::lock_guard lock(m_);
    while (const auto* e = cursor_.get()) {
      if (e->is_tick()) ticks.push_back({e->seq, std::string(e->sse)});
      else if (cursor_.position() >= live_from_) notices.emplace_back(e->code);
      cursor_.advance();
    }
    cv_.notify_all();
  }
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override {
    std::lock_guard lock(m_);
    ended = reason;
    end_notice = why;
    cv_.notify_all();
  }

  /// Waits until `pred()` holds (under the lock) or `timeout` passes.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, pred);
  }
  bool wait_ticks(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait([&] { return ticks.size() >= n; }, timeout);
  }
  bool wait_notice(const std::string& code,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait([&] { return std::find(notices.begin(), notices.end(), code) != notices.end(); },
                timeout);
  }
  std::size_t tick_count() {
    std::lock_guard lock(m_);
    return ticks.size();
  }
  std::vector<Tick> ticks_copy() {
    std::lock_guard lock(m_);
    return ticks;
  }

  std::vector<Tick> ticks;
  std::vector<std::string> notices;
  std::optional<stream::EndReason> ended;
  std::optional<stream::Notice> end_notice;

private:
  boost::asio::io_context& loop_;
  stream::LogCursor cursor_;
  std::uint64_t live_from_ = 0;
  std::shared_ptr<stream::ReaderGroup> readers_;
  std::mutex m_;
  std::condition_variable cv_;
};

} // namespace test_support
