// bus::Publisher, history for the edges (README "Scale-out"): an edge
// forwards GET /history/... to the leading publisher (`ibs.ctl.http`), which
// asks its own HTTP listener on loopback (with its own API key) and hands
// the raw response back one piece at a time, each piece pulled by the edge
// (`ibs.ctl.http.next`): the edge's client gets exactly the publisher's
// answer, at the pace it reads. Runs on the two subscriptions' delivery
// threads; the transfers are shared under a mutex, each used by one
// request at a time.
#include "bus/publisher_impl.hpp"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bus {

namespace {

constexpr std::size_t kPiece = 256 * 1024;       // at most this much per reply
constexpr std::size_t kEnough = 64 * 1024;       // ... and no waiting once this much is there
constexpr std::size_t kMaxTransfers = 8;         // forwarded requests at once
constexpr auto kIdle = std::chrono::seconds(30); // a transfer no edge pulls is dropped

bool plain_target(const std::string& t) {
  return (t.rfind("/history/", 0) == 0 || t == "/tracked") && t.size() < 8192 &&
         t.find_first_of(" \r\n\t") == std::string::npos;
}

/// Connects to the publisher's own listener; -1 and `error` when it cannot.
int connect_loopback(const std::string& host, std::uint16_t port, std::string& error) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    // A host name (localhost): loopback.
    inet_pton(AF_INET, "127.0.0.1", &v4->sin_addr);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    error = std::string("cannot connect to its own listener: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  std::size_t sent = 0;
  while (sent < s.size()) {
    const auto n = ::send(fd, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

/// The next piece of the response: what is there (at least a byte, up to
/// kPiece). `eof`: the response ended. False: the read failed or timed out.
bool read_piece(int fd, std::string& out, bool& eof) {
  out.resize(kPiece);
  std::size_t len = 0;
  eof = false;
  while (len < kPiece) {
    if (len > 0) {
      // Something is there: more only if it comes at once.
      pollfd p{fd, POLLIN, 0};
      if (len >= kEnough || ::poll(&p, 1, 20) <= 0) break;
    }
    const auto n = ::recv(fd, out.data() + len, kPiece - len, 0);
    if (n == 0) {
      eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    len += static_cast<std::size_t>(n);
  }
  out.resize(len);
  return true;
}

} // namespace

void PublisherImpl::set_http(std::string host, std::uint16_t port,
                             std::optional<std::string> api_key) {
  std::lock_guard lock(transfers_mutex_);
  http_host_ = std::move(host);
  http_port_ = port;
  api_key_ = std::move(api_key);
}

void PublisherImpl::on_forward(Message&& m, bool first) {
  auto link = link_now();
  if (!link || m.reply.empty()) return;
  auto fail = [&](const std::string& why) { link->publish(m.reply, {}, {{"Ibs-Error", why}}); };
  const auto req = parse_forward_request(m.data);
  if (!req) return fail("malformed request");
  int fd = -1;
  if (first) {
    if (!plain_target(req->target)) return fail("only GET /history/... and /tracked are forwarded");
    std::string host, request;
    std::uint16_t port = 0;
    {
      std::lock_guard lock(transfers_mutex_);
      const auto now = Clock::now();
      for (auto it = transfers_.begin(); it != transfers_.end();) {
        if (it->second.fd >= 0 && now - it->second.used > kIdle) {
          ::close(it->second.fd);
          it = transfers_.erase(it);
        } else {
          ++it;
        }
      }
      if (transfers_.size() >= kMaxTransfers)
        return fail("too many history requests forwarded at once; retry shortly");
      if (http_port_ == 0) return fail("not listening yet");
      host = http_host_;
      port = http_port_;
      request = "GET " + req->target + " HTTP/1.1\r\nHost: " + host +
                "\r\nConnection: close\r\nUser-Agent: ib-stream-edge-forward\r\n";
      if (api_key_) request += "Authorization: Bearer " + *api_key_ + "\r\n";
      if (!req->origin.empty() && req->origin.find_first_of("\r\n") == std::string::npos)
        request += "Origin: " + req->origin + "\r\n";
      request += "\r\n";
    }
    std::string error;
    fd = connect_loopback(host, port, error);
    if (fd < 0) return fail(error);
    if (!send_all(fd, request)) {
      ::close(fd);
      return fail("cannot send the request to its own listener");
    }
  } else {
    std::lock_guard lock(transfers_mutex_);
    auto it = transfers_.find(req->id);
    if (it == transfers_.end() || it->second.fd < 0)
      return fail("no transfer " + req->id + " (it ended, or idled out)");
    fd = std::exchange(it->second.fd, -1); // this request reads it now
  }
  std::string piece;
  bool eof = false;
  const bool ok = read_piece(fd, piece, eof);
  if (!ok || eof) {
    ::close(fd);
    std::lock_guard lock(transfers_mutex_);
    transfers_.erase(req->id);
  } else {
    std::lock_guard lock(transfers_mutex_);
    transfers_[req->id] = Transfer{fd, Clock::now()};
  }
  if (!ok) return fail("reading its own answer failed or timed out");
  Headers headers;
  if (eof) headers.emplace_back("Ibs-Last", "1");
  link->publish(m.reply, piece, headers);
}

void PublisherImpl::close_transfers() {
  std::lock_guard lock(transfers_mutex_);
  for (auto& [id, t] : transfers_)
    if (t.fd >= 0) ::close(t.fd);
  transfers_.clear();
}

} // namespace bus
