#include "http/sse_session.hpp"

#include "http/response.hpp"
#include "http/server_log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

/// A client that takes longer than this to accept one batch is gone
/// (checked by the keep-alive timer: no timer work per write).
constexpr auto kWriteTimeout = 30s;
/// After the last frame: how long the client may take to close its end.
constexpr auto kLingerAfterLast = 2s;
/// A slow consumer cannot read its last frames anyway: close soon.
constexpr auto kSlowConsumerGrace = 1s;

const stream::Frame& keepalive_frame() {
  static const stream::Frame f = std::make_shared<const std::string>(stream::sse_keepalive());
  return f;
}

const stream::Frame& retry_frame() {
  static const stream::Frame f = std::make_shared<const std::string>(stream::sse_retry(3000));
  return f;
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

stream::ClientStream::Options client_options(const StreamRequest& r, const ServerConfig& c) {
  return {r.contract_id, r.tick_type, r.limit, static_cast<std::size_t>(c.buffer_size), 0};
}

} // namespace

SseSession::SseSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                       Request request)
    : stream_(std::move(stream)), executor_(stream_.get_executor()), state_(std::move(state)),
      request_(std::move(request)),
      client_(client_options(request_.stream, state_->config), stream::sse_frame_format(), nullptr),
      timeout_timer_(executor_), keepalive_timer_(executor_), close_timer_(executor_),
      last_write_(std::chrono::steady_clock::now()) {
  stream_.expires_never();
  ++state_->open_streams;
}

SseSession::~SseSession() {
  if (!terminated_) --state_->open_streams;
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
  auto self = shared_from_this();
  state_->hub->open(std::move(req), self, [self](stream::OpenResult r) {
    asio::post(self->executor_,
               [self, r = std::move(r)]() mutable { self->on_open(std::move(r)); });
  });
}

// Subscriber callbacks: on the Hub's strand. They only queue in the inbox
// and post a drain when none is pending, so order is kept and a burst of
// ticks costs one hop to our strand.

void SseSession::deliver(const stream::TickEventPtr& tick) {
  enqueue({Inbound::Kind::tick, tick, std::nullopt, {}});
}

void SseSession::notify(const stream::Notice& notice) {
  enqueue({Inbound::Kind::notice, nullptr, notice, {}});
}

void SseSession::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  enqueue({Inbound::Kind::end, nullptr, why, reason});
}

void SseSession::enqueue(Inbound in) {
  if (inbox_.push(std::move(in)))
    asio::post(executor_, [self = shared_from_this()] { self->drain_inbox(); });
}

void SseSession::drain_inbox() {
  inbox_.take(draining_);
  for (auto& in : draining_) {
    if (in.kind == Inbound::Kind::end) in_hub_ = false; // the Hub has forgotten us already
    if (terminated_) continue;
    switch (in.kind) {
    case Inbound::Kind::tick: client_.on_tick(std::move(in.tick)); break;
    case Inbound::Kind::notice: client_.on_notice(*in.notice); break;
    case Inbound::Kind::end:
      if (end_reason_.empty())
        end_reason_ = in.reason == stream::EndReason::stopped    ? "stopped"
                      : in.reason == stream::EndReason::shutdown ? "shutdown"
                                                                 : "failed";
      client_.on_end(in.reason, in.notice);
      break;
    }
  }
  draining_.clear();
  if (!terminated_) after_event();
}

// Our strand from here on.

void SseSession::on_open(stream::OpenResult r) {
  if (r.error) {
    refuse(*r.error);
    return;
  }
  stream_id_ = r.stream_id;
  opened_ = true;
  in_hub_ = true;
  if (terminated_) { // the client left while the Hub was waiting for TWS
    leave_hub();
    return;
  }
  std::string head =
      "HTTP/1.1 200 OK\r\nServer: ib-stream\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\nConnection: close\r\n";
  for (const auto& [name, value] : state_->cors.headers(request_.origin))
    head += name + ": " + value + "\r\n";
  head += "\r\n";
  client_.push_control(std::make_shared<const std::string>(std::move(head)));
  client_.push_control(retry_frame());
  client_.start(r);
  log_access({request_.method, request_.path, request_.query, 200, ms_since(request_.received),
              request_.remote, "sse " + r.stream_key + " #" + std::to_string(stream_id_)});

  timeout_timer_.expires_after(std::chrono::seconds(request_.stream.timeout_seconds));
  timeout_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timeout(ec); });
  arm_keepalive();
  after_event();
}

void SseSession::refuse(const stream::OpenError& e) {
  Response r = error_response(e.status, e.code, e.message, e.details);
  r.headers = state_->cors.headers(request_.origin);
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  log_access({request_.method, request_.path, request_.query, e.status, ms_since(request_.received),
              request_.remote, e.code});
  end_reason_ = "refused: " + e.code;
  if (terminated_) return;
  client_.push_control(std::make_shared<const std::string>(serialize_response(r, false)));
  refused_ = true;
  do_write();
}

