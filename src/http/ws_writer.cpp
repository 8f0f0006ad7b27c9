// WsConnection, the writer: control messages and the subscriptions' logs
// into the socket buffer, whole frames, one socket write per batch; the
// window and slow-consumer rule of stream::ClientStream, per connection
// (see ws_connection.hpp). The delivery latency (GET /metrics) is observed
// when the socket buffer has handed everything to the kernel, for the
// oldest live tick it held.
#include "http/ws_connection.hpp"

#include "http/metrics_registry.hpp"
#include "stream/tick_json.hpp"
#include "ws/ws_messages.hpp"

#include <spdlog/spdlog.h>

namespace http {
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

namespace {

/// While the socket buffer is full: how often the subscriptions' windows
/// are looked at (they skip ahead, and a client that stays behind ends).
constexpr auto kBehindCheck = 1s;
/// A slow consumer cannot read what is left anyway: close soon.
constexpr auto kSlowCloseGrace = 5s;
/// ... and a slow client still reading gets up to this much in all.
constexpr auto kSlowCloseMax = 60s;
/// Reading rounds per pump: after them, what is left waits for the next
/// wake-up or write completion, so one busy connection cannot hold its loop.
constexpr int kMaxRounds = 4;

} // namespace

void WsConnection::count_sent(std::size_t messages) {
  if (messages > 0) state_->ws_stats.messages_sent(messages);
}

void WsConnection::send(std::string message) {
  if (phase_ != Phase::open) return;
  auto& out = socket_buffer();
  const bool busy = out.buffered() > 0;
  append_ws_text(out.buffer(), message);
  count_sent(1);
  if (busy && ++queued_control_ > kMaxQueuedControl) {
    slow_consumer("");
    return;
  }
  out.flush();
  if (out.buffered() == 0) queued_control_ = 0;
}

void WsConnection::on_sub_advanced() {
  if (phase_ == Phase::open && socket_buffer().has_room()) pump();
}

void WsConnection::pump() {
  if (phase_ != Phase::open) return;
  auto& out = socket_buffer();
  const auto now = std::chrono::steady_clock::now();
  std::size_t messages = 0;
  std::vector<std::shared_ptr<WsSubscription>> finished;
  std::string slow;
  bool behind = false;
  for (int round = 0; round < kMaxRounds && out.has_room() && slow.empty(); ++round) {
    bool more = false;
    for (const auto& [rid, sub] : subs_) {
      if (!sub->active()) continue;
      auto& client = sub->client();
      sub->read(out.buffer(), out.high_water(), now);
      messages += sub->take_messages();
      // The oldest live tick not yet written, for the delivery latency.
      if (const auto r = client.take_oldest_received();
          r != 0 && (written_received_ns_ == 0 || r < written_received_ns_))
        written_received_ns_ = r;
      if (client.finished()) {
        finished.push_back(sub);
        continue;
      }
      if (client.slow(now)) {
        slow = rid;
        break;
      }
      if (!client.at_head()) more = true;
      if (!out.has_room()) break;
    }
    out.flush();
    if (!more) break;
  }
  count_sent(messages);
  for (const auto& sub : finished) finish_sub(sub);
  if (!slow.empty()) {
    slow_consumer(slow);
    return;
  }
  if (phase_ != Phase::open) return;
  if (out.buffered() == 0) {
    observe_delivery(std::exchange(written_received_ns_, 0));
    queued_control_ = 0;
    // Everything read went out: a subscription at its log's head is not
    // behind.
    for (const auto& [rid, sub] : subs_)
      if (sub->active() && sub->client().at_head()) sub->client().caught_up();
  }
  for (const auto& [rid, sub] : subs_) behind = behind || (sub->active() && sub->client().behind());
  if (!out.has_room() || behind) arm_behind_check();
}

void WsConnection::on_flushed(boost::system::error_code ec) {
  if (ec) {
    terminate("write: " + ec.message());
    return;
  }
  if (socket_buffer().buffered() == 0) {
    observe_delivery(std::exchange(written_received_ns_, 0));
    queued_control_ = 0;
  }
  pump();
}

void WsConnection::arm_behind_check() {
  if (behind_check_armed_) return;
  behind_check_armed_ = true;
  behind_timer_.expires_after(kBehindCheck);
  behind_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_behind_check(ec); });
}

void WsConnection::on_behind_check(boost::system::error_code ec) {
  behind_check_armed_ = false;
  if (ec || phase_ != Phase::open) return;
  auto& out = socket_buffer();
  const auto now = std::chrono::steady_clock::now();
  std::size_t messages = 0;
  for (const auto& [rid, sub] : subs_) {
    if (!sub->active()) continue;
    auto& client = sub->client();
    // The socket took nothing for a while: the log ran on. Skip ahead now
    // (counted, announced), and end a client that stays behind.
    if (!out.has_room() && !sub->in_history()) client.skip_if_behind(now);
    messages += sub->take_messages();
    if (client.slow(now)) {
      count_sent(messages);
      const std::string slow = rid; // slow_consumer() forgets the subscriptions
      slow_consumer(slow);
      return;
    }
  }
  count_sent(messages);
  pump(); // re-arms the check while still behind
}

void WsConnection::slow_consumer(const std::string& request_id) {
  if (phase_ != Phase::open) return;
  spdlog::warn("websocket {} {}: slow consumer (behind for {} s), closing 1008", upgrade_.remote,
               upgrade_.path, state_->config.slow_consumer_seconds);
  // What its subscriptions will never read now counts as dropped; they
  // leave the Hub at once.
  std::string discard;
  const auto subs = subs_;
  for (const auto& [rid, sub] : subs) {
    if (sub->active()) sub->client().end_slow(discard);
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    forget(sub);
  }
  ws::ErrorTarget target;
  if (!request_id.empty()) target.request_id = request_id;
  // Appended as is: send() would count it as one more unread message.
  append_ws_text(socket_buffer().buffer(),
                 ws::error_message(stream::iso_now(), target, "SLOW_CONSUMER",
                                   "The client did not read fast enough: the connection is closed",
                                   "Read messages continuously, subscribe to fewer or quieter "
                                   "streams, or use a limit"));
  count_sent(1);
  socket_buffer().flush();
  close_with(static_cast<std::uint16_t>(websocket::close_code::policy_error), "slow consumer");
  force_close_after(kSlowCloseGrace, kSlowCloseMax);
}

} // namespace http
