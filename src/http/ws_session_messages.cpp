// WsSession: the client messages of api.md §5 and the subscriptions they
// open (see ws_session_impl.hpp for the write contract).
#include "http/endpoint_json.hpp"
#include "http/ws_session_impl.hpp"
#include "stream/json_text.hpp"
#include "stream/tick_json.hpp"
#include "ws/message_validator.hpp"
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

std::string_view endpoint_name(WsEndpoint e) {
  switch (e) {
  case WsEndpoint::stream: return "/ws/stream/{contract_id}/{tick_type}";
  case WsEndpoint::multi: return "/ws/stream/{contract_id}/multi";
  case WsEndpoint::control: return "/ws/control";
  }
  return "";
}

} // namespace

void WsSession::handle_text(std::string_view text) {
  auto result = ws::MessageValidator::shared().validate(text);
  if (const auto* err = std::get_if<ws::ValidationError>(&result)) {
    state_->ws_stats.invalid_message();
    send(ws::invalid_message_error(stream::iso_now(), *err));
    // A client that keeps sending garbage is broken: stop answering it.
    if (++invalid_in_a_row_ >= kMaxInvalidInARow)
      close_with(4000, "too many invalid messages in a row");
    return;
  }
  invalid_in_a_row_ = 0;
  std::visit([this](const auto& m) { handle(m); }, std::get<ws::ClientMessage>(result));
}

bool WsSession::accepts_subscribe(const std::string& id) {
  if (upgrade_.endpoint != WsEndpoint::stream) return true;
  send(ws::error_message(stream::iso_now(), {id, std::nullopt}, "INVALID_MESSAGE",
                         "subscribe and multi_subscribe are accepted on "
                         "/ws/stream/{contract_id}/multi and /ws/control, not on " +
                             std::string(endpoint_name(upgrade_.endpoint)),
                         "This connection streams the contract and tick type of its path"));
  return false;
}

void WsSession::handle(const ws::Subscribe& m) {
  if (!accepts_subscribe(m.id)) return;
  open_subscriptions(m.id, false, m.contract_id, {m.tick_type}, m.limit, m.timeout);
}

void WsSession::handle(const ws::MultiSubscribe& m) {
  if (!accepts_subscribe(m.id)) return;
  open_subscriptions(m.id, true, m.contract_id, m.tick_types, m.limit, m.timeout);
}

void WsSession::handle(const ws::Unsubscribe& m) {
  auto it = subs_.find(m.request_id);
  if (it == subs_.end() || !it->second->active()) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "No subscription with request_id '" +
                               stream::truncate_utf8(m.request_id, 128) + "' on this connection",
                           "Use a request_id from `subscribed` or `multi_subscribed`"));
    return;
  }
  auto sub = it->second;
  sub->timeout_timer().cancel();
  leave_hub(*sub);
  forget(sub);
  send(ws::unsubscribed_message(stream::iso_now(), m.id, sub->request_id()));
  if (sub->params().from_path) close_with(1000, "unsubscribed");
}

void WsSession::handle(const ws::UnsubscribeAll& m) {
  // Subscriptions still being opened are not counted: they are answered
  // (`subscribed`) as usual, after this reply.
  std::vector<std::shared_ptr<WsSubscription>> active;
  for (const auto& [rid, sub] : subs_)
    if (sub->active()) active.push_back(sub);
  bool path = false;
  for (const auto& sub : active) {
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    forget(sub);
    path = path || sub->params().from_path;
  }
  send(ws::unsubscribed_all_message(stream::iso_now(), m.id, active.size()));
  if (path) close_with(1000, "unsubscribed");
}

void WsSession::handle(const ws::Ping& m) {
  send(ws::pong_message(stream::iso_now(), m.id, m.timestamp));
}

void WsSession::handle(const ws::GetStats& m) {
  if (upgrade_.endpoint != WsEndpoint::control) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "get_stats is accepted on /ws/control only",
                           "Connect to /ws/control, or GET /ws/stats"));
    return;
  }
  send(ws::stats_message(stream::iso_now(), m.id,
                         ws_stats_json(state_->ws_stats.snapshot(), state_->ws_connections.counts(),
                                       state_->ws_limits)));
}

void WsSession::handle(const ws::ListStreams& m) {
  if (upgrade_.endpoint != WsEndpoint::control) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "list_streams is accepted on /ws/control only",
                           "Connect to /ws/control, or GET /stream/active"));
    return;
  }
  state_->hub->snapshot([self = shared_from_this(), id = m.id](stream::HubSnapshot s) {
    asio::post(self->executor_, [self, id, s = std::move(s)] {
      self->send(ws::streams_message(stream::iso_now(), id, active_json(s)));
    });
  });
}

void WsSession::open_subscriptions(std::optional<std::string> id, bool multi, int con_id,
                                   const std::vector<tws::TickType>& types,
                                   std::optional<int> limit, std::optional<int> timeout) {
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
    WsSubscription::Params p{new_request_id(),       con_id, type, limit, timeout_s, !pending->id,
                             deflate_ && raw_frames_};
    auto sub = std::make_shared<WsSubscription>(executor_, weak_from_this(), state_->ws_ticks, p);
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
    state_->hub->open(std::move(req), sub,
                      [self = shared_from_this(), pending, sub](stream::OpenResult r) {
                        asio::post(self->executor_, [self, pending, sub, r = std::move(r)] {
                          self->on_opened(pending, sub, std::move(r));
                        });
                      });
  }
}

void WsSession::on_opened(const std::shared_ptr<PendingOpen>& pending,
                          const std::shared_ptr<WsSubscription>& sub, stream::OpenResult r) {
  if (r.error) {
    if (!pending->error) pending->error = r.error;
  } else {
    sub->opened(r);
    if (terminated_ || sub->finished()) leave_hub(*sub); // the client went meanwhile
  }
  if (--pending->waiting > 0) return;
  answer(pending);
}

