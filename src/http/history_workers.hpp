// http::HistoryWorkers: the small thread pool that reads the record
// (SQLite) for every history and replay request, off the client event
// loops. A request never holds a worker while it waits for its socket: each
// task reads one piece (about 64 KiB of output) and hands it to the
// session's loop; the next piece is asked for once the socket took the
// previous one. Admission is bounded: at most `max_requests` history and
// replay requests at a time (the next one is answered 429). Each task is a
// query of the record: its duration goes into `query_duration()`, and the
// admissions are counted (GET /metrics).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include "http/metrics_registry.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace http {

class HistoryWorkers {
public:
  explicit HistoryWorkers(std::size_t threads = 2, std::size_t max_requests = 64)
      : pool_(threads), max_requests_(max_requests) {}
  ~HistoryWorkers() { stop(); }
  HistoryWorkers(const HistoryWorkers&) = delete;
  HistoryWorkers& operator=(const HistoryWorkers&) = delete;

  /// Takes a request slot; false when every slot is taken.
  bool admit() {
    auto n = requests_.load();
    do {
      if (n >= max_requests_) {
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!requests_.compare_exchange_weak(n, n + 1));
    admitted_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  /// Gives a slot back (once per admit() that returned true).
  void release() { --requests_; }
  std::size_t requests() const { return requests_.load(); }
  std::size_t max_requests() const { return max_requests_; }
  std::uint64_t admitted() const { return admitted_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  /// How long the tasks (queries of the record) took.
  const Histogram& query_duration() const { return query_duration_; }

  /// Runs `task` on a worker (timed).
  template <class F> void post(F&& task) {
    boost::asio::post(pool_, [this, task = std::forward<F>(task)]() mutable {
      const auto start = std::chrono::steady_clock::now();
      task();
      query_duration_.observe_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
    });
  }

  /// Waits for the running tasks and drops the queued ones (the server's
  /// end, before the event loops go). Idempotent.
  void stop() {
    if (stopped_.exchange(true)) return;
    pool_.stop();
    pool_.join();
  }

private:
  boost::asio::thread_pool pool_;
  const std::size_t max_requests_;
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> rejected_{0};
  Histogram query_duration_{kQueryDurationBuckets};
  std::atomic<bool> stopped_{false};
};

} // namespace http
