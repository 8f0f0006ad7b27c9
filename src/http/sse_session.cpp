#include "http/sse_session.hpp"

#include "http/metrics_registry.hpp"
#include "http/response.hpp"
#include "http/server_log.hpp"
#include "http/slow_close.hpp"
#include "http/sse_timing.hpp"
#include "stream/tick_json.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

using namespace sse_timing;
/// Bytes read from the log for one write (a resume replay goes out in
/// several).
constexpr std::size_t kBatchBytes = 256 * 1024;
/// Reading rounds per pump: after them, what is left waits its turn.
constexpr int kMaxRounds = 8;
/// Rows of the record per page of a history before live.
constexpr std::size_t kHistoryPageRows = 2000;

stream::ClientStream::Options client_options(const StreamRequest& r, const ServerConfig& c) {
  stream::ClientStream::Options o;
  o.limit = r.limit;
  o.window = static_cast<std::size_t>(c.buffer_size);
  o.slow_after = std::chrono::seconds(c.slow_consumer_seconds);
  return o;
}

void release_if_big(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

} // namespace

SseSession::SseSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                       Request request)
    : stream_(std::move(stream)), executor_(stream_.get_executor()), state_(std::move(state)),
      request_(std::move(request)), client_(client_options(request_.stream, state_->config), *this),
      timeout_timer_(executor_), timer_(executor_), close_timer_(executor_),
      last_write_(std::chrono::steady_clock::now()) {
  stream_.expires_never();
  ++state_->open_streams;
}

SseSession::~SseSession() {
  client_.detach();
  if (phase_ != State::closed) --state_->open_streams;
}

void SseSession::start() {
  do_read();
  stream::OpenRequest req;
  req.con_id = request_.stream.contract_id;
  req.tick_type = request_.stream.tick_type;
  req.last_event_id = request_.stream.last_event_id;
  req.transport = "sse";
  req.remote = request_.remote;
  req.limit = request_.stream.limit;
  req.timeout_seconds = request_.stream.timeout_seconds;
  req.loop = &event_loop_of(executor_);
  auto self = shared_from_this();
  state_->hub->open(std::move(req), self, [self](stream::OpenResult r) {
    asio::post(self->executor_,
               [self, r = std::move(r)]() mutable { self->on_open(std::move(r)); });
  });
}

void SseSession::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  asio::post(executor_, [self = shared_from_this(), reason, why] { self->on_end(reason, why); });
}

// Our event loop from here on.

void SseSession::on_open(stream::OpenResult r) {
  if (r.error) {
    refuse(*r.error);
    return;
  }
  stream_id_ = r.stream_id;
  in_hub_ = true;
  if (phase_ == State::closed) { // the client left while the Hub was waiting for TWS
    leave_hub();
    return;
  }
  phase_ = State::streaming;
  contract_ = r.contract;
  stream_key_ = r.stream_key;
  // History before live: `since`, or a resume point the log no longer
  // holds (or inside a backfilled gap) that the record may have.
  const auto& req = request_.stream;
  if (state_->store) {
    if (req.last_event_id && (r.lost > 0 || req.last_event_sub > 0)) {
      history_.emplace(state_, req.contract_id, req.tick_type,
                       store::Position{*req.last_event_id, req.last_event_sub}, std::nullopt);
      history_lost_ = r.lost;
      r.lost = 0; // said after the record was read, if it lacks them too
    } else if (req.since_ms && !req.last_event_id) {
      history_.emplace(state_, req.contract_id, req.tick_type, std::nullopt, req.since_ms);
    }
  }
  batch_.control_event([&](std::string& out) {
    out = "HTTP/1.1 200 OK\r\nServer: ib-stream\r\nContent-Type: text/event-stream\r\n"
          "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n"
          "Connection: close\r\n";
    for (const auto& [name, value] : state_->cors.headers(request_.origin))
      out += name + ": " + value + "\r\n";
    out += "\r\n";
    out += stream::sse_retry(3000);
    out += stream::sse_frame(std::nullopt, info_event("stream started", {}));
    client_.start(r, out);
  });
  log_access({request_.method, request_.path, request_.query, 200, ms_since(request_.received),
              request_.remote, "sse " + r.stream_key + " #" + std::to_string(stream_id_)});
  timeout_timer_.expires_after(std::chrono::seconds(request_.stream.timeout_seconds));
  timeout_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timeout(ec); });
  arm_timer();
  if (history_) {
    phase_ = State::history;
    pump();
    history_next();
    return;
  }
  client_.attach(this);
  pump();
}