void WsSession::answer(const std::shared_ptr<PendingOpen>& pending) {
  if (terminated_) return;
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
  if (closing_) return; // shutdown or a close meanwhile: forget() has run
  // Active and counted before the answer is queued: a client that has read
  // `subscribed` finds the subscription in get_stats and GET /ws/stats.
  for (const auto& sub : pending->subs) {
    if (sub->finished()) continue; // the Hub ended it before the answer
    sub->activate();
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
  for (const auto& sub : pending->subs) {
    if (!sub->active()) { // the Hub ended it before the answer
      send(complete_of(*sub, "stopped"));
      forget(sub);
      continue;
    }
    for (auto& early : sub->take_early()) {
      if (sub->finished() || closing_) break; // e.g. its limit reached
      queue_tick(sub, std::move(early));
    }
    if (sub->finished()) continue;
    sub->timeout_timer().expires_after(std::chrono::seconds(sub->params().timeout_seconds));
    sub->timeout_timer().async_wait([self = shared_from_this(), sub](boost::system::error_code ec) {
      self->on_sub_timeout(sub, ec);
    });
  }
}

// Subscription events, on our strand.

void WsSession::on_sub_tick(const std::shared_ptr<WsSubscription>& sub, WsTick tick) {
  if (terminated_ || closing_ || sub->finished()) return;
  if (!sub->active()) {
    // Before `subscribed` the client does not know the request_id yet:
    // held, and queued right after the answer (no tick is lost).
    sub->hold_early(std::move(tick), static_cast<std::size_t>(state_->config.buffer_size));
    return;
  }
  queue_tick(sub, std::move(tick));
}

void WsSession::on_sub_notice(const std::shared_ptr<WsSubscription>& sub, const stream::Notice& n) {
  if (terminated_ || sub->finished() || !sub->is_open()) return;
  if (n.kind == stream::Notice::Kind::error && n.code == "TWS_DISCONNECTED")
    update_tws_state(sub, true);
  else if (n.kind == stream::Notice::Kind::info && n.code == "reconnected")
    update_tws_state(sub, false);
  if (!sub->active()) return;
  const auto now = stream::iso_now();
  if (n.kind == stream::Notice::Kind::info) {
    std::string extra;
    if (!n.details.empty()) {
      extra = "\"details\":";
      stream::append_json_utf8(extra, n.details);
    }
    send(ws::info_message(now, sub->request_id(), n.code, n.message, extra));
  } else {
    send(ws::error_message(now, {std::nullopt, sub->request_id()}, n.code, n.message, n.details));
  }
}

void WsSession::on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                           const std::optional<stream::Notice>& why) {
  if (terminated_ || sub->finished()) return;
  if (reason == stream::EndReason::shutdown) {
    shutdown_now(); // the whole connection ends: close 1001
    return;
  }
  if (!sub->active()) { // not answered yet: answer() tells the client
    sub->set_finished();
    return;
  }
  if (reason == stream::EndReason::failed) {
    const auto now = stream::iso_now();
    finish_sub(sub,
               why ? ws::error_message(now, {std::nullopt, sub->request_id()}, why->code,
                                       why->message, why->details)
                   : ws::error_message(now, {std::nullopt, sub->request_id()}, "INTERNAL_ERROR",
                                       "The upstream subscription failed", "Subscribe again"));
    return;
  }
  finish_sub(sub, complete_of(*sub, reason_name(reason)));
}

void WsSession::on_sub_timeout(const std::shared_ptr<WsSubscription>& sub,
                               boost::system::error_code ec) {
  if (ec || terminated_ || sub->finished()) return;
  finish_sub(sub, complete_of(*sub, "timeout"));
}

void WsSession::finish_sub(const std::shared_ptr<WsSubscription>& sub, std::string last_message) {
  sub->timeout_timer().cancel();
  send(std::move(last_message));
  leave_hub(*sub);
  forget(sub);
  spdlog::debug("websocket {} {} ({}:{}) ended: {} ticks sent, {} dropped", upgrade_.remote,
                sub->request_id(), sub->params().con_id, tws::to_string(sub->params().tick_type),
                sub->ticks_sent(), sub->dropped());
  // The path's stream is the connection's purpose: like SSE, it ends with it.
  if (sub->params().from_path) close_with(1000, "stream complete");
}

void WsSession::leave_hub(WsSubscription& sub) {
  if (!sub.in_hub()) return;
  sub.set_in_hub(false);
  state_->hub->close(sub.stream_id());
}

void WsSession::forget(const std::shared_ptr<WsSubscription>& sub) {
  const bool was_active = sub->active() && !sub->finished();
  sub->set_finished();
  subs_.erase(sub->request_id());
  if (was_active) state_->ws_stats.subscriptions_removed();
  update_tws_state(sub, false);
}

void WsSession::update_tws_state(const std::shared_ptr<WsSubscription>& sub, bool down) {
  if (sub->tws_down() == down) return;
  sub->set_tws_down(down);
  if (down) {
    if (++tws_down_ == 1) arm_tws_grace();
  } else if (--tws_down_ == 0) {
    tws_grace_timer_.cancel();
  }
}

std::string WsSession::new_request_id() {
  return "req-" + std::to_string(++state_->next_ws_request);
}

std::string WsSession::complete_of(const WsSubscription& sub, std::string_view reason) const {
  return ws::complete_message(stream::iso_now(), sub.request_id(), reason, sub.total_ticks(),
                              sub.duration_seconds());
}

} // namespace http
