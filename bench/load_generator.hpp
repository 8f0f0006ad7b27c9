// LoadGenerator: N streaming clients (SSE or WebSocket) on one epoll thread.
// Each client sends one GET (or WebSocket upgrade) and then only reads, in
// large reads, scanning the bytes for the stamped ticks (stamped_tick.hpp):
// per tick it records the latency (read time - send time) and counts the
// ticks whose sequence number lies in the current measurement window.
// WebSocket frames are parsed (server frames are unmasked); pings are
// answered. Nothing else is parsed: this is a meter, not a client library.
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include "latency_histogram.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

enum class Transport { sse, ws };

struct ClientSpec {
  std::string path; // "/stream/1001/BidAsk" or "/ws/stream/1001/BidAsk"
  int con_id = 0;   // the contract whose ticks it receives
};

/// What the clients saw in one measurement window.
struct WindowStats {
  LatencyHistogram latency;
  std::uint64_t delivered = 0; // ticks received with seq in the window
  std::uint64_t expected = 0;  // window ticks x clients of each contract
  std::uint64_t gaps = 0;      // sequence numbers skipped inside a stream
  std::uint64_t bytes = 0;     // bytes read
};

class LoadGenerator {
public:
  LoadGenerator(std::uint16_t port, Transport transport, std::vector<ClientSpec> clients,
                int max_connecting = 256);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  /// Clients whose stream is open (HTTP 200 / 101 received).
  int streaming() const { return streaming_.load(); }
  /// Clients that failed to connect, were refused, or were closed.
  int failed() const { return failed_.load(); }
  /// Nanoseconds (now_ns) when the last client got its 200 / 101.
  std::uint64_t last_open_ns() const { return last_open_ns_.load(); }

  /// Starts a window: ticks after `base` (the feed's last sequence number
  /// per contract) count; counters and the histogram are cleared.
  void start_window(const std::map<int, std::uint64_t>& base);
  /// Ends the window at `end` (the feed's last numbers once it paused).
  WindowStats window(const std::map<int, std::uint64_t>& end) const;
  /// CPU seconds of the load generator's thread.
  double cpu_seconds() const { return cpu_seconds_.load(); }

private:
  struct Conn;
  void run();
  void start_connects();
  void on_event(Conn& c, std::uint32_t events);
  void on_stream_bytes(Conn& c, char* data, std::size_t n, std::uint64_t t);
  void scan_ticks(Conn& c, const char* p, std::size_t n, std::uint64_t t);
  void fail(Conn& c);

  std::uint16_t port_;
  Transport transport_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::size_t next_connect_ = 0;
  int connecting_ = 0;
  int max_connecting_;
  int epoll_fd_ = -1;
  std::vector<char> read_buf_;

  std::atomic<int> streaming_{0};
  std::atomic<int> failed_{0};
  std::atomic<std::uint64_t> last_open_ns_{0};
  std::atomic<double> cpu_seconds_{0.0};
  std::atomic<bool> stop_{false};

  mutable std::mutex mutex_; // guards the window state below and Conn counters
  LatencyHistogram latency_;
  std::uint64_t gaps_ = 0;
  std::uint64_t bytes_ = 0;

  std::thread thread_;
};

} // namespace bench