void SseSession::after_event() {
  if (client_.finished()) {
    leave_hub(); // no more deliveries: limit, timeout, slow consumer, Hub end
    if (end_reason_.empty())
      end_reason_ = client_.slow_consumer() ? "slow consumer" : "limit reached";
    if (client_.slow_consumer() && !slow_timer_armed_) {
      slow_timer_armed_ = true;
      close_timer_.expires_after(kSlowConsumerGrace);
      close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->terminate("slow consumer");
      });
    }
  }
  do_write();
}

void SseSession::do_write() {
  // The socket usually takes a batch at once (a non-blocking write): then
  // no asynchronous operation is needed. What it does not take is written
  // asynchronously, one write in flight.
  auto& socket = stream_.socket();
  for (;;) {
    if (write_pending_ || terminated_ || shutting_) return;
    if (!client_.has_frames()) {
      // Caught up: a burst's buffer is not kept for an idle client.
      if (out_.capacity() > 64 * 1024) std::string().swap(out_);
      if (client_.finished() || refused_) finish_socket();
      return;
    }
    client_.take(taken_);
    out_.clear();
    for (const auto& f : taken_) out_ += *f;
    taken_.clear();
    last_write_ = std::chrono::steady_clock::now();
    boost::system::error_code ec;
    if (!socket.non_blocking()) socket.non_blocking(true, ec);
    const std::size_t taken = ec ? 0 : socket.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      terminate("write failed");
      return;
    }
    if (!ec && taken == out_.size()) continue; // all written
    write_pending_ = true;
    asio::async_write(socket, asio::buffer(out_.data() + taken, out_.size() - taken),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        self->on_write(ec, n);
                      });
    return;
  }
}

void SseSession::on_write(boost::system::error_code ec, std::size_t) {
  write_pending_ = false;
  if (ec) {
    terminate("write failed");
    return;
  }
  do_write();
}

void SseSession::do_read() {
  // Read on the socket itself: the tcp_stream's timer belongs to the writes.
  stream_.socket().async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->on_read(ec, n);
      });
}

void SseSession::on_read(boost::system::error_code ec, std::size_t) {
  if (!ec) { // a client has nothing more to say on an SSE response: ignore it
    if (!terminated_) do_read();
    return;
  }
  client_gone_ = true;
  terminate(shutting_ ? "finished" : "client closed");
}

void SseSession::arm_keepalive() {
  // Due: the next keep-alive after the last write; with a write in flight,
  // a look at it again within the interval (on_keepalive ends a write that
  // takes longer than kWriteTimeout).
  const auto interval = std::chrono::seconds(state_->config.keepalive_seconds);
  const auto now = std::chrono::steady_clock::now();
  auto due = last_write_ + interval;
  if (write_pending_) due = std::min(last_write_ + kWriteTimeout, now + interval);
  keepalive_timer_.expires_at(std::max(due, now + 10ms));
  keepalive_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_keepalive(ec); });
}

void SseSession::on_keepalive(boost::system::error_code ec) {
  if (ec || terminated_ || shutting_) return;
  const auto interval = std::chrono::seconds(state_->config.keepalive_seconds);
  const auto since_write = std::chrono::steady_clock::now() - last_write_;
  if (write_pending_ && since_write >= kWriteTimeout) {
    terminate("write timed out");
    return;
  }
  if (!write_pending_ && since_write >= interval) {
    client_.on_idle(keepalive_frame()); // through the queue: one write in flight
    do_write();
  }
  arm_keepalive();
}

void SseSession::on_timeout(boost::system::error_code ec) {
  if (ec || terminated_) return;
  if (!client_.finished()) end_reason_ = "timeout";
  client_.on_timeout();
  after_event();
}

void SseSession::leave_hub() {
  if (!in_hub_) return;
  in_hub_ = false;
  state_->hub->close(stream_id_);
}

void SseSession::finish_socket() {
  // Everything is written: end the response by closing our side, then let
  // the client close its own (our pending read sees EOF) or force it soon.
  shutting_ = true;
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close_timer_.expires_after(kLingerAfterLast);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->terminate("finished");
  });
}

void SseSession::terminate(const char* why) {
  if (terminated_) return;
  terminated_ = true;
  leave_hub();
  timeout_timer_.cancel();
  keepalive_timer_.cancel();
  close_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().close(ignored);
  --state_->open_streams;
  if (opened_)
    spdlog::info("sse stream #{} {} ({}:{}) ended: {}; {} ticks sent, {} dropped, {}", stream_id_,
                 request_.remote, request_.stream.contract_id,
                 tws::to_string(request_.stream.tick_type),
                 end_reason_.empty() ? std::string(why) : end_reason_, client_.ticks_sent(),
                 client_.dropped(), why);
}

} // namespace http