void SseSession::history_next() {
  if (phase_ != State::history || history_->fetching() || write_pending_ || !batch_.empty()) return;
  std::size_t rows = kHistoryPageRows;
  if (request_.stream.limit) {
    const auto left = static_cast<std::uint64_t>(*request_.stream.limit) - client_.ticks_sent();
    rows = static_cast<std::size_t>(std::min<std::uint64_t>(rows, left));
  }
  history_->fetch(executor_, rows, [self = shared_from_this()](std::vector<store::TickRecord> r) {
    self->on_history_page(std::move(r));
  });
}

void SseSession::on_history_page(std::vector<store::TickRecord> rows) {
  if (phase_ != State::history) return;
  history_progress_ = !rows.empty();
  if (!rows.empty()) {
    bool more = true;
    batch_.control_event([&](std::string& out) {
      for (const auto& r : rows) {
        append_sse_record_tick(out, r);
        if (!client_.history_tick()) {
          client_.finish(out, "limit_reached");
          more = false;
          break;
        }
      }
    });
    if (!more) {
      end_reason_ = "limit reached";
      after_finished();
      pump();
      return;
    }
    if (rows.size() == kHistoryPageRows) { // the record may have more
      pump();
      history_next();
      return;
    }
  }
  go_live();
}

void SseSession::go_live() {
  const auto& last = history_->last();
  if (last) {
    const auto missing = client_.go_live_after(last->seq);
    if (missing > 0 && history_progress_) {
      // The log has moved past what the record held a moment ago: the
      // recorder has written more since; read on.
      pump();
      history_next();
      return;
    }
    if (missing > 0)
      batch_.control_event([&](std::string& out) { client_.announce_lost(out, missing); });
  } else if (history_lost_ > 0) {
    batch_.control_event([&](std::string& out) { client_.announce_lost(out, history_lost_); });
  }
  phase_ = State::streaming;
  client_.attach(this);
  pump();
}

void SseSession::refuse(const stream::OpenError& e) {
  Response r = error_response(e.status, e.code, e.message, e.details);
  r.headers = state_->cors.headers(request_.origin);
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  log_access({request_.method, request_.path, request_.query, e.status, ms_since(request_.received),
              request_.remote, e.code});
  end_reason_ = "refused: " + e.code;
  if (phase_ == State::closed) return;
  phase_ = State::refused;
  batch_.control_event([&](std::string& out) { out += serialize_response(r, false); });
  pump();
}

void SseSession::on_end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  in_hub_ = false; // the Hub has forgotten us already
  if (phase_ != State::streaming && phase_ != State::history) return;
  // What the log got before the end still goes out first.
  if (phase_ == State::streaming)
    client_.read_sse(batch_, kBatchBytes, std::chrono::steady_clock::now());
  if (end_reason_.empty())
    end_reason_ = reason == stream::EndReason::stopped    ? "stopped"
                  : reason == stream::EndReason::shutdown ? "shutdown"
                                                          : "failed";
  batch_.control_event([&](std::string& out) {
    switch (reason) {
    case stream::EndReason::stopped: client_.finish(out, "stopped"); break;
    case stream::EndReason::shutdown: client_.finish(out, "shutdown"); break;
    case stream::EndReason::failed:
      if (why) client_.fail(out, why->code, why->message, why->details);
      else
        client_.fail(out, "INTERNAL_ERROR", "The upstream subscription failed",
                     "Retry the request");
      break;
    }
  });
  after_finished();
  pump();
}

void SseSession::on_log_advanced() {
  if (phase_ == State::streaming && !write_pending_) pump();
}

