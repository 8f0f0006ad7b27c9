#include "raw_fanout.hpp"

#include "stamped_tick.hpp"
#include "stream/sse_events.hpp"
#include "stream/tick_json.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {
namespace {

constexpr std::size_t kMaxBacklog = 8 * 1024 * 1024;
constexpr std::uint64_t kMaxBatch = 4096;
constexpr std::string_view kHeader =
    "HTTP/1.1 200 OK\r\nServer: ib-stream\r\nContent-Type: text/event-stream\r\n"
    "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";

struct Peer {
  int fd = -1;
  std::string backlog;
};

/// Writes what the socket takes; the rest waits in the backlog.
void push(Peer& p, std::string_view bytes) {
  if (p.fd < 0) return;
  if (p.backlog.empty()) {
    const ssize_t n = ::send(p.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN) {
      ::close(p.fd);
      p.fd = -1;
      return;
    }
    bytes.remove_prefix(n < 0 ? 0 : static_cast<std::size_t>(n));
    if (!bytes.empty() && bytes.size() <= kMaxBacklog) p.backlog.assign(bytes);
    return;
  }
  if (p.backlog.size() + bytes.size() <= kMaxBacklog) p.backlog.append(bytes);
  const ssize_t n = ::send(p.fd, p.backlog.data(), p.backlog.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n > 0) p.backlog.erase(0, static_cast<std::size_t>(n));
}

} // namespace

RawFanout::RawFanout(int con_id) : con_id_(con_id) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 4096) != 0)
    throw std::runtime_error("ceiling: cannot listen on loopback");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i) {
    auto& w = *writers_.emplace_back(std::make_unique<Writer>());
    w.thread = std::thread([this, &w] { run_writer(w); });
  }
  thread_ = std::thread([this] { run(); });
}

RawFanout::~RawFanout() {
  stop_ = true;
  for (auto& w : writers_) {
    w->wake.notify_one();
    w->thread.join();
  }
  thread_.join();
  ::close(listen_fd_);
}

void RawFanout::run_writer(Writer& w) {
  std::vector<Peer> peers;
  std::string batch;
  while (!stop_) {
    std::vector<int> fds;
    batch.clear();
    {
      std::unique_lock lock(w.mutex);
      w.wake.wait_for(lock, std::chrono::milliseconds(1),
                      [&] { return stop_ || !w.batches.empty() || !w.new_fds.empty(); });
      fds.swap(w.new_fds);
      for (const auto& b : w.batches) batch += *b;
      w.batches.clear();
    }
    for (const int fd : fds) {
      peers.push_back(Peer{fd, {}});
      push(peers.back(), kHeader);
    }
    for (auto& p : peers)
      if (!batch.empty() || !p.backlog.empty()) push(p, batch);
  }
  for (auto& p : peers)
    if (p.fd >= 0) ::close(p.fd);
}

void RawFanout::set_rate(double per_second) {
  rate_ = per_second;
  ++rate_epoch_;
}

std::map<int, std::uint64_t> RawFanout::last_seqs() const { return {{con_id_, last_seq_.load()}}; }

void RawFanout::run() {
  std::vector<Peer> peers;
  std::uint64_t epoch_seen = 0, rate_start = now_ns(), due_sent = 0, seq = 0, accepted = 0;
  std::string batch, json;
  while (!stop_) {
    const double rate = rate_.load();
    const long wait_ns =
        rate > 0 ? std::clamp(static_cast<long>(1e9 / rate), 50000L, 1000000L) : 5000000L;
    pollfd lp{listen_fd_, POLLIN, 0};
    const timespec ts{0, wait_ns};
    ::ppoll(&lp, 1, &ts, nullptr);
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0) break;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // Round robin over this thread and the writer threads.
      const auto turn = accepted++ % (writers_.size() + 1);
      if (turn == 0) {
        peers.push_back(Peer{fd, {}});
        push(peers.back(), kHeader);
      } else {
        auto& w = *writers_[turn - 1];
        const std::lock_guard lock(w.mutex);
        w.new_fds.push_back(fd);
      }
    }
    if (rate_epoch_.load() != epoch_seen) {
      epoch_seen = rate_epoch_.load();
      rate_start = now_ns();
      due_sent = 0;
    }
    if (rate <= 0) {
      for (auto& p : peers)
        if (!p.backlog.empty()) push(p, {});
      continue;
    }
    const std::uint64_t stamp = now_ns();
    const auto due = static_cast<std::uint64_t>(
        std::floor(rate * static_cast<double>(stamp - rate_start) / 1e9));
    std::uint64_t n = due > due_sent ? due - due_sent : 0;
    if (n > kMaxBatch) {
      due_sent += n - kMaxBatch;
      n = kMaxBatch;
    }
    due_sent += n;
    batch.clear();
    const std::string iso = stream::iso_now();
    for (std::uint64_t i = 0; i < n; ++i) {
      json.clear();
      stream::append_tick_json(json, stamped_tick(1, stamp, ++seq));
      batch += stream::sse_frame(seq, stream::tick_event_json(con_id_, iso, json));
    }
    if (n == 0) {
      for (auto& p : peers)
        if (!p.backlog.empty()) push(p, {});
      continue;
    }
    if (!writers_.empty()) {
      const auto shared = std::make_shared<const std::string>(batch);
      for (auto& w : writers_) {
        {
          const std::lock_guard lock(w->mutex);
          w->batches.push_back(shared);
        }
        w->wake.notify_one();
      }
    }
    for (auto& p : peers) push(p, batch);
    sent_ += n;
    last_seq_ = seq;
  }
  for (auto& p : peers)
    if (p.fd >= 0) ::close(p.fd);
}

} // namespace bench
