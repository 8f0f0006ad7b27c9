#include "sim/api_session.hpp"

#include "sim/sim_context.hpp"
#include "tws/messages.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace sim {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
/// A subscriber that stops reading is cut off here instead of growing
/// without bound (at 100k ticks/s this is several seconds of data).
constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;
/// +PACEAPI requests waiting for room; a client that floods beyond this is
/// not pacing anything, it is broken.
constexpr std::size_t kMaxPacedRequests = 100000;
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kFlushTimeout = std::chrono::seconds(5);

/// "20240120 10:15:30 EST": TWS's connection time, in the local zone.
std::string connection_time() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%d %H:%M:%S %Z", &tm);
  return std::string(buf, n);
}

bool has_option(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    const auto space = options.find(' ');
    if (options.substr(0, space) == wanted) return true;
    if (space == std::string_view::npos) break;
    options.remove_prefix(space + 1);
  }
  return false;
}

} // namespace

ApiSession::ApiSession(asio::ip::tcp::socket socket, std::shared_ptr<SimContext> ctx,
                       std::uint64_t serial)
    : socket_(std::move(socket)), ctx_(std::move(ctx)), serial_(serial), deadline_(ctx_->strand),
      pace_timer_(ctx_->strand), pacer_(ctx_->config.pacing_limit) {
  boost::system::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

void ApiSession::start() {
  deadline_.expires_after(kHandshakeTimeout);
  deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->phase_ != Phase::api) self->close("no handshake within 30 s");
  });
  do_read();
}

// ------------------------------------------------------------------ input

void ApiSession::do_read() {
  if (closed_ || closing_) return;
  char* buf = reader_.prepare(kReadChunk);
  socket_.async_read_some(asio::buffer(buf, kReadChunk),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void ApiSession::on_read(boost::system::error_code ec, std::size_t n) {
  if (closed_) return;
  if (ec) {
    close(ec == asio::error::eof ? "closed by the client" : ec.message());
    return;
  }
  reader_.commit(n);
  if (process_input()) do_read();
}

bool ApiSession::process_input() {
  for (;;) {
    if (closed_ || closing_) return false;
    if (phase_ == Phase::prefix) {
      const auto prefix = reader_.take_raw(4);
      if (!prefix) return true;
      if (*prefix != std::string_view("API\0", 4)) {
        spdlog::warn("conn {} ({}): not a TWS API client (prefix {}), closing", serial_, peer_,
                     tws::printable_payload(*prefix));
        close("bad handshake prefix");
        return false;
      }
      phase_ = Phase::versions;
      continue;
    }
    std::string_view payload;
    std::error_code fec;
    const auto status = reader_.next(payload, fec);
    if (status == tws::FrameReader::Status::need_more) return true;
    if (status == tws::FrameReader::Status::error) {
      spdlog::warn("conn {} ({}): framing lost ({}), closing", serial_, peer_, fec.message());
      close("framing lost");
      return false;
    }
    if (phase_ == Phase::versions) {
      if (!on_versions(payload)) return false;
      continue;
    }
    on_frame(payload);
  }
}

bool ApiSession::on_versions(std::string_view payload) {
  std::string_view text = payload;
  // The range is sent without a NUL; tolerate clients that add one.
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  const auto range = tws::parse_handshake_versions(text);
  if (!range) {
    spdlog::warn("conn {} ({}): bad version range '{}', closing", serial_, peer_,
                 tws::printable_payload(payload));
    close("bad version range");
    return false;
  }
  const int version = std::min(range->max_version, ctx_->config.server_version);
  if (version < std::max(range->min_version, tws::kMinServerVersion)) {
    spdlog::warn("conn {} ({}): no common version with v{}..{}, closing", serial_, peer_,
                 range->min_version, range->max_version);
    close("no common version");
    return false;
  }
  server_version_ = version;
  pace_api_ = has_option(range->options, "+PACEAPI");
  phase_ = Phase::api;
  deadline_.cancel();
  spdlog::info("conn {} ({}): handshake v{}..{}{}{} -> {}", serial_, peer_, range->min_version,
               range->max_version, range->options.empty() ? "" : " ", range->options, version);
  send(tws::encode_server_hello(version, connection_time()));
  return true;
}

void ApiSession::on_frame(std::string_view payload) {
  if (!pacer_.enabled()) {
    ctx_->requests.handle(*this, payload);
    return;
  }
  if (pace_api_) {
    if (paced_.size() >= kMaxPacedRequests) {
      spdlog::error("conn {}: more than {} paced requests queued, closing", serial_,
                    kMaxPacedRequests);
      close("paced queue overflow");
      return;
    }
    paced_.emplace_back(payload);
    drain_paced();
    return;
  }
  const auto now = Clock::now();
  const int received = pacer_.record(now);
  if (received <= pacer_.limit()) {
    ctx_->requests.handle(*this, payload);
    return;
  }
  // Over the limit without +PACEAPI: TWS rejects (and eventually drops).
  send_error(-1, 100,
             fmt::format("Max rate of messages per second has been exceeded:max={} rec={} (1)",
                         pacer_.limit(), received));
  ctx_->requests.log_dropped(*this, payload);
  const int violations = pacer_.note_violation(now);
  if (violations >= ctx_->config.pacing_violations_before_disconnect) {
    spdlog::warn("conn {} (client {}): {} seconds over the rate limit, disconnecting", serial_,
                 client_id_.value_or(-1), violations);
    close_after_flush("rate limit exceeded");
  }
}

void ApiSession::drain_paced() {
  while (!paced_.empty() && !closed_ && !closing_) {
    const auto now = Clock::now();
    if (!pacer_.has_room(now)) {
      if (pace_timer_armed_) return;
      pace_timer_armed_ = true;
      pace_timer_.expires_at(pacer_.next_room());
      pace_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->pace_timer_armed_ = false;
        if (!ec) self->drain_paced();
      });
      return;
    }
    pacer_.record(now);
    const std::string payload = std::move(paced_.front());
    paced_.pop_front();
    ctx_->requests.handle(*this, payload);
  }
}

