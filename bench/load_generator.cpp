#include "load_generator.hpp"

#include "proc_stats.hpp"
#include "stamped_tick.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bench {
namespace {

constexpr std::size_t kReadSize = 256 * 1024;
constexpr std::size_t kMaxCarry = 1024 * 1024;

/// Parses the unsigned decimal integer at p (digits may end in ".0").
std::uint64_t parse_uint(const char* p, const char* end) {
  std::uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<std::uint64_t>(*p++ - '0');
  return v;
}

} // namespace

struct LoadGenerator::Conn {
  enum class State { waiting, connecting, headers, streaming, dead };
  int fd = -1;
  std::size_t index = 0; // in conns_, the epoll key
  ClientSpec spec;
  State state = State::waiting;
  std::string carry;          // bytes of an incomplete event / frame / header
  bool in_window = false;     // streaming when the window started
  std::uint64_t base = 0;     // window: count seq > base
  std::uint64_t last_seq = 0; // highest sequence number seen
  std::uint64_t received = 0; // window ticks received
};

LoadGenerator::LoadGenerator(std::uint16_t port, Transport transport,
                             std::vector<ClientSpec> clients, int max_connecting)
    : port_(port), transport_(transport), max_connecting_(max_connecting),
      read_buf_(kMaxCarry + kReadSize) {
  for (auto& spec : clients) {
    auto c = std::make_unique<Conn>();
    c->spec = std::move(spec);
    c->index = conns_.size();
    conns_.push_back(std::move(c));
  }
  epoll_fd_ = ::epoll_create1(0);
  if (epoll_fd_ < 0) throw std::runtime_error("epoll_create1 failed");
  thread_ = std::thread([this] { run(); });
}

LoadGenerator::~LoadGenerator() {
  stop_ = true;
  thread_.join();
  for (auto& c : conns_)
    if (c->fd >= 0) ::close(c->fd);
  ::close(epoll_fd_);
}

void LoadGenerator::fail(Conn& c) {
  if (c.state == Conn::State::dead) return;
  if (c.state == Conn::State::streaming) --streaming_;
  if (c.state == Conn::State::connecting || c.state == Conn::State::headers) --connecting_;
  c.state = Conn::State::dead;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  ++failed_;
}

void LoadGenerator::start_connects() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (connecting_ < max_connecting_ && next_connect_ < conns_.size()) {
    auto& c = *conns_[next_connect_];
    epoll_event ev{};
    ev.data.u64 = next_connect_++;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c.fd < 0) {
      c.state = Conn::State::dead;
      ++failed_;
      continue;
    }
    const int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno != EINPROGRESS) {
      ::close(c.fd);
      c.fd = -1;
      c.state = Conn::State::dead;
      ++failed_;
      continue;
    }
    c.state = Conn::State::connecting;
    ++connecting_;
    ev.events = EPOLLOUT | EPOLLIN;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  }
}

void LoadGenerator::run() {
  std::vector<epoll_event> events(1024);
  std::uint64_t iterations = 0;
  while (!stop_) {
    start_connects();
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 10);
    for (int i = 0; i < n; ++i) on_event(*conns_[events[i].data.u64], events[i].events);
    if (n <= 0 || ++iterations % 64 == 0) cpu_seconds_ = own_cpu_seconds(RUSAGE_THREAD);
  }
}

void LoadGenerator::on_event(Conn& c, std::uint32_t events) {
  if (c.state == Conn::State::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c);
    std::string req = "GET " + c.spec.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (transport_ == Transport::ws)
      req += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    else req += "Accept: text/event-stream\r\n\r\n";
    if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return fail(c);
    c.state = Conn::State::headers;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c.index;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  // The carry goes in front of the new bytes: one contiguous region to scan.
  const std::size_t carried = c.carry.size();
  std::memcpy(read_buf_.data(), c.carry.data(), carried);
  const ssize_t n = ::recv(c.fd, read_buf_.data() + carried, kReadSize, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return fail(c);
  }
  const std::uint64_t t = now_ns();
  const std::size_t total = carried + static_cast<std::size_t>(n);
  c.carry.clear();
  if (c.state == Conn::State::headers) {
    const std::string_view all(read_buf_.data(), total);
    const auto end = all.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      c.carry.assign(all);
      return;
    }
    const bool ok =
        all.substr(0, 12) == (transport_ == Transport::ws ? "HTTP/1.1 101" : "HTTP/1.1 200");
    if (!ok) return fail(c);
    c.state = Conn::State::streaming;
    --connecting_;
    ++streaming_;
    last_open_ns_ = t;
    on_stream_bytes(c, read_buf_.data() + end + 4, total - end - 4, t);
    return;
  }
  on_stream_bytes(c, read_buf_.data(), total, t);
}

