// http::EventLoops: the client side of ib-stream-server, one io_context per
// thread ("one loop per thread"). Each connection lives on one loop for its
// whole life, so its session needs no strand, and the consumers of a
// stream's log on one loop are woken together by one hop (stream::Log's
// reader groups): the cost of a tick is one wake-up per loop, not one per
// client.
//
// Thread-safety: next() may be called from any thread; run() from one.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace http {

class EventLoops {
public:
  explicit EventLoops(std::size_t count);

  std::size_t size() const { return loops_.size(); }
  boost::asio::io_context& at(std::size_t i) { return *loops_.at(i); }
  /// The loop for a new connection (round robin).
  boost::asio::io_context& next();
  /// Runs loop 0 on the calling thread and every other loop on a thread of
  /// its own; returns when all of them have stopped.
  void run();
  void stop();

private:
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::atomic<std::size_t> next_{0};
};

/// The io_context an executor of a session runs on (every session's
/// executor is one of an EventLoops' loops, or in tests an io_context).
boost::asio::io_context& event_loop_of(const boost::asio::any_io_executor& ex);

} // namespace http
