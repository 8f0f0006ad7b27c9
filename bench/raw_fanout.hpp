// RawFanout: the ceiling of scenario 6. A loopback listener that answers
// every connection with the SSE response header and then writes each tick's
// SSE bytes (built as ib-stream-server builds them: the same event JSON and
// framing) to every socket, with no server logic: no TWS hop, no Hub, no
// queues, no strands. It writes with as many threads as the server runs I/O
// threads (one per core): the first accepts, generates each batch of ticks
// and writes it to its share of the sockets; the others write the same
// batches to theirs. Writes are non-blocking; bytes a socket cannot take
// wait in a per-socket backlog (capped at 8 MiB, beyond which ticks are
// dropped and show up as gaps).
//
// Thread-safety: runs on its own thread; public members may be called from
// any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

class RawFanout {
public:
  explicit RawFanout(int con_id);
  ~RawFanout();
  RawFanout(const RawFanout&) = delete;
  RawFanout& operator=(const RawFanout&) = delete;

  std::uint16_t port() const { return port_; }
  void set_rate(double per_second);
  std::uint64_t sent() const { return sent_.load(); }
  std::map<int, std::uint64_t> last_seqs() const;

private:
  /// What the generating thread hands to another writer thread.
  struct Writer {
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<int> new_fds;
    std::deque<std::shared_ptr<const std::string>> batches;
    std::thread thread;
  };

  void run();
  void run_writer(Writer& w);

  int con_id_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<double> rate_{0.0};
  std::atomic<std::uint64_t> rate_epoch_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> last_seq_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Writer>> writers_; // the threads beside run()'s
  std::thread thread_;
};

} // namespace bench
