#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace bench {
namespace {

constexpr std::size_t kBuffer = 1024 * 1024;

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int size = 4 * 1024 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

/// Decodes a chunked body held whole in `in`; nullopt when malformed.
std::optional<std::string> dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    const auto size = std::strtoull(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

/// The unsigned number after `"key":` at or after `from`; advances `from`.
std::optional<double> number_after(const std::string& s, std::string_view key, std::size_t& from) {
  const auto at = s.find(key, from);
  if (at == std::string::npos) return std::nullopt;
  from = at + key.size();
  return std::strtod(s.c_str() + from, nullptr);
}

/// Counts what marks a tick in a page body, across the pieces it comes in.
class TickCounter {
public:
  explicit TickCounter(HistoryFormat f) : format_(f) {}
  void feed(const char* p, std::size_t n) {
    if (format_ != HistoryFormat::json) {
      for (const char* end = p + n; (p = static_cast<const char*>(std::memchr(p, '\n', end - p)));
           ++p)
        ++count_;
      return;
    }
    // A "seq": split between two pieces starts in the carried tail (shorter
    // than the key, so no whole key is in it) and ends in the new bytes.
    std::string joined = carry_;
    joined.append(p, std::min<std::size_t>(n, kKey.size() - 1));
    for (std::size_t i = 0; i < carry_.size(); ++i)
      if (joined.compare(i, kKey.size(), kKey) == 0) ++count_;
    const std::string_view body(p, n);
    for (std::size_t at = 0; (at = body.find(kKey, at)) != std::string_view::npos;
         at += kKey.size())
      ++count_;
    const std::size_t last = std::min<std::size_t>(n, kKey.size() - 1);
    carry_.append(p + n - last, last);
    if (carry_.size() > kKey.size() - 1) carry_.erase(0, carry_.size() - (kKey.size() - 1));
  }
  std::uint64_t ticks() const {
    if (format_ == HistoryFormat::csv) return count_ > 0 ? count_ - 1 : 0; // the header row
    return count_;
  }

private:
  static constexpr std::string_view kKey = "\"seq\":";
  HistoryFormat format_;
  std::uint64_t count_ = 0;
  std::string carry_;
};

} // namespace

std::string header_value(const std::string& headers, const std::string& name) {
  std::size_t line = 0;
  while (line < headers.size()) {
    const auto eol = headers.find("\r\n", line);
    const std::string_view h(headers.data() + line,
                             (eol == std::string::npos ? headers.size() : eol) - line);
    const auto colon = h.find(':');
    if (colon == name.size() && std::equal(name.begin(), name.end(), h.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      auto v = h.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    if (eol == std::string::npos) break;
    line = eol + 2;
  }
  return "";
}

HttpResponse http_get(std::uint16_t port, const std::string& path) {
  HttpResponse r;
  const int fd = connect_loopback(port);
  if (fd < 0) return r;
  std::string raw;
  if (send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      raw.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.headers = raw.substr(0, end + 2);
  std::string body = raw.substr(end + 4);
  if (header_value(r.headers, "Transfer-Encoding") == "chunked") {
    auto plain = dechunk(body);
    if (!plain) return r;
    body = std::move(*plain);
  }
  r.body = std::move(body);
  r.status = std::atoi(raw.c_str() + 9);
  return r;
}

TrackedSample sample_tracked(std::uint16_t port) {
  TrackedSample s;
  const auto r = http_get(port, "/tracked");
  if (r.status != 200) return s;
  const std::string& b = r.body;
  std::size_t at = 0;
  // Each stream: "ticks_recorded":N ... "recorder_lag":{"ticks":N,"seconds":S} ... "open":N
  while (auto rec = number_after(b, "\"ticks_recorded\":", at)) {
    s.ticks_recorded += static_cast<std::uint64_t>(*rec);
    const auto lag = number_after(b, "\"recorder_lag\":{\"ticks\":", at);
    const auto lag_s = number_after(b, "\"seconds\":", at);
    const auto open = number_after(b, "\"open\":", at);
    const auto filled = number_after(b, "\"filled\":", at);
    const auto partial = number_after(b, "\"partial\":", at);
    const auto unfillable = number_after(b, "\"unfillable\":", at);
    if (!lag || !lag_s || !open || !filled || !partial || !unfillable) return s;
    s.gaps += static_cast<std::uint64_t>(*open + *filled + *partial + *unfillable);
    s.lag_ticks = std::max(s.lag_ticks, static_cast<std::uint64_t>(*lag));
    s.lag_seconds = std::max(s.lag_seconds, *lag_s);
    s.gaps_open += static_cast<std::uint64_t>(*open);
  }
  const auto rec_at = b.find("\"recorder\":");
  if (rec_at == std::string::npos) return s;
  at = rec_at;
  const auto status_at = b.find("\"status\":\"", at);
  if (status_at != std::string::npos) {
    const auto from = status_at + 10;
    s.status = b.substr(from, b.find('"', from) - from);
  }
  const auto pending = number_after(b, "\"pending_ticks\":", at);
  s.pending_ticks = pending ? static_cast<std::uint64_t>(*pending) : 0;
  s.ok = true;
  return s;
}

const char* format_name(HistoryFormat f) {
  switch (f) {
  case HistoryFormat::json: return "json";
  case HistoryFormat::ndjson: return "ndjson";
  case HistoryFormat::csv: return "csv";
  }
  return "?";
}

HistoryReader::HistoryReader(std::uint16_t port) : port_(port), in_(kBuffer) {}

HistoryReader::~HistoryReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool HistoryReader::connect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = connect_loopback(port_);
  begin_ = end_ = 0;
  return fd_ >= 0;
}

bool HistoryReader::fill() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == in_.size()) {
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == in_.size()) return false; // a header or chunk line that never ends
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, in_.data() + end_, in_.size() - end_, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    end_ += static_cast<std::size_t>(n);
    return true;
  }
}