void SseSession::pump() {
  auto& socket = stream_.socket();
  for (int round = 0;; ++round) {
    if (write_pending_ || phase_ == State::closing || phase_ == State::closed ||
        phase_ == State::opening)
      return;
    if (phase_ == State::streaming) {
      const auto now = std::chrono::steady_clock::now();
      client_.read_sse(batch_, kBatchBytes, now);
      if (client_.finished()) {
        if (end_reason_.empty()) end_reason_ = "limit reached";
        after_finished();
      } else if (client_.behind() && client_.slow(now)) {
        slow_consumer();
      }
    }
    if (batch_.empty()) {
      if (phase_ == State::finished || phase_ == State::refused) finish_socket();
      else if (phase_ == State::history) history_next();
      else if (client_.at_head()) client_.caught_up(); // everything read went out
      return;
    }
    if (round == kMaxRounds) {
      // A client that keeps the socket busy must not hold the loop: the
      // rest goes after the other sessions had their turn.
      asio::post(executor_, [self = shared_from_this()] { self->pump(); });
      return;
    }
    last_write_ = std::chrono::steady_clock::now();
    // The oldest live tick of this write, for the delivery latency.
    if (const auto r = client_.take_oldest_received(); r != 0 && written_received_ns_ == 0)
      written_received_ns_ = r;
    boost::system::error_code ec;
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    // The socket takes the batch at once, usually: the log's frames go from
    // the log's memory. Asio hands at most 64 buffers to one system call.
    while (!ec && !batch_.empty()) {
      buffers_.clear();
      for (std::size_t i = 0; i < batch_.pieces.size() && i < 64; ++i) {
        const auto p = batch_.piece(i);
        buffers_.emplace_back(p.data(), p.size());
      }
      const std::size_t taken = socket.write_some(buffers_, ec);
      if (!ec) batch_.consume(taken);
      if (!ec && taken == 0) ec = asio::error::would_block;
    }
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      terminate("write failed");
      return;
    }
    if (batch_.empty()) {
      batch_.clear();
      observe_delivery(std::exchange(written_received_ns_, 0));
      continue;
    }
    // The rest waits for the socket: copied (the log may drop its chunks
    // meanwhile), one asynchronous write, and nothing more is read from the
    // log until it completes.
    writing_.clear();
    for (std::size_t i = 0; i < batch_.pieces.size(); ++i) writing_ += batch_.piece(i);
    batch_.clear();
    release_if_big(batch_.control);
    write_pending_ = true;
    asio::async_write(socket, asio::buffer(writing_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        self->on_write(ec, n);
                      });
    arm_timer(); // the write timeout and the window checks
    return;
  }
}

void SseSession::on_write(boost::system::error_code ec, std::size_t) {
  write_pending_ = false;
  writing_.clear();
  release_if_big(writing_);
  if (ec) {
    terminate("write failed");
    return;
  }
  observe_delivery(std::exchange(written_received_ns_, 0));
  pump();
}

void SseSession::after_finished() {
  if (phase_ == State::streaming || phase_ == State::history) phase_ = State::finished;
  client_.detach();
  leave_hub(); // no more deliveries: limit, timeout, slow consumer, Hub end
  timeout_timer_.cancel();
}

void SseSession::slow_consumer() {
  batch_.control_event([&](std::string& out) { client_.end_slow(out); });
  end_reason_ = "slow consumer";
  after_finished();
  spdlog::warn("sse stream #{} {}: slow consumer ({} ticks dropped), closing", stream_id_,
               request_.remote, client_.dropped());
  // Closed soon, unless it is still reading what was written before its
  // error (it is owed the error): then a little later, a minute at most.
  close_when_reading_stops(close_timer_, stream_.socket(), kSlowConsumerGrace,
                           std::chrono::steady_clock::now() + kSlowConsumerMax,
                           [self = shared_from_this()] {
                             if (self->phase_ != State::closed) self->terminate("slow consumer");
                           });
}

void SseSession::do_read() {
  stream_.socket().async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->on_read(ec, n);
      });
}

void SseSession::on_read(boost::system::error_code ec, std::size_t) {
  if (!ec) { // a client has nothing more to say on an SSE response: ignore it
    if (phase_ != State::closed) do_read();
    return;
  }
  terminate(phase_ == State::closing ? "finished" : "client closed");
}