// ------------------------------------------------------------------ output

void ApiSession::send(std::string_view frame) {
  if (closed_ || overflowed_) return;
  queued_.append(frame);
  after_queue();
}

void ApiSession::send_error(int id, int code, std::string_view text) {
  send(tws::encode(tws::ErrorMessage{id, code, std::string(text), ""}, server_version_));
}

void ApiSession::deliver(const TickFrame& frame, int req_id) {
  if (closed_ || closing_ || overflowed_) return;
  frame.append_to(queued_, req_id);
  after_queue();
}

void ApiSession::after_queue() {
  if (queued_.size() > kMaxQueuedBytes) {
    overflowed_ = true;
    spdlog::error("conn {} (client {}): {} bytes queued, the client does not read; closing",
                  serial_, client_id_.value_or(-1), queued_.size());
    asio::post(ctx_->strand, [self = shared_from_this()] { self->close("send queue overflow"); });
    return;
  }
  if (!writing_) do_write();
}

void ApiSession::do_write() {
  writing_ = true;
  in_flight_.swap(queued_);
  queued_.clear();
  asio::async_write(socket_, asio::buffer(in_flight_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->on_write(ec);
                    });
}

void ApiSession::on_write(boost::system::error_code ec) {
  writing_ = false;
  in_flight_.clear();
  if (closed_) return;
  if (ec) {
    close("write failed: " + ec.message());
    return;
  }
  if (!queued_.empty()) do_write();
  else if (closing_) close(closing_reason_);
}

// ------------------------------------------------------------------ closing

void ApiSession::close_after_flush(std::string_view why) {
  if (closed_ || closing_) return;
  closing_ = true;
  closing_reason_ = std::string(why);
  paced_.clear();
  if (!writing_ && queued_.empty()) {
    close(why);
    return;
  }
  // A client that never reads must not keep the socket forever.
  deadline_.expires_after(kFlushTimeout);
  deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->close(self->closing_reason_ + " (flush timed out)");
  });
}

void ApiSession::close(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  spdlog::info("conn {} ({}, client {}) closed: {}", serial_, peer_,
               client_id_ ? std::to_string(*client_id_) : "-", why);
  ctx_->feed.cancel_all(*this);
  ctx_->sessions.remove(*this, Clock::now());
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  deadline_.cancel();
  pace_timer_.cancel();
  paced_.clear();
  queued_.clear();
}

} // namespace sim
