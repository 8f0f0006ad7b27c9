// WsConnection, subscriptions: opening them at the Hub (all or nothing for
// a multi_subscribe), answering `subscribed` / `multi_subscribed`, their
// timeouts and ends, and the TWS state the connection closes on (see
// ws_connection.hpp for the other roles).
#include "http/event_loops.hpp"
#include "http/ws_connection.hpp"
#include "stream/json_text.hpp"
#include "stream/tick_json.hpp"
#include "ws/ws_limits.hpp"
#include "ws/ws_messages.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace http {
namespace asio = boost::asio;

namespace {

std::string_view reason_name(stream::EndReason r) {
  switch (r) {
  case stream::EndReason::stopped: return "stopped";
  case stream::EndReason::shutdown: return "shutdown";
  case stream::EndReason::failed: return "failed";
  }
  return "stopped";
}

/// The WebSocket error code of a Hub refusal (api.md §5 list): 503 is
/// CONNECTION_ERROR; TWS_ERROR_<n> refusals keep their code, as after a
/// stream started.
std::string ws_error_code(const stream::OpenError& e) {
  switch (e.status) {
  case 404: return "CONTRACT_NOT_FOUND";
  case 429: return "RATE_LIMIT_EXCEEDED";
  case 503: return "CONNECTION_ERROR";
  case 500: return "INTERNAL_ERROR";
  default: return e.code.empty() ? "INTERNAL_ERROR" : e.code;
  }
}

/// How the connect-time subscription's connection closes when it is refused.
std::uint16_t close_code_of(const stream::OpenError& e) {
  switch (e.status) {
  case 404: return 4002; // no such contract: the path is wrong
  case 429: return 1008;
  case 503: return 4003; // TWS not reachable
  default: return 1011;
  }
}

} // namespace

void WsConnection::open_subscriptions(std::optional<std::string> id, bool multi, int con_id,
                                      const std::vector<tws::TickType>& types,
                                      std::optional<int> limit, std::optional<int> timeout,
                                      std::optional<std::int64_t> since_ms) {
  if (auto refused = ws::check_subscription_limit(
          subs_.size(), types.size(), state_->ws_limits.max_subscriptions_per_connection)) {
    send(ws::error_message(stream::iso_now(), {id, std::nullopt}, "RATE_LIMIT_EXCEEDED", *refused,
                           "Unsubscribe first, or open another connection"));
    return;
  }
  auto pending = std::make_shared<PendingOpen>();
  pending->id = std::move(id);
  pending->multi = multi;
  pending->con_id = con_id;
  pending->waiting = types.size();
  const int timeout_s = timeout.value_or(state_->config.stream_timeout);
  for (const auto type : types) {
    WsSubscription::Params p;
    p.request_id = new_request_id();
    p.con_id = con_id;
    p.tick_type = type;
    p.limit = limit;
    p.timeout_seconds = timeout_s;
    p.from_path = !pending->id;
    p.deflate = deflate_;
    p.window = static_cast<std::size_t>(state_->config.buffer_size);
    p.slow_after = std::chrono::seconds(state_->config.slow_consumer_seconds);
    p.since_ms = since_ms;
    auto sub = std::make_shared<WsSubscription>(executor_, weak_from_this(), p);
    subs_.emplace(p.request_id, sub);
    pending->subs.push_back(std::move(sub));
  }
  for (const auto& sub : pending->subs) {
    stream::OpenRequest req;
    req.con_id = con_id;
    req.tick_type = sub->params().tick_type;
    req.transport = "ws";
    req.remote = upgrade_.remote;
    req.limit = limit;
    req.timeout_seconds = timeout_s;
    req.loop = &event_loop_of(executor_);
    state_->hub->open(std::move(req), sub,
                      [self = shared_from_this(), pending, sub](stream::OpenResult r) {
                        asio::post(self->executor_, [self, pending, sub, r = std::move(r)] {
                          self->on_opened(pending, sub, std::move(r));
                        });
                      });
  }
}

void WsConnection::on_opened(const std::shared_ptr<PendingOpen>& pending,
                             const std::shared_ptr<WsSubscription>& sub, stream::OpenResult r) {
  if (r.error) {
    if (!pending->error) pending->error = r.error;
  } else {
    sub->opened(r);
    if (phase_ == Phase::closed || sub->finished()) leave_hub(*sub); // the client went meanwhile
  }
  if (--pending->waiting > 0) return;
  answer(pending);
}