void LoadGenerator::on_stream_bytes(Conn& c, char* data, std::size_t n, std::uint64_t t) {
  std::size_t used = 0;
  {
    std::lock_guard lock(mutex_);
    bytes_ += n;
    if (transport_ == Transport::sse) {
      // Whole events only: up to the last blank line.
      const std::string_view all(data, n);
      const auto end = all.rfind("\n\n");
      used = end == std::string_view::npos ? 0 : end + 2;
      scan_ticks(c, data, used, t);
    } else {
      while (n - used >= 2) {
        const auto* p = reinterpret_cast<const unsigned char*>(data + used);
        const int opcode = p[0] & 0x0f;
        std::uint64_t len = p[1] & 0x7f;
        std::size_t header = 2;
        if (len == 126) {
          if (n - used < 4) break;
          len = (std::uint64_t{p[2]} << 8) | p[3];
          header = 4;
        } else if (len == 127) {
          if (n - used < 10) break;
          len = 0;
          for (int i = 2; i < 10; ++i) len = (len << 8) | p[i];
          header = 10;
        }
        if (p[1] & 0x80) header += 4; // a masked server frame is a protocol error; skip the key
        if (n - used < header + len) break;
        const char* payload = data + used + header;
        if (opcode == 0x9) { // ping: answer with a masked pong (mask key 0)
          std::string pong;
          pong += static_cast<char>(0x8A);
          pong += static_cast<char>(0x80 | (len & 0x7f));
          pong.append(4, '\0');
          pong.append(payload, len);
          ::send(c.fd, pong.data(), pong.size(), MSG_NOSIGNAL);
        } else if (opcode == 0x8) {
          used = n;
          goto closed; // the server ended the stream (SLOW_CONSUMER, shutdown, ...)
        } else if (opcode <= 0x2) {
          scan_ticks(c, payload, len, t);
        }
        used += header + len;
      }
    }
    if (n - used > kMaxCarry) goto closed;
    c.carry.assign(data + used, n - used);
    return;
  }
closed:
  fail(c);
}

void LoadGenerator::scan_ticks(Conn& c, const char* p, std::size_t n, std::uint64_t t) {
  const char* end = p + n;
  while (p < end) {
    const void* hit =
        ::memmem(p, static_cast<std::size_t>(end - p), kStampKey.data(), kStampKey.size());
    if (!hit) return;
    const char* q = static_cast<const char*>(hit) + kStampKey.size();
    const std::uint64_t stamp = parse_uint(q, end);
    const void* seq_hit =
        ::memmem(q, static_cast<std::size_t>(end - q), kSeqKey.data(), kSeqKey.size());
    if (!seq_hit) return;
    q = static_cast<const char*>(seq_hit) + kSeqKey.size();
    const std::uint64_t seq = parse_uint(q, end);
    p = q;
    if (c.last_seq != 0 && seq > c.last_seq + 1) gaps_ += seq - c.last_seq - 1;
    if (seq > c.last_seq) c.last_seq = seq;
    if (seq <= c.base) continue;
    ++c.received;
    latency_.record(t > stamp ? t - stamp : 0);
  }
}

void LoadGenerator::start_window(const std::map<int, std::uint64_t>& base) {
  std::lock_guard lock(mutex_);
  latency_.reset();
  gaps_ = 0;
  bytes_ = 0;
  for (auto& c : conns_) {
    const auto it = base.find(c->spec.con_id);
    c->base = it == base.end() ? 0 : it->second;
    c->received = 0;
    c->in_window = c->state == Conn::State::streaming;
  }
}

WindowStats LoadGenerator::window(const std::map<int, std::uint64_t>& end) const {
  std::lock_guard lock(mutex_);
  WindowStats s;
  s.latency = latency_;
  s.gaps = gaps_;
  s.bytes = bytes_;
  for (const auto& c : conns_) {
    if (!c->in_window) continue;
    const auto it = end.find(c->spec.con_id);
    const std::uint64_t last = it == end.end() ? 0 : it->second;
    s.expected += last > c->base ? last - c->base : 0;
    s.delivered += c->received;
  }
  return s;
}

} // namespace bench
