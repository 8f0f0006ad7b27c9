// DeltaSession (delta_session.hpp): its end (limit, timeout, the Hub's
// end, a slow consumer) and its socket (writes, keep-alives, timers, the
// close). Split from delta_session.cpp by role.
#include "http/delta_session.hpp"

#include "http/slow_close.hpp"
#include "http/sse_timing.hpp"
#include "stream/sse_events.hpp"
#include "stream/tick_json.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace http {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using namespace sse_timing; // the SSE session's timings, for the same behaviour

void release_if_big(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

} // namespace

// ------------------------------------------------------------ the end

void DeltaSession::finish(std::string_view reason) {
  if (phase_ != State::streaming && phase_ != State::history) return;
  if (end_reason_.empty()) end_reason_ = std::string(reason);
  out_ += stream::sse_frame(std::nullopt,
                            stream::complete_event_json(request_.delta.contract_id,
                                                        stream::iso_now(), reason, trades_sent_));
  after_finished();
  pump();
}

void DeltaSession::on_end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  if (phase_ != State::streaming && phase_ != State::history) return;
  if (phase_ == State::streaming) {
    // What the logs got before the end still goes out first.
    for (auto& l : lanes_) l.client.read(out_, SIZE_MAX, std::chrono::steady_clock::now());
    feed_.flush(fed_);
    emit(out_, "live");
  }
  switch (reason) {
  case stream::EndReason::stopped: return finish("stopped");
  case stream::EndReason::shutdown: return finish("shutdown");
  case stream::EndReason::failed:
    if (why) append_error(out_, why->code, why->message, why->details);
    else append_error(out_, "INTERNAL_ERROR", "The upstream subscription failed", "Retry");
    end_reason_ = "failed";
    after_finished();
    pump();
  }
}

void DeltaSession::after_finished() {
  if (phase_ == State::streaming || phase_ == State::history) phase_ = State::finished;
  for (auto& l : lanes_) l.client.detach();
  leave_hub();
  timeout_timer_.cancel();
  flush_timer_.cancel();
}

void DeltaSession::slow_consumer() {
  // `error` SLOW_CONSUMER (once: the first lane writes it).
  for (auto& l : lanes_) l.client.end_slow(out_);
  end_reason_ = "slow consumer";
  after_finished();
  spdlog::warn("delta stream {} {}: slow consumer ({} ticks dropped), closing",
               request_.delta.contract_id, request_.remote,
               lanes_[0].client.dropped() + lanes_[1].client.dropped());
  close_when_reading_stops(close_timer_, stream_.socket(), kSlowConsumerGrace,
                           std::chrono::steady_clock::now() + kSlowConsumerMax,
                           [self = shared_from_this()] {
                             if (self->phase_ != State::closed) self->terminate("slow consumer");
                           });
}

// ------------------------------------------------------------ the socket

void DeltaSession::pump() {
  if (write_pending_ || phase_ == State::closing || phase_ == State::closed ||
      phase_ == State::opening)
    return;
  if (phase_ == State::streaming) read_live();
  if (out_.empty()) {
    if (phase_ == State::finished || phase_ == State::refused) finish_socket();
    else if (phase_ == State::history) history_next();
    else if (phase_ == State::streaming && lanes_[0].client.at_head() && lanes_[1].client.at_head())
      for (auto& l : lanes_) l.client.caught_up();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  release_if_big(out_);
  write_pending_ = true;
  last_write_ = std::chrono::steady_clock::now();
  asio::async_write(stream_.socket(), asio::buffer(writing_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->on_write(ec);
                    });
  arm_timer();
}

void DeltaSession::on_write(boost::system::error_code ec) {
  write_pending_ = false;
  writing_.clear();
  release_if_big(writing_);
  if (ec) return terminate("write failed");
  pump();
}

void DeltaSession::do_read() {
  stream_.socket().async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (!ec) { // a client has nothing to say on an SSE response
          if (self->phase_ != State::closed) self->do_read();
          return;
        }
        self->terminate(self->phase_ == State::closing ? "finished" : "client closed");
      });
}

void DeltaSession::arm_timer() {
  const auto now = std::chrono::steady_clock::now();
  const auto due = write_pending_
                       ? now + kBehindCheck
                       : last_write_ + std::chrono::seconds(state_->config.keepalive_seconds);
  timer_.expires_at(std::max(due, now + 10ms));
  timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timer(ec); });
}

void DeltaSession::on_timer(boost::system::error_code ec) {
  if (ec || (phase_ != State::streaming && phase_ != State::finished && phase_ != State::history))
    return;
  const auto now = std::chrono::steady_clock::now();
  if (write_pending_) {
    if (now - last_write_ >= kWriteTimeout) return terminate("write timed out");
    if (phase_ == State::streaming) {
      for (auto& l : lanes_) l.client.skip_if_behind(now);
      for (auto& l : lanes_)
        if (l.client.slow(now)) return slow_consumer();
    }
  } else if (phase_ != State::finished &&
             now - last_write_ >= std::chrono::seconds(state_->config.keepalive_seconds)) {
    out_ += stream::sse_keepalive();
    pump();
  }
  if (phase_ == State::streaming || phase_ == State::finished || phase_ == State::history)
    arm_timer();
}

void DeltaSession::on_timeout(boost::system::error_code ec) {
  if (ec) return;
  if (phase_ == State::streaming) {
    for (auto& l : lanes_) l.client.read(out_, SIZE_MAX, std::chrono::steady_clock::now());
    feed_.flush(fed_);
    emit(out_, "live");
  }
  finish("timeout");
}

void DeltaSession::leave_hub() {
  for (auto& l : lanes_) {
    if (!l.in_hub) continue;
    l.in_hub = false;
    state_->hub->close(l.stream_id);
  }
}

void DeltaSession::finish_socket() {
  phase_ = State::closing;
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close_timer_.expires_after(kLingerAfterLast);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->terminate("finished");
  });
}

void DeltaSession::terminate(const char* why) {
  if (phase_ == State::closed) return;
  const bool opened = phase_ != State::opening && phase_ != State::refused;
  phase_ = State::closed;
  for (auto& l : lanes_) l.client.detach();
  leave_hub();
  timeout_timer_.cancel();
  timer_.cancel();
  close_timer_.cancel();
  flush_timer_.cancel();
  boost::system::error_code ignored;
  stream_.socket().close(ignored);
  --state_->open_streams;
  if (opened)
    spdlog::info("delta stream {} {} ended: {}; {} trades sent ({} from the record), {}",
                 request_.delta.contract_id, request_.remote,
                 end_reason_.empty() ? std::string(why) : end_reason_, trades_sent_, record_trades_,
                 why);
}

} // namespace http