HistoryPage HistoryReader::get(const std::string& path, HistoryFormat format) {
  HistoryPage page;
  if ((fd_ < 0 && !connect()) ||
      !send_all(fd_, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
    // A keep-alive connection the server closed: one retry on a new one.
    if (!connect() || !send_all(fd_, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) {
      page.error = "cannot send the request";
      return page;
    }
  }
  // Up to `until` in the buffer, reading more as needed.
  const auto take_until = [&](std::string_view until) -> std::optional<std::string> {
    for (;;) {
      const std::string_view have(in_.data() + begin_, end_ - begin_);
      const auto at = have.find(until);
      if (at != std::string_view::npos) {
        std::string out(have.substr(0, at));
        begin_ += at + until.size();
        return out;
      }
      if (!fill()) return std::nullopt;
    }
  };
  const auto headers = take_until("\r\n\r\n");
  if (!headers || headers->size() < 12) {
    page.error = "no response headers";
    return page;
  }
  page.status = std::atoi(headers->c_str() + 9);
  page.next = header_value(*headers + "\r\n", "X-Next-Cursor");
  TickCounter counter(format);
  std::string tail; // the end of a json body, where "next" is
  const auto consume = [&](std::uint64_t size) -> bool {
    while (size > 0) {
      if (begin_ == end_ && !fill()) return false;
      const std::size_t n = std::min<std::uint64_t>(size, end_ - begin_);
      const char* p = in_.data() + begin_;
      counter.feed(p, n);
      if (format == HistoryFormat::json) {
        tail.append(p, n);
        if (tail.size() > 8192) tail.erase(0, tail.size() - 4096);
      }
      page.bytes += n;
      begin_ += n;
      size -= n;
    }
    return true;
  };
  bool complete = false;
  if (header_value(*headers + "\r\n", "Transfer-Encoding") == "chunked") {
    for (;;) {
      const auto line = take_until("\r\n");
      if (!line) break;
      const auto size = std::strtoull(line->c_str(), nullptr, 16);
      if (size == 0) {
        complete = take_until("\r\n").has_value(); // no trailers
        break;
      }
      if (!consume(size) || !take_until("\r\n")) break;
    }
  } else {
    const auto length = header_value(*headers + "\r\n", "Content-Length");
    complete = consume(std::strtoull(length.c_str(), nullptr, 10));
  }
  if (!complete) {
    page.error = "the body ended early";
    ::close(fd_);
    fd_ = -1;
    return page;
  }
  if (header_value(*headers + "\r\n", "Connection") == "close") {
    ::close(fd_);
    fd_ = -1;
  }
  if (page.status != 200) {
    page.error = "HTTP " + std::to_string(page.status);
    return page;
  }
  page.ticks = counter.ticks();
  if (format == HistoryFormat::json) {
    const auto at = tail.rfind("\"next\":");
    if (at == std::string::npos) {
      page.error = "no \"next\" in the json page";
    } else if (tail.compare(at + 7, 1, "\"") == 0) {
      const auto from = at + 8;
      page.next = tail.substr(from, tail.find('"', from) - from);
    }
  }
  return page;
}

} // namespace bench