void SseSession::arm_timer() {
  // Idle: the next keep-alive after the last write. A write in flight: a
  // look every kBehindCheck (window, slow consumer, write timeout).
  const auto now = std::chrono::steady_clock::now();
  const auto due = write_pending_
                       ? now + kBehindCheck
                       : last_write_ + std::chrono::seconds(state_->config.keepalive_seconds);
  timer_.expires_at(std::max(due, now + 10ms));
  timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
}

void SseSession::on_timer(boost::system::error_code ec) {
  if (ec || (phase_ != State::streaming && phase_ != State::finished && phase_ != State::history))
    return;
  const auto now = std::chrono::steady_clock::now();
  if (write_pending_) {
    if (now - last_write_ >= kWriteTimeout) {
      terminate("write timed out");
      return;
    }
    if (phase_ == State::streaming) {
      client_.skip_if_behind(now);
      if (client_.slow(now)) slow_consumer();
    }
  } else if (phase_ == State::streaming &&
             now - last_write_ >= std::chrono::seconds(state_->config.keepalive_seconds)) {
    // Through the batch: one write in flight.
    batch_.control_event([](std::string& out) { out += stream::sse_keepalive(); });
    pump();
  }
  if (phase_ == State::streaming || phase_ == State::finished || phase_ == State::history)
    arm_timer();
}

void SseSession::on_timeout(boost::system::error_code ec) {
  if (ec || (phase_ != State::streaming && phase_ != State::history)) return;
  if (phase_ == State::streaming)
    client_.read_sse(batch_, kBatchBytes, std::chrono::steady_clock::now());
  if (!client_.finished()) end_reason_ = "timeout";
  batch_.control_event([&](std::string& out) { client_.finish(out, "timeout"); });
  after_finished();
  pump();
}

void SseSession::leave_hub() {
  if (!in_hub_) return;
  in_hub_ = false;
  state_->hub->close(stream_id_);
}

void SseSession::finish_socket() {
  // Everything is written: end the response by closing our side, then let
  // the client close its own (our pending read sees EOF) or force it soon.
  phase_ = State::closing;
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close_timer_.expires_after(kLingerAfterLast);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->terminate("finished");
  });
}

void SseSession::terminate(const char* why) {
  if (phase_ == State::closed) return;
  const bool opened = stream_id_ != 0;
  phase_ = State::closed;
  client_.detach();
  leave_hub();
  timeout_timer_.cancel();
  timer_.cancel();
  close_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().close(ignored);
  --state_->open_streams;
  if (opened)
    spdlog::info("sse stream #{} {} ({}:{}) ended: {}; {} ticks sent, {} dropped, {}", stream_id_,
                 request_.remote, request_.stream.contract_id,
                 tws::to_string(request_.stream.tick_type),
                 end_reason_.empty() ? std::string(why) : end_reason_, client_.ticks_sent(),
                 client_.dropped(), why);
}

// ------------------------------------------------------------------ encoder

std::string SseSession::info_event(std::string_view message, std::string_view members) const {
  return stream::info_event_json(request_.stream.contract_id, stream::iso_now(), message,
                                 request_.stream.tick_type, stream_key_, contract_, members);
}

void SseSession::tick(std::string& out, const stream::LogEntry& e, stream::LogCursor&,
                      std::uint64_t) {
  out += e.sse;
}

void SseSession::notice(std::string& out, const stream::LogEntry& e) { out += e.sse; }

void SseSession::info(std::string& out, std::string_view code, std::string_view message,
                      std::string_view extra_json) {
  std::string members = "\"code\":";
  stream::append_json_string(members, code);
  if (!extra_json.empty()) {
    members += ',';
    members += extra_json;
  }
  out += stream::sse_frame(std::nullopt, info_event(message, members));
}

void SseSession::error(std::string& out, std::string_view code, std::string_view message,
                       std::string_view details) {
  out += stream::sse_frame(std::nullopt,
                           stream::error_event_json(request_.stream.contract_id, stream::iso_now(),
                                                    code, message, details));
}

void SseSession::complete(std::string& out, std::string_view reason, std::uint64_t total_ticks) {
  out += stream::sse_frame(std::nullopt,
                           stream::complete_event_json(request_.stream.contract_id,
                                                       stream::iso_now(), reason, total_ticks));
}

} // namespace http