void WsConnection::answer(const std::shared_ptr<PendingOpen>& pending) {
  if (phase_ == Phase::closed) return;
  const auto now = stream::iso_now();
  if (pending->error) {
    // All or nothing: a multi_subscribe with one refused tick type opens none.
    for (const auto& sub : pending->subs) {
      leave_hub(*sub);
      forget(sub);
    }
    const auto& e = *pending->error;
    std::string details = e.details;
    if (e.retry_after_s > 0)
      details += (details.empty() ? "" : " ") + std::string("Retry after ") +
                 std::to_string(e.retry_after_s) + " s.";
    send(ws::error_message(now, {pending->id, std::nullopt}, ws_error_code(e), e.message, details));
    if (!pending->id) close_with(close_code_of(e), stream::truncate_utf8(e.message, 100));
    return;
  }
  if (phase_ != Phase::open) return; // shutdown or a close meanwhile: forget() has run
  // Active and counted before the answer is sent: a client that has read
  // `subscribed` finds the subscription in get_stats and GET /ws/stats.
  std::vector<std::shared_ptr<WsSubscription>> ended; // by the Hub before the answer
  for (const auto& sub : pending->subs) {
    if (sub->finished()) {
      ended.push_back(sub);
      continue;
    }
    sub->activate(state_); // reads its log from where the open placed it (or the record first)
    state_->ws_stats.subscriptions_added();
  }
  const auto& first = pending->subs.front();
  if (pending->multi) {
    std::vector<ws::SubscriptionRef> refs;
    for (const auto& sub : pending->subs)
      refs.push_back({sub->request_id(), sub->params().tick_type});
    send(ws::multi_subscribed_message(now, *pending->id, pending->con_id, refs));
  } else {
    std::string msg =
        ws::subscribed_message(now, pending->id.value_or(""), first->request_id(), pending->con_id,
                               first->params().tick_type, first->contract());
    // The path's own subscription answers no client message: no `id`.
    constexpr std::string_view kNoId = R"(,"id":"")";
    if (!pending->id && msg.find(kNoId) != std::string::npos)
      msg.erase(msg.find(kNoId), kNoId.size());
    send(std::move(msg));
  }
  for (const auto& sub : ended) {
    send(ws::complete_message(stream::iso_now(), sub->request_id(), "stopped", 0, 0.0));
    forget(sub);
  }
  for (const auto& sub : pending->subs) {
    if (!sub->active()) continue;
    sub->timeout_timer().expires_after(std::chrono::seconds(sub->params().timeout_seconds));
    sub->timeout_timer().async_wait([self = shared_from_this(), sub](boost::system::error_code ec) {
      self->on_sub_timeout(sub, ec);
    });
  }
  pump(); // what their logs got since the open
}

// Subscription events, on our loop.

void WsConnection::on_sub_tws(const std::shared_ptr<WsSubscription>& sub, bool down) {
  update_tws_state(sub, down);
}

void WsConnection::on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                              const std::optional<stream::Notice>& why) {
  if (phase_ == Phase::closed || sub->finished()) return;
  if (reason == stream::EndReason::shutdown) {
    shutdown_now(); // the whole connection ends: close 1001
    return;
  }
  if (!sub->active()) { // not answered yet: answer() tells the client
    sub->set_finished();
    return;
  }
  if (phase_ != Phase::open) return;
  auto& out = socket_buffer();
  auto& client = sub->client();
  // What its log got before the end still goes out first.
  client.read(out.buffer(), out.buffer().size() + out.high_water(),
              std::chrono::steady_clock::now());
  if (reason == stream::EndReason::failed) {
    if (why) client.fail(out.buffer(), why->code, why->message, why->details);
    else
      client.fail(out.buffer(), "INTERNAL_ERROR", "The upstream subscription failed",
                  "Subscribe again");
  } else {
    client.finish(out.buffer(), reason_name(reason));
  }
  count_sent(sub->take_messages());
  out.flush();
  finish_sub(sub);
}

void WsConnection::on_sub_timeout(const std::shared_ptr<WsSubscription>& sub,
                                  boost::system::error_code ec) {
  if (ec || phase_ != Phase::open || !sub->active()) return;
  complete_sub(sub, "timeout");
}

void WsConnection::complete_sub(const std::shared_ptr<WsSubscription>& sub, std::string_view reason,
                                bool close_path) {
  if (phase_ != Phase::open) return;
  auto& out = socket_buffer();
  sub->client().finish(out.buffer(), reason);
  count_sent(sub->take_messages());
  out.flush();
  finish_sub(sub, close_path);
}

void WsConnection::finish_sub(const std::shared_ptr<WsSubscription>& sub, bool close_path) {
  sub->timeout_timer().cancel();
  leave_hub(*sub);
  forget(sub);
  spdlog::debug("websocket {} {} ({}:{}) ended: {} ticks sent, {} dropped", upgrade_.remote,
                sub->request_id(), sub->params().con_id, tws::to_string(sub->params().tick_type),
                sub->client().ticks_sent(), sub->client().dropped());
  if (sub->params().from_path && close_path) close_with(1000, "stream complete");
}

void WsConnection::leave_hub(WsSubscription& sub) {
  if (!sub.in_hub()) return;
  sub.set_in_hub(false);
  state_->hub->close(sub.stream_id());
}

void WsConnection::forget(const std::shared_ptr<WsSubscription>& sub) {
  const bool was_active = sub->active();
  sub->set_finished();
  subs_.erase(sub->request_id());
  if (was_active) state_->ws_stats.subscriptions_removed();
  update_tws_state(sub, false);
}

void WsConnection::update_tws_state(const std::shared_ptr<WsSubscription>& sub, bool down) {
  if (sub->tws_down() == down) return;
  sub->set_tws_down(down);
  if (down) {
    if (++tws_down_ == 1) arm_tws_grace();
  } else if (--tws_down_ == 0) {
    tws_grace_timer_.cancel();
  }
}

std::string WsConnection::new_request_id() {
  return "req-" + std::to_string(++state_->next_ws_request);
}

} // namespace http
